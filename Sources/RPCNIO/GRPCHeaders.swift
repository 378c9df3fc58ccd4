import HTTP2
import RPCCore

/// Conversions between gRPC concepts and HTTP/2 header fields, per PROTOCOL-HTTP2.
enum GRPCHeaders {
    static let contentType = "application/grpc"

    /// Custom metadata from a received header block: reserved and pseudo headers are left out,
    /// `-bin` values are base64-decoded (a value that does not decode is dropped).
    static func metadata(from headers: [HTTP2Header]) -> Metadata {
        var metadata = Metadata()
        for header in headers where !Metadata.isReserved(header.name) {
            if header.name.hasSuffix("-bin") {
                if header.value.isEmpty {
                    metadata.add(header.name, binary: [])
                    continue
                }
                // Several values may arrive comma-joined.
                for part in header.value.split(separator: ",", omittingEmptySubsequences: true) {
                    if let bytes = Base64.decode(part.trimmingASCIISpaces()) {
                        metadata.add(header.name, binary: bytes)
                    }
                }
            } else {
                metadata.add(header.name, header.value)
            }
        }
        return metadata
    }

    /// Header fields for custom metadata. Reserved keys are skipped; values with characters
    /// HTTP/2 cannot carry in a text header are skipped too, rather than corrupting the frame.
    /// Spaces at either end of a text value are dropped, as HTTP drops optional whitespace:
    /// HTTP/2 forbids them, and nghttp2 rejects the whole header block if one is there.
    static func appendFields(for metadata: Metadata, to headers: inout [HTTP2Header]) {
        for (key, value) in metadata where !Metadata.isReserved(key) && isValidKey(key) {
            switch value {
            case .binary(let bytes):
                headers.append(HTTP2Header(key, Base64.encode(bytes)))
            case .string(let text):
                if key.hasSuffix("-bin") {
                    headers.append(HTTP2Header(key, Base64.encode(Array(text.utf8))))
                } else if text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) {
                    headers.append(HTTP2Header(key, text[...].trimmingASCIISpaces()))
                }
            }
        }
    }

    static func isValidKey(_ key: String) -> Bool {
        !key.isEmpty && key.utf8.allSatisfy { byte in
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
        }
    }

    /// The status fields that end a call: `grpc-status`, `grpc-message` when there is one,
    /// and the error's metadata.
    static func appendStatus(_ error: RPCError?, to headers: inout [HTTP2Header]) {
        guard let error else {
            headers.append(HTTP2Header("grpc-status", "0"))
            return
        }
        headers.append(HTTP2Header("grpc-status", String(error.code.rawValue)))
        if !error.message.isEmpty {
            headers.append(HTTP2Header("grpc-message", GRPCMessageEncoding.encode(error.message)))
        }
        appendFields(for: error.metadata, to: &headers)
    }

    /// Whether a content type names gRPC: `application/grpc`, optionally `+codec` or `;params`.
    static func isGRPCContentType(_ value: String?) -> Bool {
        guard let value else { return false }
        guard value.hasPrefix(contentType) else { return false }
        let rest = value.dropFirst(contentType.count)
        return rest.isEmpty || rest.hasPrefix("+") || rest.hasPrefix(";")
    }
}

extension Substring {
    func trimmingASCIISpaces() -> String {
        var slice = self[...]
        while slice.first == " " { slice = slice.dropFirst() }
        while slice.last == " " { slice = slice.dropLast() }
        return String(slice)
    }
}
