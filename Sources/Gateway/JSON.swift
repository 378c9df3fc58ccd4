import Foundation
import Hummingbird
import NIOCore

/// A JSON object read from a request body, with typed field access whose failures name the field.
struct JSONObject {
    let fields: [String: Any]

    /// Reads the body (at most `limit` bytes: 413 past it) and parses it as one JSON object
    /// (400 naming the problem otherwise).
    static func read(_ request: Request, limit: Int) async throws -> JSONObject {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: limit)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw APIError(status: .contentTooLarge, code: "payload_too_large", message: "Request body is larger than \(limit) bytes")
        }
        if let type = request.headers[.contentType], !type.lowercased().hasPrefix("application/json") {
            throw APIError(status: .unsupportedMediaType, code: "unsupported_media_type", message: "Content-Type must be application/json")
        }
        guard buffer.readableBytes > 0 else { throw APIError.badRequest("Request body must be a JSON object") }
        let data = Data(buffer.readableBytesView)
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: data, options: [])
        } catch {
            throw APIError.badRequest("Malformed JSON: \(Self.describe(error))")
        }
        guard let object = parsed as? [String: Any] else { throw APIError.badRequest("Request body must be a JSON object") }
        return JSONObject(fields: object)
    }

    /// A string field; `nil` when absent or null. A present field of another type is a 400.
    func string(_ name: String) throws -> String? {
        guard let value = fields[name], !(value is NSNull) else { return nil }
        guard let text = value as? String else { throw APIError.badRequest("\(name) must be a string") }
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

/// Builds JSON responses.
enum JSONResponse {
    static func make(_ status: HTTPResponse.Status, _ object: [String: Any], headers: HTTPFields = [:]) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        var headers = headers
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func error(_ error: APIError, headers: HTTPFields = [:]) -> Response {
        make(error.status, ["error": error.message, "code": error.code], headers: headers)
    }
}
