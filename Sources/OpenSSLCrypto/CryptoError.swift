internal import COpenSSL

/// A failure inside OpenSSL, with the library's own reason text. Never contains key material.
public struct CryptoError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What was being done, e.g. "Ed25519 sign".
    public let operation: String
    /// OpenSSL's reason, from its error queue (may be empty).
    public let reason: String

    public var description: String { reason.isEmpty ? "\(operation) failed" : "\(operation) failed: \(reason)" }

    /// Takes the newest entry of OpenSSL's thread-local error queue and clears the queue.
    init(_ operation: String) {
        let code = ERR_get_error()
        var text = ""
        if code != 0 {
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        ERR_clear_error()
        self.operation = operation
        self.reason = text
    }
}

/// The one funnel for OpenSSL's "1 is success" return codes.
@inline(__always)
func opensslCheck(_ result: Int32, _ operation: @autoclosure () -> String) throws(CryptoError) {
    if result != 1 { throw CryptoError(operation()) }
}
