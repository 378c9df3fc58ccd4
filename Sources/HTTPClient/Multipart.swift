internal import CCurl

/// One part of a `multipart/form-data` body, sent with
/// ``CurlHTTPClient/send(_:multipart:)``.
public struct HTTPMultipartPart: Sendable {
    /// The form field name (`Content-Disposition: form-data; name="..."`).
    public var name: String
    /// The part's bytes, sent as they are.
    public var body: [UInt8]
    /// A file name, which makes the part a file upload; `nil` for a plain field.
    public var filename: String?
    /// The part's `Content-Type`; `nil` sends none (a plain field) or lets curl guess from
    /// `filename`.
    public var contentType: String?

    public init(name: String, body: [UInt8], filename: String? = nil, contentType: String? = nil) {
        self.name = name
        self.body = body
        self.filename = filename
        self.contentType = contentType
    }

    /// A plain text field.
    public static func field(_ name: String, _ value: String) -> HTTPMultipartPart {
        HTTPMultipartPart(name: name, body: Array(value.utf8))
    }

    /// A file upload.
    public static func file(_ name: String, filename: String, contentType: String, body: [UInt8]) -> HTTPMultipartPart {
        HTTPMultipartPart(name: name, body: body, filename: filename, contentType: contentType)
    }
}

extension CurlHTTPClient {
    /// Sends `request` with a `multipart/form-data` body made of `parts`, through libcurl's MIME
    /// API: curl writes the boundary, the part headers and the request's `Content-Type`, so do
    /// not set `Content-Type` in `request.headers`; `request.body` is ignored. Otherwise as
    /// ``send(_:)``: the response whatever its status, ``HTTPClientError`` when none arrived,
    /// run on one of the client's threads within `request.timeout`.
    public func send(_ request: HTTPRequest, multipart parts: [HTTPMultipartPart]) async throws -> HTTPResponse {
        let limit = maxResponseBytes
        return try await withinTimeLimit(request) { request in try Self.perform(request, multipart: parts, maxResponseBytes: limit) }
    }

    /// A curl MIME structure holding copies of `parts`; the caller frees it with `curl_mime_free`.
    static func makeMIME(_ handle: UnsafeMutableRawPointer, parts: [HTTPMultipartPart]) throws -> OpaquePointer {
        guard let mime = curl_mime_init(handle) else { throw HTTPClientError.transport("curl_mime_init failed") }
        for part in parts {
            guard let mimePart = curl_mime_addpart(mime) else {
                curl_mime_free(mime)
                throw HTTPClientError.transport("curl_mime_addpart failed")
            }
            var result = curl_mime_name(mimePart, part.name)
            if result == CURLE_OK {
                // curl copies the data. An empty part still needs a non-null pointer (null
                // would mean "no data set").
                result = part.body.withUnsafeBufferPointer { bytes in
                    bytes.withMemoryRebound(to: CChar.self) { chars in
                        if let start = chars.baseAddress { return curl_mime_data(mimePart, start, chars.count) }
                        return "".withCString { curl_mime_data(mimePart, $0, 0) }
                    }
                }
            }
            if result == CURLE_OK, let filename = part.filename { result = curl_mime_filename(mimePart, filename) }
            if result == CURLE_OK, let contentType = part.contentType { result = curl_mime_type(mimePart, contentType) }
            guard result == CURLE_OK else {
                curl_mime_free(mime)
                throw HTTPClientError.transport("multipart part \(part.name): \(String(cString: curl_easy_strerror(result)))")
            }
        }
        return mime
    }
}
