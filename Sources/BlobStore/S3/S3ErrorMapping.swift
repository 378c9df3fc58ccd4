import HTTPClient

/// S3's error document, `<Error><Code>…</Code><Message>…</Message><RequestId>…</RequestId></Error>`.
struct S3ErrorBody: Equatable {
    var code: String
    var message: String
    var requestID: String

    init?(_ body: [UInt8]) {
        guard !body.isEmpty, let root = XMLElement.parse(body), root.name == "Error",
              let code = root.child("Code")?.text, !code.isEmpty
        else { return nil }
        self.code = code
        message = root.child("Message")?.text ?? ""
        requestID = root.child("RequestId")?.text ?? ""
    }
}

enum S3ErrorMapping {
    /// S3 codes that mean our credentials or permissions are wrong.
    static let deniedCodes: Set<String> = [
        "AccessDenied", "SignatureDoesNotMatch", "InvalidAccessKeyId", "InvalidToken", "ExpiredToken",
        "TokenRefreshRequired", "AuthorizationHeaderMalformed", "RequestTimeTooSkewed", "AccountProblem",
        "InvalidClientTokenId",
    ]

    /// The ``BlobStoreError`` for an answer that was not a success. `what` names the operation and
    /// object for the log detail (never credentials: the request's headers are not included).
    static func error(status: Int, body: [UInt8], what: String) -> BlobStoreError {
        let parsed = S3ErrorBody(body)
        var detail = "S3 \(what): HTTP \(status)"
        if let parsed {
            detail += " \(parsed.code)"
            if !parsed.message.isEmpty { detail += ": \(parsed.message.prefix(300))" }
            if !parsed.requestID.isEmpty { detail += " (request id \(parsed.requestID))" }
        }
        let kind: BlobStoreError.Kind
        switch (parsed?.code, status) {
        case ("NoSuchKey", _): kind = .notFound
        case ("NoSuchBucket", _): kind = .unavailable
        case (let code?, _) where deniedCodes.contains(code): kind = .denied
        case (_, 404): kind = .notFound
        case (_, 401), (_, 403): kind = .denied
        case (_, 500...): kind = .unavailable
        // 3xx: the bucket lives in another region or behind another endpoint.
        case (_, 300..<400): kind = .unavailable
        default: kind = .internal
        }
        return BlobStoreError(kind, detail: detail)
    }

    /// The detail for a transport failure.
    static func describe(_ error: HTTPClientError) -> String {
        switch error {
        case .cannotConnect(let detail): "cannot connect: \(detail)"
        case .timedOut: "timed out"
        case .responseTooLarge(let limit): "response larger than \(limit) bytes"
        case .transport(let detail): "transport error: \(detail)"
        }
    }
}
