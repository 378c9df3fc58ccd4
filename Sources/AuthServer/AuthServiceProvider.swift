public import AuthAPI
public import AuthTokens
import OpenSSLCrypto
public import RPCCore

/// Token lifetimes and the signing key.
public struct TokenSettings: Sendable {
    public var accessTTLSeconds: Int64 = 15 * 60
    public var refreshTTLSeconds: Int64 = 24 * 3600
    public var signer: TokenSigner

    public init(signer: TokenSigner, accessTTLSeconds: Int64 = 15 * 60, refreshTTLSeconds: Int64 = 24 * 3600) {
        self.signer = signer
        self.accessTTLSeconds = accessTTLSeconds
        self.refreshTTLSeconds = refreshTTLSeconds
    }
}

/// The auth service's logic, behind the generated ``AuthService`` protocol. Storage is an
/// ``AuthStore`` (PostgreSQL in production, memory in tests); hashing runs on a
/// ``PasswordHashingPool``.
public final class AuthServiceProvider: AuthService {
    private let store: any AuthStore
    private let passwords: PasswordHashingPool
    private let tokens: TokenSettings
    private let verifier: TokenVerifier
    private let authenticator: AccessAuthenticator

    public init(store: any AuthStore, passwords: PasswordHashingPool, tokens: TokenSettings) {
        self.store = store
        self.passwords = passwords
        self.tokens = tokens
        self.verifier = TokenVerifier(keys: [tokens.signer.verificationKey])
        self.authenticator = AccessAuthenticator(verifier: verifier)
    }

    /// The one answer for every failed login or refresh: nothing tells which part was wrong.
    static let badCredentials = RPCError(code: .unauthenticated, message: "Invalid credentials")
    static let badRefreshToken = RPCError(code: .unauthenticated, message: "Invalid or expired refresh token")
    static let badToken = RPCError(code: .unauthenticated, message: "Invalid or expired token")

    public func register(_ request: RegisterRequest, context: RPCContext) async throws -> RegisterResponse {
        let username = try AccountRules.username(request.username)
        let email = try AccountRules.email(request.email)
        try AccountRules.newPassword(request.password, username: username, email: email)
        try context.checkDeadline()
        let hash = try await passwords.hash(request.password)
        let record = try await store.createUser(username: username, email: email, passwordHash: hash, deadline: context.deadline)
        CallAnnotations.setUser(String(record.id))
        return RegisterResponse(user: Self.user(record))
    }

    public func login(_ request: LoginRequest, context: RPCContext) async throws -> LoginResponse {
        guard request.password.unicodeScalars.count <= AccountRules.maxPasswordLength, !request.password.isEmpty else {
            throw Self.badCredentials
        }
        // No stored username or email holds a NUL (the rules refuse them), and PostgreSQL could
        // not look one up: such an identifier matches nobody.
        let record: UserRecord?
        switch request.identifier {
        case .email(let email)?:
            guard !email.utf8.contains(0) else { throw Self.badCredentials }
            record = try await store.user(email: email.trimmingWhitespace(), deadline: context.deadline)
        case .username(let username)?:
            guard !username.utf8.contains(0) else { throw Self.badCredentials }
            record = try await store.user(username: username.trimmingWhitespace(), deadline: context.deadline)
        case nil:
            throw RPCError(code: .invalidArgument, message: "email or username is required")
        }
        // An unknown user is verified against a decoy hash: the same work, the same answer.
        guard try await passwords.verify(request.password, against: record?.passwordHash), let record else {
            throw Self.badCredentials
        }
        let now = unixNow()
        let upgraded = passwords.hasher.needsUpgrade(record.passwordHash) ? try await passwords.hash(request.password) : nil
        try await store.recordLogin(userID: record.id, at: now, upgradedHash: upgraded, deadline: context.deadline)
        var user = Self.user(record)
        user.lastLoginAt = now
        return LoginResponse(user: user, tokens: try await issuePair(userID: record.id, now: now, context: context))
    }

    public func refreshToken(_ request: RefreshTokenRequest, context: RPCContext) async throws -> RefreshTokenResponse {
        let now = unixNow()
        guard let claims = try? verifier.verify(request.refreshToken, expectedType: "refresh", now: now) else {
            throw Self.badRefreshToken
        }
        switch try await store.consumeRefreshToken(jti: claims.jti, userID: claims.userID, now: now, deadline: context.deadline) {
        case .consumed:
            guard try await store.user(id: claims.userID, deadline: context.deadline) != nil else { throw Self.badRefreshToken }
            return RefreshTokenResponse(tokens: try await issuePair(userID: claims.userID, now: now, context: context))
        case .replayed, .invalid:
            throw Self.badRefreshToken
        }
    }

    public func verifyToken(_ request: VerifyTokenRequest, context: RPCContext) async throws -> VerifyTokenResponse {
        guard let claims = try? verifier.verify(request.token, expectedType: nil) else { throw Self.badToken }
        return VerifyTokenResponse(userId: claims.userID, tokenType: claims.tokenType, expiresAt: claims.exp)
    }

    public func logout(_ request: LogoutRequest, context: RPCContext) async throws -> LogoutResponse {
        guard let claims = try? verifier.verify(request.refreshToken, expectedType: "refresh") else {
            throw Self.badRefreshToken
        }
        CallAnnotations.setUser(String(claims.userID))
        try await store.revokeRefreshToken(jti: claims.jti, deadline: context.deadline)
        return LogoutResponse()
    }

    public func getUser(_ request: GetUserRequest, context: RPCContext) async throws -> GetUserResponse {
        let caller = try await authenticator.authenticate(context)
        guard let record = try await store.user(id: caller.id, deadline: context.deadline) else {
            throw RPCError(code: .notFound, message: "User not found")
        }
        return GetUserResponse(user: Self.user(record))
    }

    public func getVerificationKeys(_ request: GetVerificationKeysRequest, context: RPCContext) async throws -> GetVerificationKeysResponse {
        GetVerificationKeysResponse(keys: [
            VerificationKey(keyId: tokens.signer.keyID, algorithm: "EdDSA", publicKey: tokens.signer.verificationKey.rawRepresentation)
        ])
    }

    // MARK: Helpers

    private func issuePair(userID: Int64, now: Int64, context: RPCContext) async throws -> TokenPair {
        CallAnnotations.setUser(String(userID))
        let access = TokenClaims(tokenType: "access", exp: now + tokens.accessTTLSeconds, iat: now, jti: Crypto.hex(Crypto.randomBytes(16)), userID: userID)
        let refresh = TokenClaims(tokenType: "refresh", exp: now + tokens.refreshTTLSeconds, iat: now, jti: Crypto.hex(Crypto.randomBytes(16)), userID: userID)
        try await store.saveRefreshToken(jti: refresh.jti, userID: userID, expiresAt: refresh.exp, deadline: context.deadline)
        return TokenPair(
            accessToken: try tokens.signer.sign(access), refreshToken: try tokens.signer.sign(refresh),
            accessExpiresInSeconds: tokens.accessTTLSeconds, refreshExpiresInSeconds: tokens.refreshTTLSeconds)
    }

    static func user(_ record: UserRecord) -> User {
        User(id: record.id, username: record.username, email: record.email, lastLoginAt: record.lastLoginAt ?? 0, createdAt: record.createdAt)
    }
}
