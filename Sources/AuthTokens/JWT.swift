import Foundation
public import OpenSSLCrypto

/// The claims of our tokens (the names djangorestframework-simplejwt uses).
public struct TokenClaims: Sendable, Hashable, Codable {
    /// "access" or "refresh".
    public var tokenType: String
    /// Expiry, seconds since the epoch.
    public var exp: Int64
    /// Issue time, seconds since the epoch.
    public var iat: Int64
    /// Unique token id (hex); refresh tokens are tracked by it.
    public var jti: String
    /// The subject.
    public var userID: Int64

    enum CodingKeys: String, CodingKey {
        case tokenType = "token_type"
        case exp, iat, jti
        case userID = "user_id"
    }

    public init(tokenType: String, exp: Int64, iat: Int64, jti: String, userID: Int64) {
        self.tokenType = tokenType
        self.exp = exp
        self.iat = iat
        self.jti = jti
        self.userID = userID
    }
}

/// Why a token was refused. Callers answer every case with the same UNAUTHENTICATED message.
public enum TokenError: Error, Sendable, Hashable {
    case malformed
    case unsupportedAlgorithm
    case unknownKey
    case badSignature
    case expired
    case notYetValid
    case wrongType
}

/// Issues EdDSA (Ed25519) JWTs. Thread-safe.
public struct TokenSigner: Sendable {
    /// The `kid` put in every header; derived from the public key.
    public let keyID: String
    private let key: Ed25519.PrivateKey

    public init(key: Ed25519.PrivateKey) {
        self.key = key
        self.keyID = TokenSigner.keyID(for: key.publicKey)
    }

    /// The public half, for verifiers.
    public var verificationKey: Ed25519.PublicKey { key.publicKey }

    /// A short stable id for a public key: base64url of the first 9 bytes of its SHA-256.
    public static func keyID(for key: Ed25519.PublicKey) -> String {
        Base64URL.encode(Crypto.sha256(key.rawRepresentation).prefix(9))
    }

    /// A signed compact JWT carrying `claims`.
    public func sign(_ claims: TokenClaims) throws -> String {
        let header = #"{"alg":"EdDSA","typ":"JWT","kid":"\#(keyID)"}"#
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let payload = try encoder.encode(claims)
        let signingInput = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(payload))
        let signature = try key.signature(for: Array(signingInput.utf8))
        return signingInput + "." + Base64URL.encode(signature)
    }
}

/// Verifies our JWTs with public keys only, strictly: the header must name `EdDSA` (nothing
/// else is accepted — not `none`, not HS256) and a known `kid`; the signature must verify; the
/// claims must be complete and well-typed; `exp` must be in the future and `iat` not in it
/// (beyond `leeway`); `token_type` must be the expected one. Thread-safe.
public struct TokenVerifier: Sendable {
    private let keys: [String: Ed25519.PublicKey]
    /// Clock skew tolerated on `iat`, and nothing on `exp`.
    public let leeway: Int64

    public init(keys: [Ed25519.PublicKey], leeway: Int64 = 30) {
        var byID: [String: Ed25519.PublicKey] = [:]
        for key in keys { byID[TokenSigner.keyID(for: key)] = key }
        self.keys = byID
        self.leeway = leeway
    }

    private struct Header: Decodable {
        let alg: String
        let typ: String?
        let kid: String?
    }

    /// The claims of `token` if it is valid and of `expectedType` (nil accepts either type).
    public func verify(_ token: String, expectedType: String?, now: Int64 = unixNow()) throws(TokenError) -> TokenClaims {
        let utf8 = Array(token.utf8)
        guard utf8.count <= 4096 else { throw .malformed }
        let parts = utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 3,
              let headerBytes = Base64URL.decode(parts[0]),
              let payloadBytes = Base64URL.decode(parts[1]),
              let signature = Base64URL.decode(parts[2])
        else { throw .malformed }
        let decoder = JSONDecoder()
        guard let header = try? decoder.decode(Header.self, from: Data(headerBytes)) else { throw .malformed }
        guard header.alg == "EdDSA" else { throw .unsupportedAlgorithm }
        if let typ = header.typ, typ != "JWT" { throw .malformed }
        guard let kid = header.kid, let key = keys[kid] else { throw .unknownKey }
        let signingInput = Array(utf8[0..<(parts[0].count + 1 + parts[1].count)])
        guard key.isValidSignature(signature, for: signingInput) else { throw .badSignature }
        guard let claims = try? decoder.decode(TokenClaims.self, from: Data(payloadBytes)) else { throw .malformed }
        guard claims.userID > 0, !claims.jti.isEmpty else { throw .malformed }
        guard claims.exp > now else { throw .expired }
        guard claims.iat <= now + leeway else { throw .notYetValid }
        if let expectedType, claims.tokenType != expectedType { throw .wrongType }
        guard claims.tokenType == "access" || claims.tokenType == "refresh" else { throw .wrongType }
        return claims
    }
}

/// The current time in whole seconds since the Unix epoch, as token claims count it.
public func unixNow() -> Int64 {
    Int64(Date().timeIntervalSince1970)
}
