internal import COpenSSL

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One TLS connection as bytes in and bytes out, with no I/O (OpenSSL over memory BIOs).
///
/// Feed what arrives from the network to ``receive(_:)``; it returns the plaintext it could
/// decrypt. Give plaintext to ``send(_:)``. After either, and after ``startHandshake()``, write
/// ``takeOutput()`` (ciphertext: handshake messages, records, alerts) to the network. Plaintext
/// sent before the handshake completes is held and encrypted as soon as it does.
///
/// A client verifies the server's certificate against its context's trust roots and the
/// `serverName` it was given (a host name, checked against the certificate's DNS names and
/// sent as SNI, or an IP address, checked against its IP addresses). Both sides insist on ALPN
/// `h2`. When anything fails the session turns ``State-swift.enum/failed`` and every later
/// call throws the same ``TLSError``; ``takeOutput()`` may still hold an alert worth sending.
///
/// Not thread-safe: use a session from one thread (in RPCNIO, the connection's event loop),
/// which is also where OpenSSL's thread-local error queue is read.
public final class TLSSession {
    /// Where the connection stands.
    public enum State: Sendable, Hashable {
        /// The handshake has not finished.
        case handshaking
        /// Handshake done, ALPN `h2` agreed: application data flows.
        case established
        /// The peer sent close_notify, or ``close()`` was called.
        case closed
        /// A fatal error; see ``TLSSession/failure``.
        case failed
    }

    /// Where the connection stands.
    public private(set) var state: State = .handshaking
    /// The error that failed the session, once ``state`` is ``State-swift.enum/failed``.
    public private(set) var failure: TLSError?
    /// Which side this session plays.
    public let role: TLSConfiguration.Role

    private let context: TLSContext
    private let ssl: OpaquePointer
    private let inbound: OpaquePointer
    private let outbound: OpaquePointer
    private var pendingPlaintext: [UInt8] = []
    private var readBuffer = [UInt8](repeating: 0, count: 16 * 1024)

    /// Creates a session from `context`. A client must pass `serverName`: the host name or IP
    /// address it dials, which the server's certificate must match. Throws
    /// ``TLSError/Kind/configuration`` when OpenSSL cannot set the session up or a client has no
    /// server name.
    public init(context: TLSContext, serverName: String? = nil) throws(TLSError) {
        ERR_clear_error()
        guard let ssl = SSL_new(context.context) else {
            throw TLSError.fromQueue(.configuration, fallback: "cannot create a TLS session")
        }
        guard let inbound = BIO_new(BIO_s_mem()), let outbound = BIO_new(BIO_s_mem()) else {
            SSL_free(ssl)
            throw TLSError.fromQueue(.configuration, fallback: "cannot create memory buffers")
        }
        SSL_set_bio(ssl, inbound, outbound)  // the session now owns both BIOs
        self.ssl = ssl
        self.inbound = inbound
        self.outbound = outbound
        self.context = context
        self.role = context.role
        switch context.role {
        case .server:
            SSL_set_accept_state(ssl)
        case .client:
            SSL_set_connect_state(ssl)
            guard let serverName, !serverName.isEmpty else {
                throw TLSError(.configuration, "a TLS client needs the server's host name or IP address")
            }
            let parameters = SSL_get0_param(ssl)
            if Self.isIPAddress(serverName) {
                guard X509_VERIFY_PARAM_set1_ip_asc(parameters, serverName) == 1 else {
                    throw TLSError.fromQueue(.configuration, fallback: "invalid IP address \(serverName)")
                }
            } else {
                X509_VERIFY_PARAM_set_hostflags(parameters, UInt32(X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS))
                guard X509_VERIFY_PARAM_set1_host(parameters, serverName, 0) == 1,
                      imageedit_set_sni(ssl, serverName) == 1 else {
                    throw TLSError.fromQueue(.configuration, fallback: "invalid host name \(serverName)")
                }
            }
        }
    }

    deinit {
        SSL_free(ssl)
    }

