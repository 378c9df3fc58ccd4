import Foundation
public import OpenSSLCrypto
public import RPCCore
import Synchronization

/// The user a call acts for, proven by their access token.
public struct AuthenticatedUser: Sendable, Hashable {
    public let id: Int64
    /// The access token itself, to forward to downstream services acting for the same user.
    public let accessToken: String
    /// Its expiry, seconds since the epoch.
    public let expiresAt: Int64
}

/// Verifies access tokens locally with the auth service's public keys: no RPC per request.
///
/// Keys are either given (the auth service itself) or fetched through `fetchKeys` (every other
/// service: one `GetVerificationKeys` call at first use, and again, at most every few seconds,
/// when a token names a key it does not know — so a key rotation is picked up). Verified tokens
/// are cached, bounded, until they expire, so a token seen again costs a dictionary look-up.
/// Every refusal is the same `UNAUTHENTICATED`. Thread-safe.
public final class AccessAuthenticator: Sendable {
    private let verifier: Mutex<TokenVerifier?>
    private let fetchKeys: (@Sendable () async throws -> [Ed25519.PublicKey])?
    private let lastFetch = Mutex<ContinuousClock.Instant?>(nil)
    private let capacity: Int
    private let cache = Mutex<[String: TokenClaims]>([:])
    /// The shortest time between two key fetches.
    public static let refetchInterval: Duration = .seconds(5)

    /// An authenticator with fixed keys.
    public init(verifier: TokenVerifier, cacheCapacity: Int = 10_000) {
        self.verifier = Mutex(verifier)
        self.fetchKeys = nil
        self.capacity = cacheCapacity
    }

    /// An authenticator that fetches its keys (from the auth service) when it needs them.
    public init(cacheCapacity: Int = 10_000, fetchKeys: @escaping @Sendable () async throws -> [Ed25519.PublicKey]) {
        self.verifier = Mutex(nil)
        self.fetchKeys = fetchKeys
        self.capacity = cacheCapacity
    }

    /// The one refusal: callers learn nothing about why.
    public static let refusal = RPCError(code: .unauthenticated, message: "Invalid or missing access token")

    /// Verifies a raw access token with the keys at hand (no fetching).
    public func authenticate(token: String, now: Int64 = unixNow()) throws(RPCError) -> AuthenticatedUser {
        switch verify(token, now: now) {
        case .success(let user): return user
        case .failure: throw Self.refusal
        }
    }

    /// Verifies a raw access token, fetching keys first if none are loaded or the token names an
    /// unknown one. A fetch that fails leaves the caller with `UNAVAILABLE` when no keys are
    /// known at all (the auth service is down), `UNAUTHENTICATED` otherwise.
    public func authenticate(token: String) async throws(RPCError) -> AuthenticatedUser {
        let now = unixNow()
        switch verify(token, now: now) {
        case .success(let user): return user
        case .failure(.unknownKey) where fetchKeys != nil:
            guard shouldFetch() else { throw Self.refusal }
            do {
                try await refreshKeys()
            } catch {
                if verifier.withLock({ $0 == nil }) {
                    throw RPCError(code: .unavailable, message: "Token verification keys are unavailable")
                }
                throw Self.refusal
            }
            return try authenticate(token: token, now: now)
        case .failure:
            throw Self.refusal
        }
    }

    /// Verifies the bearer token in a call's `authorization` metadata.
    public func authenticate(_ context: RPCContext) async throws(RPCError) -> AuthenticatedUser {
        guard let token = Self.bearerToken(from: context.metadata["authorization"]) else { throw Self.refusal }
        let user = try await authenticate(token: token)
        CallAnnotations.setUser(String(user.id))
        return user
    }

    /// Fetches the keys now (e.g. at start, to fail fast or warm up).
    public func refreshKeys() async throws {
        guard let fetchKeys else { return }
        lastFetch.withLock { $0 = .now }
        let keys = try await fetchKeys()
        verifier.withLock { $0 = TokenVerifier(keys: keys) }
    }

    /// The token in an `Authorization: Bearer <token>` value (scheme case-insensitive).
    public static func bearerToken(from header: String?) -> String? {
        guard let header else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        return token.isEmpty ? nil : token
    }

    // MARK: Internals

    private func verify(_ token: String, now: Int64) -> Result<AuthenticatedUser, TokenError> {
        if let hit = cache.withLock({ $0[token] }), hit.exp > now {
            return .success(AuthenticatedUser(id: hit.userID, accessToken: token, expiresAt: hit.exp))
        }
        guard let current = verifier.withLock({ $0 }) else { return .failure(.unknownKey) }
        let claims: TokenClaims
        do {
            claims = try current.verify(token, expectedType: "access", now: now)
        } catch {
            return .failure(error)
        }
        cache.withLock { cache in
            if cache.count >= capacity {
                cache = cache.filter { $0.value.exp > now }
                if cache.count >= capacity { cache.removeAll(keepingCapacity: true) }
            }
            cache[token] = claims
        }
        return .success(AuthenticatedUser(id: claims.userID, accessToken: token, expiresAt: claims.exp))
    }

    private func shouldFetch() -> Bool {
        lastFetch.withLock { last in
            guard let last else { return true }
            return ContinuousClock.now - last >= Self.refetchInterval || verifier.withLock({ $0 == nil })
        }
    }
}
