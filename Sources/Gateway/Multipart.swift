import Foundation
import HTTPTypes
import Hummingbird
import MultipartKit
import NIOCore

/// A parsed `multipart/form-data` body: parts by field name (the last one wins).
struct MultipartForm {
    struct Part {
        var name: String
        var filename: String?
        var contentType: String?
        var data: [UInt8]
    }

    var parts: [String: Part] = [:]

    subscript(_ name: String) -> Part? { parts[name] }

    /// A text field, decoded as UTF-8 (a field that is not valid UTF-8, or holds a NUL
    /// character, is a 400).
    func text(_ name: String) throws -> String? {
        guard let part = parts[name] else { return nil }
        guard let text = String(validating: part.data, as: UTF8.self) else {
            throw APIError.badRequest("\(name) must be UTF-8 text")
        }
        guard !part.data.contains(0) else { throw APIError.badRequest("\(name) must not contain NUL characters") }
        return text
    }

    /// Reads and parses the body. 415 when it is not multipart/form-data with a boundary, 413
    /// past `limit`, 400 when malformed.
    static func read(_ request: Request, limit: Int) async throws -> MultipartForm {
        let boundary = try boundary(of: request)
        return try parse(try await collectBody(request, limit: limit), boundary: boundary)
    }

    /// The boundary of a multipart/form-data request; 415 when it is something else.
    static func boundary(of request: Request) throws -> String {
        guard let type = request.headers[.contentType], type.lowercased().hasPrefix("multipart/form-data"),
              let boundary = boundary(in: type)
        else {
            throw APIError(status: .unsupportedMediaType, code: "unsupported_media_type",
                           message: "Content-Type must be multipart/form-data with an `image` part")
        }
        return boundary
    }

    /// Parses a collected body; 400 when malformed.
    static func parse(_ buffer: ByteBuffer, boundary: String) throws -> MultipartForm {
        var form = MultipartForm()
        var headers: [(String, String)] = []
        // A part's body arrives in chunks (views of `buffer`); they are joined once, into an
        // array of exactly the part's size, rather than grown chunk by chunk (which copied a
        // 1 MiB image about twice and held up to twice its size).
        var chunks: [ByteBuffer] = []
        let parser = MultipartParser(boundary: boundary)
        parser.onHeader = { name, value in headers.append((name.lowercased(), value)) }
        parser.onBody = { chunk in chunks.append(chunk) }
        parser.onPartComplete = {
            let disposition = headers.first { $0.0 == "content-disposition" }?.1 ?? ""
            if let name = parameter("name", in: disposition) {
                var data: [UInt8] = []
                data.reserveCapacity(chunks.reduce(0) { $0 + $1.readableBytes })
                for chunk in chunks { data.append(contentsOf: chunk.readableBytesView) }
                form.parts[name] = Part(
                    name: name, filename: parameter("filename", in: disposition),
                    contentType: headers.first { $0.0 == "content-type" }?.1, data: data)
            }
            headers.removeAll()
            chunks.removeAll()
        }
        do {
            try parser.execute(buffer)
        } catch {
            throw APIError.badRequest("Malformed multipart body")
        }
        if form.parts.isEmpty && buffer.readableBytes > 0 {
            throw APIError.badRequest("Malformed multipart body: no parts found")
        }
        return form
    }

    static func boundary(in contentType: String) -> String? {
        parameter("boundary", in: contentType)
    }

    /// A `key=value` or `key="value"` parameter of a header value.
    static func parameter(_ key: String, in header: String) -> String? {
        for piece in header.split(separator: ";").dropFirst() {
            let pair = piece.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].trimmingCharacters(in: .whitespaces).lowercased() == key else { continue }
            var value = pair[1].trimmingCharacters(in: .whitespaces)
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            return value.isEmpty ? nil : value
        }
        return nil
    }
}