    // MARK: Driving the connection

    /// A client sends its ClientHello: call once, then write ``takeOutput()``. Does nothing for
    /// a server, which waits for the client.
    public func startHandshake() throws(TLSError) {
        try checkUsable()
        guard role == .client else { return }
        try advanceHandshake()
    }

    /// Takes ciphertext from the network; returns the plaintext it completes (often empty,
    /// during the handshake). Afterwards write ``takeOutput()``: the handshake may have
    /// answers, and plaintext held by ``send(_:)`` goes out once the handshake is done.
    /// Throws ``TLSError`` when the handshake or a record fails (and the session is failed).
    public func receive(_ ciphertext: UnsafeRawBufferPointer) throws(TLSError) -> [UInt8] {
        try checkUsable()
        if let base = ciphertext.baseAddress, ciphertext.count > 0 {
            var offset = 0
            while offset < ciphertext.count {
                let chunk = Int32(min(ciphertext.count - offset, Int(Int32.max)))
                let written = BIO_write(inbound, base + offset, chunk)
                guard written > 0 else { throw fail(TLSError(.configuration, "cannot buffer incoming TLS data")) }
                offset += Int(written)
            }
        }
        if state == .handshaking {
            try advanceHandshake()
        }
        guard state == .established else { return [] }
        return try readPlaintext()
    }

    /// Convenience for ``receive(_:)`` with an array.
    public func receive(_ ciphertext: [UInt8]) throws(TLSError) -> [UInt8] {
        try ciphertext.withUnsafeBytes { bytes in Result { () throws(TLSError) in try receive(bytes) } }.get()
    }

    /// Encrypts `plaintext` for the peer (write ``takeOutput()`` next). Before the handshake
    /// completes it is held, and encrypted when it does. Throws when the session is failed or closed.
    public func send(_ plaintext: UnsafeRawBufferPointer) throws(TLSError) {
        try checkUsable()
        guard plaintext.count > 0 else { return }
        if state == .handshaking {
            pendingPlaintext.append(contentsOf: plaintext)
            return
        }
        try write(plaintext)
    }

    /// Convenience for ``send(_:)`` with an array.
    public func send(_ plaintext: [UInt8]) throws(TLSError) {
        try plaintext.withUnsafeBytes { bytes in Result { () throws(TLSError) in try send(bytes) } }.get()
    }

    /// Ciphertext waiting to go to the network (empty when there is none). Drains it.
    public func takeOutput() -> [UInt8] {
        let pending = Int(BIO_ctrl_pending(outbound))
        guard pending > 0 else { return [] }
        var output = [UInt8](repeating: 0, count: pending)
        let read = output.withUnsafeMutableBytes { BIO_read(outbound, $0.baseAddress, Int32(pending)) }
        if read < pending { output.removeLast(pending - max(Int(read), 0)) }
        return output
    }

    /// Whether ``takeOutput()`` has anything.
    public var hasOutput: Bool { BIO_ctrl_pending(outbound) > 0 }

    /// Queues close_notify (write ``takeOutput()``, then close the socket). The session is
    /// ``State-swift.enum/closed`` afterwards.
    public func close() {
        if state == .established {
            ERR_clear_error()
            _ = SSL_shutdown(ssl)
            ERR_clear_error()
        }
        if state != .failed { state = .closed }
    }

    // MARK: What was agreed

    /// The protocol ALPN selected (`"h2"` once established), or `nil`.
    public var negotiatedProtocol: String? {
        var data: UnsafePointer<UInt8>?
        var length: UInt32 = 0
        SSL_get0_alpn_selected(ssl, &data, &length)
        guard let data, length > 0 else { return nil }
        return String(decoding: UnsafeBufferPointer(start: data, count: Int(length)), as: UTF8.self)
    }

    /// Whether the peer presented a certificate and it verified (chain to a trusted CA, and for
    /// a client, the server name). `false` for a server that did not ask for one.
    public var peerCertificateVerified: Bool {
        SSL_get0_peer_certificate(ssl) != nil && SSL_get_verify_result(ssl) == Int(X509_V_OK)
    }

