internal import CNGHTTP2

/// An error reported by nghttp2, turned into a Swift error by ``nghttp2Check(_:)``.
public struct HTTP2Error: Error, Sendable, Hashable, CustomStringConvertible {
    /// nghttp2's error code (negative), e.g. `NGHTTP2_ERR_CALLBACK_FAILURE`.
    public let code: Int32
    /// What the library says the code means.
    public let message: String

    public var description: String { "nghttp2 error \(code): \(message)" }

    init(code: Int32) {
        self.code = code
        self.message = String(cString: nghttp2_strerror(code))
    }

    /// Whether the connection is unusable after this error (per nghttp2: any code below
    /// `NGHTTP2_ERR_FATAL`).
    public var isFatal: Bool { code < NGHTTP2_ERR_FATAL.rawValue }
}

/// The one funnel every nghttp2 return code passes through: negative values throw.
@discardableResult
@inline(__always)
func nghttp2Check<Value: BinaryInteger>(_ returnValue: Value) throws(HTTP2Error) -> Value {
    if returnValue < 0 {
        throw HTTP2Error(code: Int32(truncatingIfNeeded: returnValue))
    }
    return returnValue
}
