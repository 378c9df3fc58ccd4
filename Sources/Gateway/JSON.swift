import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// A JSON object read from a request body, with typed field access whose failures name the field.
struct JSONObject {
    let fields: [String: Any]

    /// Reads the body (at most `limit` bytes: 413 past it) and parses it as one JSON object
    /// (400 naming the problem otherwise).
    static func read(_ request: Request, limit: Int) async throws -> JSONObject {
        let buffer = try await collectBody(request, limit: limit)
        guard buffer.readableBytes > 0 else { throw APIError.badRequest("Request body must be a JSON object") }
        let data = Data(buffer.readableBytesView)
        let type = request.headers[.contentType]?.lowercased() ?? "application/json"
        let looksLikeJSON = data.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }) == UInt8(ascii: "{")
        if type.hasPrefix("application/x-www-form-urlencoded") && !looksLikeJSON {
            // HTML forms and `curl -d a=b`, which Django REST framework also accepts.
            return JSONObject(fields: Self.formFields(data))
        }
        guard type.hasPrefix("application/json") || type.hasPrefix("application/x-www-form-urlencoded") || type.hasPrefix("text/plain") else {
            throw APIError(status: .unsupportedMediaType, code: "unsupported_media_type", message: "Content-Type must be application/json")
        }
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: data, options: [])
        } catch {
            throw APIError.badRequest("Malformed JSON: \(Self.describe(error))")
        }
        guard let object = parsed as? [String: Any] else { throw APIError.badRequest("Request body must be a JSON object") }
        return JSONObject(fields: object)
    }

    /// `a=b&c=d` with percent- and plus-decoding.
    static func formFields(_ data: Data) -> [String: Any] {
        var fields: [String: Any] = [:]
        for pair in String(decoding: data, as: UTF8.self).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) -> String {
                text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(text)
            }
            fields[decode(parts[0])] = parts.count > 1 ? decode(parts[1]) : ""
        }
        return fields
    }

    /// A string field; `nil` when absent or null. A present field of another type, or one
    /// holding a NUL character (which Django REST framework refuses too, and PostgreSQL cannot
    /// store), is a 400.
    func string(_ name: String) throws -> String? {
        guard let value = fields[name], !(value is NSNull) else { return nil }
        guard let text = value as? String else { throw APIError.badRequest("\(name) must be a string") }
        guard !text.utf8.contains(0) else { throw APIError.badRequest("\(name) must not contain NUL characters") }
        return text
    }

    /// A required string field.
    func requiredString(_ name: String) throws -> String {
        guard let text = try string(name), !text.isEmpty else { throw APIError.badRequest("\(name) is required") }
        return text
    }

    private static func describe(_ error: any Error) -> String {
        // Foundation's message names the position; keep it short and free of internals.
        let text = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "not valid JSON"
        return text.count > 200 ? String(text.prefix(200)) : text
    }
}

/// The whole request body, at most `limit` bytes; past it, 413 in the API's error shape.
/// With a `Content-Length`, the body is collected into a buffer of exactly that size (a
/// declared length over `limit` is refused before reading); without one, the buffer grows as
/// the body arrives (to the next power of two: up to twice the body).
func collectBody(_ request: Request, limit: Int) async throws -> ByteBuffer {
    var request = request
    do {
        if let declared = request.headers[.contentLength], let length = Int(declared), length >= 0 {
            guard length <= limit else { throw APIError.payloadTooLarge(limit: limit) }
            var buffer = ByteBufferAllocator().buffer(capacity: length)
            try await request.body.collect(upTo: limit, into: &buffer)
            return buffer
        }
        return try await request.collectBody(upTo: limit)
    } catch let error as HTTPError where error.status == .contentTooLarge {
        throw APIError.payloadTooLarge(limit: limit)
    } catch is NIOTooManyBytesError {
        throw APIError.payloadTooLarge(limit: limit)
    }
}

/// Builds JSON responses.
enum JSONResponse {
    /// `object` as the response body (see ``encode(_:)``).
    static func make(_ status: HTTPResponse.Status, _ object: [String: Any], headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: encode(object)))
    }

    /// A typed `value` as the response body (the image routes' bodies).
    static func make(_ status: HTTPResponse.Status, _ value: JSONValue, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: JSONWriter.encode(value))))
    }

    /// `object` as JSON text, keys sorted. Written by ``JSONWriter``; a value it does not
    /// support goes through `JSONSerialization` as before, and `{}` if that fails too.
    static func encode(_ object: [String: Any]) -> ByteBuffer {
        if let bytes = JSONWriter.encode(object) { return ByteBuffer(bytes: bytes) }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return ByteBuffer(bytes: data)
    }

    static func error(_ error: APIError, headers: HTTPFields = [:]) -> Response {
        make(error.status, ["error": error.message, "code": error.code], headers: headers)
    }
}
