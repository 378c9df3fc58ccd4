internal import COpenSSL

/// A TLS failure: a file that could not be loaded, a refused handshake, a broken record.
///
/// `reason` is OpenSSL's own reason text (for a certificate that did not verify, with the
/// verification result, e.g. `certificate verify failed (hostname mismatch)`). It never holds
/// key material, file contents or application data; file paths appear only in configuration
/// errors, which are for the operator.
public struct TLSError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, broadly.
    public enum Kind: Sendable, Hashable {
        /// The certificate chain file is missing, unreadable or not PEM certificates.
        case certificateChain
        /// The private key file is missing, unreadable, not a PEM key, or does not match the certificate.
        case privateKey
        /// The CA file used to verify peers is missing, unreadable or holds no certificate.
        case trustRoots
        /// Any other set-up problem (an invalid combination of settings, an OpenSSL allocation failure).
        case configuration
        /// The handshake failed: the peer's certificate did not verify, no common protocol
        /// version or cipher, the peer sent an alert, or the bytes were not TLS.
        case handshake
        /// The handshake finished but ALPN did not select `h2`.
        case applicationProtocol
        /// After the handshake: a corrupt record or a fatal alert from the peer.
        case connection
    }

    /// What went wrong, broadly.
    public let kind: Kind
    /// OpenSSL's reason (or ours), safe to log and to show to the caller.
    public let reason: String

    /// Creates an error from parts.
    public init(_ kind: Kind, _ reason: String) {
        self.kind = kind
        self.reason = reason
    }

    public var description: String { reason }

    /// Drains OpenSSL's thread-local error queue into one error. `fallback` is used when the
    /// queue is empty (for example, the peer closed the socket mid-handshake).
    static func fromQueue(_ kind: Kind, fallback: String) -> TLSError {
        TLSError(kind, drainErrorQueue() ?? fallback)
    }

    /// The reason of the earliest error in the queue (the root cause), and clears the queue.
    static func drainErrorQueue() -> String? {
        var first: String?
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            if first == nil {
                if let text = ERR_reason_error_string(code) {
                    first = String(cString: text)
                } else {
                    var buffer = [CChar](repeating: 0, count: 256)
                    ERR_error_string_n(code, &buffer, buffer.count)
                    first = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                }
            }
        }
        return first
    }
}
