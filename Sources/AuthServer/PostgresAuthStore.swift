public import Postgres
import RPCCore

/// The ``AuthStore`` in PostgreSQL. It owns the `auth_users` and `auth_refresh_tokens` tables and
/// applies their migrations at start (``migrate()``).
public struct PostgresAuthStore: AuthStore {
    private let pool: PostgresPool

    public init(pool: PostgresPool) {
        self.pool = pool
    }

    public static let migrations = [
        Migration(version: 1, name: "users and refresh tokens", sql: """
            CREATE TABLE auth_users (
                id bigserial PRIMARY KEY,
                username text NOT NULL,
                email text NOT NULL,
                password_hash text NOT NULL,
                created_at timestamptz NOT NULL DEFAULT now(),
                last_login_at timestamptz,
                CONSTRAINT auth_users_username_key UNIQUE (username)
            );
            CREATE UNIQUE INDEX auth_users_email_key ON auth_users (lower(email));
            CREATE TABLE auth_refresh_tokens (
                jti text PRIMARY KEY,
                user_id bigint NOT NULL REFERENCES auth_users (id) ON DELETE CASCADE,
                expires_at timestamptz NOT NULL,
                created_at timestamptz NOT NULL DEFAULT now(),
                used_at timestamptz,
                revoked_at timestamptz
            );
            CREATE INDEX auth_refresh_tokens_user ON auth_refresh_tokens (user_id);
            """),
    ]

    /// Applies this store's migrations (idempotent; safe with concurrent starts).
    public func migrate(deadline: ContinuousClock.Instant? = nil) async throws {
        try await pool.migrate(service: "auth", Self.migrations, deadline: deadline)
    }

    private static let userColumns = """
        id, username, email, password_hash, extract(epoch FROM created_at)::bigint AS created, \
        extract(epoch FROM last_login_at)::bigint AS last_login
        """

    public func createUser(username: String, email: String, passwordHash: String, deadline: ContinuousClock.Instant?) async throws -> UserRecord {
        do {
            let rows = try await pool.query(
                "INSERT INTO auth_users (username, email, password_hash) VALUES ($1, $2, $3) RETURNING \(Self.userColumns)",
                [.text(username), .text(email), .text(passwordHash)], deadline: deadline)
            return try Self.user(from: rows)!
        } catch let error as PostgresError where error.isUniqueViolation {
            throw error.message.contains("username") ? RPCError.usernameTaken : RPCError.emailTaken
        }
    }

    public func user(email: String, deadline: ContinuousClock.Instant?) async throws -> UserRecord? {
        try Self.user(from: try await pool.query(
            "SELECT \(Self.userColumns) FROM auth_users WHERE lower(email) = lower($1)", [.text(email)], deadline: deadline))
    }

    public func user(username: String, deadline: ContinuousClock.Instant?) async throws -> UserRecord? {
        try Self.user(from: try await pool.query(
            "SELECT \(Self.userColumns) FROM auth_users WHERE username = $1", [.text(username)], deadline: deadline))
    }

    public func user(id: Int64, deadline: ContinuousClock.Instant?) async throws -> UserRecord? {
        try Self.user(from: try await pool.query(
            "SELECT \(Self.userColumns) FROM auth_users WHERE id = $1", [.int(id)], deadline: deadline))
    }

    public func recordLogin(userID: Int64, at time: Int64, upgradedHash: String?, deadline: ContinuousClock.Instant?) async throws {
        try await pool.query(
            "UPDATE auth_users SET last_login_at = to_timestamp($2), password_hash = coalesce($3, password_hash) WHERE id = $1",
            [.int(userID), .int(time), upgradedHash.map { .text($0) } ?? .null], deadline: deadline)
    }

    public func saveRefreshToken(jti: String, userID: Int64, expiresAt: Int64, deadline: ContinuousClock.Instant?) async throws {
        try await pool.query(
            "INSERT INTO auth_refresh_tokens (jti, user_id, expires_at) VALUES ($1, $2, to_timestamp($3))",
            [.text(jti), .int(userID), .int(expiresAt)], deadline: deadline)
    }

    public func consumeRefreshToken(jti: String, userID: Int64, now: Int64, deadline: ContinuousClock.Instant?) async throws -> RefreshOutcome {
        try await pool.transaction(deadline: deadline) { connection in
            let spent = try connection.query("""
                UPDATE auth_refresh_tokens SET used_at = now()
                WHERE jti = $1 AND user_id = $2 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > to_timestamp($3)
                RETURNING jti
                """, [.text(jti), .int(userID), .int(now)])
            if !spent.isEmpty { return .consumed }
            let replay = try connection.query(
                "SELECT 1 FROM auth_refresh_tokens WHERE jti = $1 AND user_id = $2 AND used_at IS NOT NULL",
                [.text(jti), .int(userID)])
            guard !replay.isEmpty else { return .invalid }
            // A spent token came back: someone holds a copy. Revoke the user's whole family.
            try connection.query(
                "UPDATE auth_refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL",
                [.int(userID)])
            return .replayed
        }
    }

    public func revokeRefreshToken(jti: String, deadline: ContinuousClock.Instant?) async throws {
        try await pool.query(
            "UPDATE auth_refresh_tokens SET revoked_at = coalesce(revoked_at, now()) WHERE jti = $1",
            [.text(jti)], deadline: deadline)
    }

    private static func user(from rows: PostgresRows) throws -> UserRecord? {
        guard !rows.isEmpty else { return nil }
        guard let idText = rows.value("id"), let id = Int64(idText), let username = rows.value("username"),
              let email = rows.value("email"), let hash = rows.value("password_hash"),
              let created = rows.value("created").flatMap({ Int64($0) })
        else { throw PostgresError(kind: .decoding, message: "unexpected auth_users row") }
        return UserRecord(id: id, username: username, email: email, passwordHash: hash, createdAt: created,
                          lastLoginAt: rows.value("last_login").flatMap { Int64($0) })
    }
}
