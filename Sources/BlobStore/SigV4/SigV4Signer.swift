import OpenSSLCrypto

/// AWS credentials for signing. `description` never shows the secret or the session token.
public struct SigV4Credentials: Sendable, CustomStringConvertible {
    public var accessKeyID: String
    /// Secret: never log it.
    public var secretAccessKey: String
    /// The token of temporary credentials (STS), sent as `x-amz-security-token`.
    public var sessionToken: String?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    public var description: String { "SigV4Credentials(accessKeyID: \(accessKeyID), secret: <redacted>)" }
}

/// What a signature covers: method, host, the unencoded path and query, the headers to sign and
/// the payload's SHA-256 (hex) or ``SigV4Signer/unsignedPayload``.
public struct SigV4Request: Sendable {
    public var method: String
    /// `host` or `host:port`, exactly as the `Host` header will be sent.
    public var host: String
    /// The unencoded absolute path, e.g. `/bucket/images/a b.png`; the signer encodes each segment.
    public var path: String
    /// Unencoded query parameters; a bare `?lifecycle` is `("lifecycle", "")`.
    public var query: [(name: String, value: String)]
    /// Headers to sign besides `host` and the `x-amz-*` ones the signer adds (e.g. `Range`,
    /// `Content-Type`). The caller must send them unchanged.
    public var headers: [(name: String, value: String)]
    public var payloadHash: String

    public init(method: String, host: String, path: String, query: [(name: String, value: String)] = [],
                headers: [(name: String, value: String)] = [], payloadHash: String = SigV4Signer.emptyPayloadHash) {
        self.method = method
        self.host = host
        self.path = path
        self.query = query
        self.headers = headers
        self.payloadHash = payloadHash
    }
}

/// A header-signed request: the headers to send and, for tests and debugging, each step.
public struct SigV4SignedRequest: Sendable {
    public let canonicalRequest: String
    public let stringToSign: String
    /// Hex HMAC-SHA256 of the string to sign under the derived key.
    public let signature: String
    /// The `Authorization` header value.
    public let authorization: String
    /// Everything to send: `host`, the request's own headers, `x-amz-content-sha256`,
    /// `x-amz-date`, `x-amz-security-token` (with temporary credentials) and `authorization`.
    public let headers: [(name: String, value: String)]
}

/// A query-string-signed (presigned) request.
public struct SigV4PresignedRequest: Sendable {
    public let canonicalRequest: String
    public let stringToSign: String
    public let signature: String
    /// The encoded query, `X-Amz-Signature` last: append it to the encoded path after `?`.
    public let query: String
}

/// AWS Signature Version 4 (`AWS4-HMAC-SHA256`) with S3's rules: the path is encoded once (no
/// double encoding, no normalisation) and the payload hash is always signed in
/// `x-amz-content-sha256`.
///
/// Pure: no clock, no I/O; the caller passes the time. Thread-safe value type. Hashing and
/// HMAC go through `OpenSSLCrypto`.
public struct SigV4Signer: Sendable {
    /// The longest lifetime S3 accepts for a presigned URL: seven days.
    public static let maxPresignedExpiry = 604_800
    /// SHA-256 of the empty string.
    public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    /// The payload hash of presigned URLs.
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"
    static let algorithm = "AWS4-HMAC-SHA256"

    public let credentials: SigV4Credentials
    public let region: String
    public let service: String

