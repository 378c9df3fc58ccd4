import Foundation

/// TLS between the services, from the environment. Every process reads the same variables:
/// a service that listens uses the server half, and every caller (the gateway, and services
/// that call auth) uses the client half.
///
/// | variable | meaning |
/// |---|---|
/// | `TLS_CERT_FILE`, `TLS_KEY_FILE` | PEM certificate chain and key; internal RPC servers speak TLS (ALPN `h2`). Both or neither. |
/// | `TLS_CA_FILE` | PEM CA certificates; when set, callers dial with TLS and verify servers against them and the dialled host name or IP |
/// | `TLS_CLIENT_CA_FILE` | PEM CA certificates; when set, servers require a client certificate signed by one (mutual TLS) |
/// | `TLS_CLIENT_CERT_FILE`, `TLS_CLIENT_KEY_FILE` | the certificate and key callers present for mutual TLS. Both or neither. |
///
/// Every named file must exist and be readable; OpenSSL checks their contents when the
/// service starts.
public struct TLSSettings: Sendable, Hashable {
    /// The server certificate chain (`TLS_CERT_FILE`), or `nil` for cleartext servers.
    public var certificateFile: String?
    /// The server key (`TLS_KEY_FILE`).
    public var keyFile: String?
    /// The CA that callers trust (`TLS_CA_FILE`), or `nil` for cleartext callers.
    public var caFile: String?
    /// The CA that signs acceptable client certificates (`TLS_CLIENT_CA_FILE`).
    public var clientCAFile: String?
    /// The caller's certificate for mutual TLS (`TLS_CLIENT_CERT_FILE`).
    public var clientCertificateFile: String?
    /// The caller's key for mutual TLS (`TLS_CLIENT_KEY_FILE`).
    public var clientKeyFile: String?

    /// Whether internal RPC servers speak TLS.
    public var serverEnabled: Bool { certificateFile != nil }
    /// Whether callers dial internal services with TLS.
    public var clientEnabled: Bool { caFile != nil }

    /// Reads and checks the variables. Throws a ``ConfigError`` naming the variable when a file
    /// is missing or unreadable, when only one of a certificate/key pair is set, or when a
    /// client CA is set without a server certificate.
    public init(_ environment: ConfigEnvironment) throws(ConfigError) {
        certificateFile = try Self.file("TLS_CERT_FILE", environment)
        keyFile = try Self.file("TLS_KEY_FILE", environment)
        caFile = try Self.file("TLS_CA_FILE", environment)
        clientCAFile = try Self.file("TLS_CLIENT_CA_FILE", environment)
        clientCertificateFile = try Self.file("TLS_CLIENT_CERT_FILE", environment)
        clientKeyFile = try Self.file("TLS_CLIENT_KEY_FILE", environment)
        try Self.pair("TLS_CERT_FILE", certificateFile, "TLS_KEY_FILE", keyFile)
        try Self.pair("TLS_CLIENT_CERT_FILE", clientCertificateFile, "TLS_CLIENT_KEY_FILE", clientKeyFile)
        if clientCAFile != nil && certificateFile == nil {
            throw ConfigError("TLS_CLIENT_CA_FILE", "needs TLS_CERT_FILE and TLS_KEY_FILE (mutual TLS is TLS)")
        }
        if clientCertificateFile != nil && caFile == nil {
            throw ConfigError("TLS_CLIENT_CERT_FILE", "needs TLS_CA_FILE (a client certificate is only sent over TLS)")
        }
    }

    /// No TLS anywhere.
    public init() {}

    private static func file(_ name: String, _ environment: ConfigEnvironment) throws(ConfigError) -> String? {
        guard let path = environment[name] else { return nil }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw ConfigError(name, "names a file that does not exist: \(path)")
        }
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw ConfigError(name, "names a file that cannot be read: \(path)")
        }
        return path
    }

    private static func pair(_ first: String, _ firstValue: String?, _ second: String, _ secondValue: String?) throws(ConfigError) {
        if firstValue != nil && secondValue == nil { throw ConfigError(second, "must be set when \(first) is") }
        if secondValue != nil && firstValue == nil { throw ConfigError(first, "must be set when \(second) is") }
    }
}
