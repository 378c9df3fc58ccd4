import RPCCore

/// A stored account, password hash included. Never leaves the auth service.
public struct UserRecord: Sendable, Hashable {
    public var id: Int64
    public var username: String
    public var email: String
    public var passwordHash: String
    /// Seconds since the epoch.
    public var createdAt: Int64
    /// Seconds since the epoch; nil when never logged in.
    public var lastLoginAt: Int64?

    public init(id: Int64, username: String, email: String, passwordHash: String, createdAt: Int64, lastLoginAt: Int64?) {
        self.id = id
        self.username = username
        self.email = email
        self.passwordHash = passwordHash
        self.createdAt = createdAt
        self.lastLoginAt = lastLoginAt
    }
}

/// What a refresh token's use found.
public enum RefreshOutcome: Sendable, Hashable {
    /// It was live; it is now spent.
    case consumed
    /// It was already used: a replay. Every live refresh token of the user has been revoked.
    case replayed
    /// Unknown, revoked or expired.
    case invalid
}

/// Where accounts and refresh tokens live. Implementations: ``PostgresAuthStore`` and
/// ``InMemoryAuthStore``. Errors are ``RPCError``s or convert to them (a database that is down
/// is `UNAVAILABLE`).
public protocol AuthStore: Sendable {
    /// Creates an account. Throws `ALREADY_EXISTS` when the email (case-insensitively) or the
    /// username is taken.
    func createUser(username: String, email: String, passwordHash: String, deadline: ContinuousClock.Instant?) async throws -> UserRecord
    func user(email: String, deadline: ContinuousClock.Instant?) async throws -> UserRecord?
    func user(username: String, deadline: ContinuousClock.Instant?) async throws -> UserRecord?
    func user(id: Int64, deadline: ContinuousClock.Instant?) async throws -> UserRecord?
    /// Records a successful login, and a re-hashed password when the hash was upgraded.
    func recordLogin(userID: Int64, at: Int64, upgradedHash: String?, deadline: ContinuousClock.Instant?) async throws
    func saveRefreshToken(jti: String, userID: Int64, expiresAt: Int64, deadline: ContinuousClock.Instant?) async throws
    /// Spends a refresh token, atomically: of two concurrent uses, one wins.
    func consumeRefreshToken(jti: String, userID: Int64, now: Int64, deadline: ContinuousClock.Instant?) async throws -> RefreshOutcome
    /// Revokes a refresh token; revoking one already spent or revoked is fine.
    func revokeRefreshToken(jti: String, deadline: ContinuousClock.Instant?) async throws
}

extension RPCError {
    static let emailTaken = RPCError(code: .alreadyExists, message: "A user with this email already exists")
    static let usernameTaken = RPCError(code: .alreadyExists, message: "A user with this username already exists")
}