    public init(credentials: SigV4Credentials, region: String, service: String = "s3") {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// Lower-case hex SHA-256 of `payload`, for ``SigV4Request/payloadHash``.
    public static func payloadHash(_ payload: [UInt8]) -> String {
        Crypto.hex(Crypto.sha256(payload))
    }

    /// `<date>/<region>/<service>/aws4_request`.
    public func credentialScope(_ time: SigV4Timestamp) -> String {
        "\(time.dateStamp)/\(region)/\(service)/aws4_request"
    }

    /// Signs with an `Authorization` header.
    public func sign(_ request: SigV4Request, at time: SigV4Timestamp) -> SigV4SignedRequest {
        var headers = [(name: "host", value: request.host)] + request.headers
        headers.append((name: "x-amz-content-sha256", value: request.payloadHash))
        headers.append((name: "x-amz-date", value: time.amzDate))
        if let token = credentials.sessionToken {
            headers.append((name: "x-amz-security-token", value: token))
        }
        let canonical = Self.canonicalHeaders(headers)
        let canonicalRequest = Self.canonicalRequest(
            method: request.method, path: request.path, query: request.query,
            canonicalHeaders: canonical.text, signedHeaders: canonical.signed, payloadHash: request.payloadHash)
        let stringToSign = stringToSign(canonicalRequest: canonicalRequest, at: time)
        let signature = Crypto.hex(Crypto.hmacSHA256(key: signingKey(dateStamp: time.dateStamp), Array(stringToSign.utf8)))
        let authorization = "\(Self.algorithm) Credential=\(credentials.accessKeyID)/\(credentialScope(time)),"
            + "SignedHeaders=\(canonical.signed),Signature=\(signature)"
        return SigV4SignedRequest(
            canonicalRequest: canonicalRequest, stringToSign: stringToSign, signature: signature,
            authorization: authorization, headers: headers + [(name: "authorization", value: authorization)])
    }

    /// Signs in the query string: anyone holding the URL can make this request, without
    /// credentials, until `expiresInSeconds` (1 through ``maxPresignedExpiry``; anything else is a
    /// programming error) past `time`. The payload is not signed.
    public func presign(_ request: SigV4Request, expiresInSeconds: Int, at time: SigV4Timestamp) -> SigV4PresignedRequest {
        precondition((1...Self.maxPresignedExpiry).contains(expiresInSeconds), "X-Amz-Expires must be 1...604800")
        let canonical = Self.canonicalHeaders([(name: "host", value: request.host)] + request.headers)
        var query = request.query
        query.append((name: "X-Amz-Algorithm", value: Self.algorithm))
        query.append((name: "X-Amz-Credential", value: "\(credentials.accessKeyID)/\(credentialScope(time))"))
        query.append((name: "X-Amz-Date", value: time.amzDate))
        query.append((name: "X-Amz-Expires", value: String(expiresInSeconds)))
        query.append((name: "X-Amz-SignedHeaders", value: canonical.signed))
        if let token = credentials.sessionToken {
            query.append((name: "X-Amz-Security-Token", value: token))
        }
        let canonicalRequest = Self.canonicalRequest(
            method: request.method, path: request.path, query: query,
            canonicalHeaders: canonical.text, signedHeaders: canonical.signed, payloadHash: Self.unsignedPayload)
        let stringToSign = stringToSign(canonicalRequest: canonicalRequest, at: time)
        let signature = Crypto.hex(Crypto.hmacSHA256(key: signingKey(dateStamp: time.dateStamp), Array(stringToSign.utf8)))
        return SigV4PresignedRequest(
            canonicalRequest: canonicalRequest, stringToSign: stringToSign, signature: signature,
            query: Self.canonicalQuery(query) + "&X-Amz-Signature=" + signature)
    }

    /// `AWS4-HMAC-SHA256`, the timestamp, the scope and the canonical request's SHA-256, one a line.
    public func stringToSign(canonicalRequest: String, at time: SigV4Timestamp) -> String {
        [Self.algorithm, time.amzDate, credentialScope(time), Crypto.hex(Crypto.sha256(Array(canonicalRequest.utf8)))]
            .joined(separator: "\n")
    }

    /// HMAC chain `"AWS4" + secret` → date → region → service → `aws4_request`.
    public func signingKey(dateStamp: String) -> [UInt8] {
        var key = Crypto.hmacSHA256(key: Array("AWS4\(credentials.secretAccessKey)".utf8), Array(dateStamp.utf8))
        for part in [region, service, "aws4_request"] {
            key = Crypto.hmacSHA256(key: key, Array(part.utf8))
        }
        return key
    }

    // MARK: Canonical forms

    /// The canonical request: method, encoded path, sorted encoded query, canonical headers
    /// (each line ending in a newline), signed header names, payload hash.
    public static func canonicalRequest(
        method: String, path: String, query: [(name: String, value: String)],
        canonicalHeaders: String, signedHeaders: String, payloadHash: String
    ) -> String {
        [method, encodePath(path), canonicalQuery(query), canonicalHeaders, signedHeaders, payloadHash]
            .joined(separator: "\n")
    }

    /// Lower-cased names, trimmed values with inner runs of spaces collapsed, sorted by name;
    /// repeated names joined with commas. Returns the header block and the `;`-joined names.
    public static func canonicalHeaders(_ headers: [(name: String, value: String)]) -> (text: String, signed: String) {
        var merged: [String: [String]] = [:]
        for (name, value) in headers {
            merged[name.lowercased(), default: []].append(normalise(value))
        }
        let names = merged.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        let text = names.map { "\($0):\(merged[$0]!.joined(separator: ","))\n" }.joined()
        return (text, names.joined(separator: ";"))
    }

    /// Each name and value encoded (``uriEncode(_:encodeSlash:)`` with slashes encoded), sorted
    /// by encoded name then value, joined with `&`; a parameter without value becomes `name=`.
    public static func canonicalQuery(_ query: [(name: String, value: String)]) -> String {
        query.map { (uriEncode($0.name, encodeSlash: true), uriEncode($0.value, encodeSlash: true)) }
            .sorted { lhs, rhs in
                lhs.0 == rhs.0
                    ? Array(lhs.1.utf8).lexicographicallyPrecedes(Array(rhs.1.utf8))
                    : Array(lhs.0.utf8).lexicographicallyPrecedes(Array(rhs.0.utf8))
            }
            .map { "\($0.0)=\($0.1)" }
            .joined(separator: "&")
    }

    /// The path with every segment encoded and the slashes kept: the form S3 signs and the form
    /// to put in the URL.
    public static func encodePath(_ path: String) -> String {
        path.isEmpty ? "/" : uriEncode(path, encodeSlash: false)
    }

    /// AWS's URI encoding: `A-Z a-z 0-9 - . _ ~` stay, every other UTF-8 byte becomes `%XX`
    /// (upper-case hex); `/` stays unless `encodeSlash`.
    public static func uriEncode(_ text: String, encodeSlash: Bool) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.append(byte)
            case UInt8(ascii: "/") where !encodeSlash:
                out.append(byte)
            default:
                out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Trims leading and trailing whitespace and collapses inner runs of spaces to one.
    private static func normalise(_ value: String) -> String {
        var out: [UInt8] = []
        var pendingSpace = false
        for byte in value.utf8 {
            if byte == 0x20 || byte == 0x09 {
                pendingSpace = !out.isEmpty
            } else {
                if pendingSpace { out.append(0x20) }
                pendingSpace = false
                out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
