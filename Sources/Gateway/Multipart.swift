import Foundation
#if canImport(Glibc)
import Glibc
#endif
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

    /// Whether every header name of every part is ASCII, checked wherever a part's headers could
    /// start: after each `--boundary` followed by CRLF (a superset of the places the parser
    /// accepts as delimiters). Each header line is checked up to its first `:` or CR; a CR not
    /// followed by LF, or a blank line, ends a block (the parser stops or moves to the body
    /// there). Values (e.g. a UTF-8 `filename`) are not restricted.
    static func partHeaderNamesAreASCII(_ buffer: ByteBuffer, boundary: String) -> Bool {
        let delimiter = Array("--\(boundary)\r\n".utf8)
        return buffer.withUnsafeReadableBytes { raw -> Bool in
            let bytes = raw.bindMemory(to: UInt8.self)
            let count = bytes.count
            var searchFrom = 0
            while searchFrom + delimiter.count <= count,
                  let found = memchr(raw.baseAddress! + searchFrom, Int32(delimiter[0]), count - searchFrom) {
                let start = raw.baseAddress!.distance(to: UnsafeRawPointer(found))
                searchFrom = start + 1
                guard start + delimiter.count <= count,
                      delimiter.withUnsafeBytes({ memcmp(found, $0.baseAddress!, delimiter.count) == 0 })
                else { continue }
                var index = start + delimiter.count
                searchFrom = index
                lines: while index < count {
                    if bytes[index] == UInt8(ascii: "\r") { break lines }  // blank line or parser error: block ends
                    // The name: up to ':' or CR.
                    while index < count, bytes[index] != UInt8(ascii: ":"), bytes[index] != UInt8(ascii: "\r") {
                        if bytes[index] >= 0x80 { return false }
                        index += 1
                    }
                    // The value: up to CR, which must be followed by LF.
                    while index < count, bytes[index] != UInt8(ascii: "\r") { index += 1 }
                    guard index + 1 < count, bytes[index + 1] == UInt8(ascii: "\n") else { break lines }
                    index += 2
                }
            }
            return true
        }
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
        // MultipartKit 4.7.1 traps (index out of range in `isAllowedHeaderFieldNameCharacter`,
        // a 128-entry table) on a part header name holding a byte >= 0x80: one request would
        // take the gateway down. Such bodies are refused before the parser sees them.
        guard partHeaderNamesAreASCII(buffer, boundary: boundary) else {
            throw APIError.badRequest("Malformed multipart body: a part header name is not ASCII")
        }
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
                // MultipartKit 4.7.1 cuts a binary body at every CR byte (~2,500 chunks for a
                // 0.6 MB image): copy each chunk as raw memory, not byte by byte through a view.
                for chunk in chunks { chunk.withUnsafeReadableBytes { data.append(contentsOf: $0) } }
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
