import RPCCore
import AuthTokens
import Synchronization

/// An ``AuthStore`` in memory, for tests and for running the service without a database.
public final class InMemoryAuthStore: AuthStore {
    private struct Token {
        let userID: Int64
        let expiresAt: Int64
        var used = false
        var revoked = false
    }

    private struct State {
        var users: [Int64: UserRecord] = [:]
        var tokens: [String: Token] = [:]
        var nextID: Int64 = 1
    }

    private let state = Mutex(State())

    public init() {}

    public func createUser(username: String, email: String, passwordHash: String, deadline: ContinuousClock.Instant?) async throws -> UserRecord {
        try state.withLock { state throws(RPCError) -> UserRecord in
            if state.users.values.contains(where: { $0.email.lowercased() == email.lowercased() }) { throw .emailTaken }
            if state.users.values.contains(where: { $0.username == username }) { throw .usernameTaken }
            let record = UserRecord(id: state.nextID, username: username, email: email, passwordHash: passwordHash,
                                    createdAt: unixNow(), lastLoginAt: nil)
            state.users[record.id] = record
            state.nextID += 1
            return record
        }
    }

    public func user(email: String, deadline: ContinuousClock.Instant?) async throws -> UserRecord? {
        state.withLock { $0.users.values.first { $0.email.lowercased() == email.lowercased() } }
    }

    public func user(username: String, deadline: ContinuousClock.Instant?) async throws -> UserRecord? {
        state.withLock { $0.users.values.first { $0.username == username } }
    }

    public func user(id: Int64, deadline: ContinuousClock.Instant?) async throws -> UserRecord? {
        state.withLock { $0.users[id] }
    }

    public func recordLogin(userID: Int64, at time: Int64, upgradedHash: String?, deadline: ContinuousClock.Instant?) async throws {
        state.withLock { state in
            state.users[userID]?.lastLoginAt = time
            if let upgradedHash { state.users[userID]?.passwordHash = upgradedHash }
        }
    }

    public func saveRefreshToken(jti: String, userID: Int64, expiresAt: Int64, deadline: ContinuousClock.Instant?) async throws {
        state.withLock { $0.tokens[jti] = Token(userID: userID, expiresAt: expiresAt) }
    }

    public func consumeRefreshToken(jti: String, userID: Int64, now: Int64, deadline: ContinuousClock.Instant?) async throws -> RefreshOutcome {
        state.withLock { state in
            guard let token = state.tokens[jti], token.userID == userID else { return .invalid }
            if token.used {
                for (key, value) in state.tokens where value.userID == userID { state.tokens[key]?.revoked = true }
                return .replayed
            }
            guard !token.revoked, token.expiresAt > now else { return .invalid }
            state.tokens[jti]?.used = true
            return .consumed
        }
    }

    public func revokeRefreshToken(jti: String, deadline: ContinuousClock.Instant?) async throws {
        state.withLock { _ = $0.tokens[jti]?.revoked = true }
    }
}
