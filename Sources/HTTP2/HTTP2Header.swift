/// One HTTP/2 header field. Names are lower-case, as HTTP/2 requires.
public struct HTTP2Header: Sendable, Hashable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

extension Array where Element == HTTP2Header {
    /// The value of the first field named `name`.
    public subscript(field name: String) -> String? {
        for header in self where header.name == name { return header.value }
        return nil
    }
}

/// HTTP/2 error codes for RST_STREAM and GOAWAY (RFC 9113 §7).
public enum HTTP2ErrorCode {
    public static let noError: UInt32 = 0x0
    public static let protocolError: UInt32 = 0x1
    public static let internalError: UInt32 = 0x2
    public static let flowControlError: UInt32 = 0x3
    public static let refusedStream: UInt32 = 0x7
    public static let cancel: UInt32 = 0x8
    public static let enhanceYourCalm: UInt32 = 0xB
}
