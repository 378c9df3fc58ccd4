internal import COpenSSL

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A loaded TLS configuration (an OpenSSL `SSL_CTX`): certificates and keys read, trust
/// roots loaded, ALPN `h2` set up. Create one per process and side, then one ``TLSSession``
/// per connection.
///
/// Thread-safe once created: OpenSSL allows sessions to be made from one context on many
/// threads at once, and nothing here changes it after `init`.
public final class TLSContext: @unchecked Sendable {
    /// Which side sessions made from this context play.
    public let role: TLSConfiguration.Role
    let context: OpaquePointer

    /// Loads `configuration`. Throws ``TLSError`` whose ``TLSError/kind`` names the file that
    /// could not be used (``TLSError/Kind/certificateChain``, ``TLSError/Kind/privateKey``,
    /// ``TLSError/Kind/trustRoots``) with OpenSSL's reason.
    public init(_ configuration: TLSConfiguration) throws(TLSError) {
        ERR_clear_error()
        let method = configuration.role == .server ? TLS_server_method() : TLS_client_method()
        guard let context = SSL_CTX_new(method) else {
            throw TLSError.fromQueue(.configuration, fallback: "cannot create a TLS context")
        }
        self.context = context
        self.role = configuration.role
        // From here on, `deinit` frees the context if set-up throws.
        guard imageedit_ctx_set_min_tls12(context) == 1 else {
            throw TLSError.fromQueue(.configuration, fallback: "cannot set the minimum TLS version")
        }
        _ = imageedit_ctx_set_mode(context, Int(SSL_MODE_RELEASE_BUFFERS))

        switch (configuration.certificateChainFile, configuration.privateKeyFile) {
        case (let chain?, let key?):
            try Self.requireReadable(chain, .certificateChain)
            try Self.requireReadable(key, .privateKey)
            guard SSL_CTX_use_certificate_chain_file(context, chain) == 1 else {
                throw TLSError.fromQueue(.certificateChain, fallback: "no certificate in \(chain)")
            }
            guard SSL_CTX_use_PrivateKey_file(context, key, SSL_FILETYPE_PEM) == 1 else {
                throw TLSError.fromQueue(.privateKey, fallback: "no private key in \(key)")
            }
            guard SSL_CTX_check_private_key(context) == 1 else {
                throw TLSError.fromQueue(.privateKey, fallback: "the private key does not match the certificate")
            }
        case (nil, nil):
            if configuration.role == .server {
                throw TLSError(.certificateChain, "a TLS server needs a certificate chain and a private key")
            }
        case (nil, _?):
            throw TLSError(.certificateChain, "a private key was given without a certificate chain")
        case (_?, nil):
            throw TLSError(.privateKey, "a certificate chain was given without its private key")
        }

        switch configuration.role {
        case .client:
            if let ca = configuration.trustRootsFile {
                try Self.requireReadable(ca, .trustRoots)
                guard SSL_CTX_load_verify_locations(context, ca, nil) == 1 else {
                    throw TLSError.fromQueue(.trustRoots, fallback: "no CA certificate in \(ca)")
                }
            } else {
                guard SSL_CTX_set_default_verify_paths(context) == 1 else {
                    throw TLSError.fromQueue(.trustRoots, fallback: "cannot load the system's trust store")
                }
            }
            SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
            guard imageedit_ctx_offer_alpn_h2(context) == 0 else {
                throw TLSError.fromQueue(.configuration, fallback: "cannot set ALPN")
            }
        case .server:
            if let clientCA = configuration.trustRootsFile {
                try Self.requireReadable(clientCA, .trustRoots)
                guard SSL_CTX_load_verify_locations(context, clientCA, nil) == 1 else {
                    throw TLSError.fromQueue(.trustRoots, fallback: "no CA certificate in \(clientCA)")
                }
                // The CA names sent in CertificateRequest, so a client can pick the right certificate.
                guard let names = SSL_load_client_CA_file(clientCA) else {
                    throw TLSError.fromQueue(.trustRoots, fallback: "no CA certificate in \(clientCA)")
                }
                SSL_CTX_set_client_CA_list(context, names)
                SSL_CTX_set_verify(context, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nil)
            } else {
                SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nil)
            }
            imageedit_ctx_select_alpn_h2(context)
        }
        ERR_clear_error()
    }

    deinit {
        SSL_CTX_free(context)
    }

    /// A clear error for a file that is not there or cannot be read, before OpenSSL's terser one.
    private static func requireReadable(_ path: String, _ kind: TLSError.Kind) throws(TLSError) {
        guard access(path, F_OK) == 0 else { throw TLSError(kind, "\(path) does not exist") }
        guard access(path, R_OK) == 0 else { throw TLSError(kind, "\(path) is not readable") }
    }
}
