/// What a ``TLSContext`` is built from: which side it plays, the certificate it presents, and
/// whom it trusts. ALPN is always `h2` (gRPC over HTTP/2) and TLS 1.2 is the oldest version
/// accepted; neither is configurable.
///
/// All files are PEM. They are read once, when the ``TLSContext`` is created.
public struct TLSConfiguration: Sendable, Hashable {
    /// Which end of the connection this side is.
    public enum Role: Sendable, Hashable {
        /// Accepts connections and presents a certificate.
        case server
        /// Dials and verifies the server's certificate against ``TLSConfiguration/trustRootsFile``
        /// and the host name or IP address it dialled.
        case client
    }

    /// Which end of the connection this side is.
    public var role: Role
    /// The certificate chain presented to the peer: this side's certificate first, then any
    /// intermediates. Required for a server; for a client, the certificate for mutual TLS.
    public var certificateChainFile: String?
    /// The private key of the first certificate in ``certificateChainFile``.
    public var privateKeyFile: String?
    /// CA certificates that sign acceptable peers. For a client: the servers' CA (when `nil`,
    /// the system's default trust store). For a server: when set, every client must present a
    /// certificate signed by one of them (mutual TLS); when `nil`, no client certificate is asked for.
    public var trustRootsFile: String?

    /// A server presenting `certificateChainFile` (with `privateKeyFile`); with `clientCAFile`,
    /// clients must present a certificate that it signed.
    public static func server(certificateChainFile: String, privateKeyFile: String, clientCAFile: String? = nil) -> TLSConfiguration {
        TLSConfiguration(role: .server, certificateChainFile: certificateChainFile, privateKeyFile: privateKeyFile, trustRootsFile: clientCAFile)
    }

    /// A client trusting the servers that `caFile` signed; with a certificate and key, it
    /// presents them to servers that ask (mutual TLS).
    public static func client(caFile: String?, certificateChainFile: String? = nil, privateKeyFile: String? = nil) -> TLSConfiguration {
        TLSConfiguration(role: .client, certificateChainFile: certificateChainFile, privateKeyFile: privateKeyFile, trustRootsFile: caFile)
    }

    /// Creates a configuration from parts; see the static constructors for the usual shapes.
    public init(role: Role, certificateChainFile: String? = nil, privateKeyFile: String? = nil, trustRootsFile: String? = nil) {
        self.role = role
        self.certificateChainFile = certificateChainFile
        self.privateKeyFile = privateKeyFile
        self.trustRootsFile = trustRootsFile
    }
}
