import AuthAPI
import AuthTokens
import OpenSSLCrypto
import RPCCore
import RPCNIO
import ServiceConfig

/// An authenticator for a service other than auth: it verifies access tokens locally with the
/// keys it fetches from the auth service (one `GetVerificationKeys` call, repeated only when a
/// token names an unknown key). Throws when the TLS files cannot be used.
func remoteAuthenticator(_ common: CommonSettings, metrics: ProcessMetrics) throws(ConfigError) -> AccessAuthenticator {
    let auth = AuthServiceClient(transport: metrics.metered(internalClient(common.authAddress, tls: try clientTLS(common))))
    let timeout = common.rpcTimeout
    return AccessAuthenticator {
        let response = try await auth.getVerificationKeys(GetVerificationKeysRequest(), context: RPCContext.timeout(timeout))
        return try response.keys.filter { $0.algorithm == "EdDSA" }.map { try Ed25519.PublicKey(rawRepresentation: $0.publicKey) }
    }
}