    /// The peer certificate's subject in OpenSSL's one-line form (`/CN=...`), or `nil` when
    /// there is none.
    public var peerSubject: String? {
        guard let certificate = SSL_get0_peer_certificate(ssl), let name = X509_get_subject_name(certificate) else { return nil }
        var buffer = [CChar](repeating: 0, count: 512)
        guard X509_NAME_oneline(name, &buffer, Int32(buffer.count)) != nil else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The TLS version agreed, e.g. `TLSv1.3`.
    public var protocolVersion: String { String(cString: SSL_get_version(ssl)) }

    // MARK: Internals

    private func checkUsable() throws(TLSError) {
        switch state {
        case .failed: throw failure ?? TLSError(.connection, "the TLS session failed")
        case .closed: throw TLSError(.connection, "the TLS session is closed")
        case .handshaking, .established: return
        }
    }

    private func fail(_ error: TLSError) -> TLSError {
        state = .failed
        failure = error
        pendingPlaintext = []
        return error
    }

    private func advanceHandshake() throws(TLSError) {
        ERR_clear_error()
        let result = SSL_do_handshake(ssl)
        if result == 1 {
            guard negotiatedProtocol == "h2" else {
                throw fail(TLSError(.applicationProtocol, "the peer did not agree to ALPN h2"))
            }
            state = .established
            if !pendingPlaintext.isEmpty {
                let held = pendingPlaintext
                pendingPlaintext = []
                try held.withUnsafeBytes { bytes in Result { () throws(TLSError) in try write(bytes) } }.get()
            }
            return
        }
        let code = SSL_get_error(ssl, result)
        if code == SSL_ERROR_WANT_READ || code == SSL_ERROR_WANT_WRITE { return }
        throw fail(handshakeError())
    }

    /// OpenSSL's reason, with the certificate verification result when that is what failed.
    private func handshakeError() -> TLSError {
        var reason = TLSError.drainErrorQueue() ?? "the connection closed during the TLS handshake"
        let verify = SSL_get_verify_result(ssl)
        if verify != Int(X509_V_OK), let text = X509_verify_cert_error_string(verify) {
            reason += " (\(String(cString: text)))"
        }
        return TLSError(.handshake, reason)
    }

    private func readPlaintext() throws(TLSError) -> [UInt8] {
        var plaintext: [UInt8] = []
        while true {
            ERR_clear_error()
            let read = readBuffer.withUnsafeMutableBytes { SSL_read(ssl, $0.baseAddress, Int32($0.count)) }
            if read > 0 {
                plaintext.append(contentsOf: readBuffer[0..<Int(read)])
                continue
            }
            let code = SSL_get_error(ssl, read)
            if code == SSL_ERROR_WANT_READ || code == SSL_ERROR_WANT_WRITE { return plaintext }
            if code == SSL_ERROR_ZERO_RETURN {
                state = .closed
                return plaintext
            }
            throw fail(TLSError.fromQueue(.connection, fallback: "the TLS connection failed"))
        }
    }

    private func write(_ plaintext: UnsafeRawBufferPointer) throws(TLSError) {
        guard let base = plaintext.baseAddress else { return }
        var offset = 0
        while offset < plaintext.count {
            ERR_clear_error()
            let chunk = Int32(min(plaintext.count - offset, Int(Int32.max)))
            let written = SSL_write(ssl, base + offset, chunk)
            guard written > 0 else {
                throw fail(TLSError.fromQueue(.connection, fallback: "cannot encrypt data"))
            }
            offset += Int(written)
        }
    }

    private static func isIPAddress(_ text: String) -> Bool {
        var ipv4 = in_addr()
        var ipv6 = in6_addr()
        return inet_pton(AF_INET, text, &ipv4) == 1 || inet_pton(AF_INET6, text, &ipv6) == 1
    }
}
