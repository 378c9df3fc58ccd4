import Foundation
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

/// Verifies the `authorization: Bearer <access token>` of an incoming call locally, with the
/// auth service's public keys: no RPC per request. Verified tokens are cached (bounded, until
/// they expire), so a token seen again costs a dictionary look-up. Thread-safe.
public final class AccessAuthenticator: Sendable {
    private struct Entry {
        let claims: TokenClaims
    }

    private let verifier: TokenVerifier
    private let capacity: Int
    private let cache = Mutex<[String: Entry]>([:])

    public init(verifier: TokenVerifier, cacheCapacity: Int = 10_000) {
        self.verifier = verifier
        self.capacity = cacheCapacity
    }

    /// The one message every refusal carries: callers learn nothing about why.
    public static let refusal = RPCError(code: .unauthenticated, message: "Invalid or missing access token")

    /// Verifies a raw access token.
    public func authenticate(token: String, now: Int64 = unixNow()) throws(RPCError) -> AuthenticatedUser {
        if let hit = cache.withLock({ $0[token] }), hit.claims.exp > now {
            return AuthenticatedUser(id: hit.claims.userID, accessToken: token, expiresAt: hit.claims.exp)
        }
        let claims: TokenClaims
        do {
            claims = try verifier.verify(token, expectedType: "access", now: now)
        } catch {
            throw Self.refusal
        }
        cache.withLock { cache in
            if cache.count >= capacity {
                // Drop expired entries first; if still full, start over (cheap and bounded).
                cache = cache.filter { $0.value.claims.exp > now }
                if cache.count >= capacity { cache.removeAll(keepingCapacity: true) }
            }
            cache[token] = Entry(claims: claims)
        }
        return AuthenticatedUser(id: claims.userID, accessToken: token, expiresAt: claims.exp)
    }

    /// Verifies the bearer token in a call's `authorization` metadata.
    public func authenticate(_ context: RPCContext) throws(RPCError) -> AuthenticatedUser {
        guard let token = Self.bearerToken(from: context.metadata["authorization"]) else { throw Self.refusal }
        return try authenticate(token: token)
    }

    /// The token in an `Authorization: Bearer <token>` value (scheme case-insensitive).
    public static func bearerToken(from header: String?) -> String? {
        guard let header else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        return token.isEmpty ? nil : token
    }
}
