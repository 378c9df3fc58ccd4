import Logging
import OpenSSLCrypto
import RPCNIO
import ServiceConfig

/// The TLS context an internal RPC server listens with: `nil` (cleartext) unless TLS_CERT_FILE
/// and TLS_KEY_FILE are set; with TLS_CLIENT_CA_FILE, clients must present a certificate it
/// signed. Throws a ``ConfigError`` naming the variable whose file OpenSSL could not use.
func serverTLS(_ common: CommonSettings) throws(ConfigError) -> TLSContext? {
    let tls = common.tls
    guard let certificate = tls.certificateFile, let key = tls.keyFile else { return nil }
    do throws(TLSError) {
        return try TLSContext(.server(certificateChainFile: certificate, privateKeyFile: key, clientCAFile: tls.clientCAFile))
    } catch {
        throw configError(error, chain: "TLS_CERT_FILE", key: "TLS_KEY_FILE", roots: "TLS_CLIENT_CA_FILE")
    }
}

/// Sets up `configuration` for TLS when TLS_CERT_FILE is set (``serverTLS(_:)``), logging each
/// client whose handshake fails (a warning with the peer's address and OpenSSL's reason).
func useServerTLS(_ configuration: inout RPCServer.Configuration, _ common: CommonSettings, logger: Logger) throws(ConfigError) {
    configuration.tls = try serverTLS(common)
    configuration.onTLSHandshakeFailure = { peer, error in
        logger.warning("tls handshake failed", metadata: ["peer": .string(peer), "reason": .string(error.reason)])
    }
}

/// A client of another internal service at `address`: TLS with `tls` (``clientTLS(_:)``: the
/// server verified against TLS_CA_FILE and the host name or IP dialled), else cleartext h2c.
func internalClient(_ address: (host: String, port: Int), tls: TLSContext?) -> HTTP2ClientTransport {
    var configuration = HTTP2ClientTransport.Configuration()
    configuration.tls = tls
    return HTTP2ClientTransport(host: address.host, port: address.port, configuration: configuration)
}

/// The client TLS context for every internal client of a process (one is enough: it is
/// thread-safe and never changes), presenting TLS_CLIENT_CERT_FILE when set; `nil` when
/// TLS_CA_FILE is unset. Throws a ``ConfigError`` naming the variable whose file OpenSSL could
/// not use.
func clientTLS(_ common: CommonSettings) throws(ConfigError) -> TLSContext? {
    let tls = common.tls
    guard let ca = tls.caFile else { return nil }
    do throws(TLSError) {
        return try TLSContext(.client(caFile: ca, certificateChainFile: tls.clientCertificateFile, privateKeyFile: tls.clientKeyFile))
    } catch {
        throw configError(error, chain: "TLS_CLIENT_CERT_FILE", key: "TLS_CLIENT_KEY_FILE", roots: "TLS_CA_FILE")
    }
}

private func configError(_ error: TLSError, chain: String, key: String, roots: String) -> ConfigError {
    switch error.kind {
    case .certificateChain: ConfigError(chain, "cannot be used: \(error.reason)")
    case .privateKey: ConfigError(key, "cannot be used: \(error.reason)")
    case .trustRoots: ConfigError(roots, "cannot be used: \(error.reason)")
    case .configuration, .handshake, .applicationProtocol, .connection: ConfigError(chain, "TLS set-up failed: \(error.reason)")
    }
}
