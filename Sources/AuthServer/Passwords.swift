import NIOCore
import RPCCore
import NIOPosix
public import OpenSSLCrypto

/// Django's `PBKDF2PasswordHasher`: `pbkdf2_sha256$<iterations>$<salt>$<base64 hash>`, so
/// accounts carried over from the original service keep working.
///
/// Hashing is CPU-bound (about 65 ms of one core at 600,000 iterations): run it through
/// ``PasswordHashingPool``, never on an event loop.
public struct DjangoPasswordHasher: Sendable {
    /// Iterations for new hashes. Existing hashes verify with their own count.
    public let iterations: Int

    public init(iterations: Int = 600_000) {
        self.iterations = iterations
    }

    /// A new hash of `password` with a random 22-character salt (as Django makes them).
    public func hash(_ password: String) throws(CryptoError) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        let salt = String(Crypto.randomBytes(22).map { alphabet[Int($0) % alphabet.count] })
        return try encode(password, salt: salt, iterations: iterations)
    }

    /// The hash of `password` with the given salt and count.
    public func encode(_ password: String, salt: String, iterations: Int) throws(CryptoError) -> String {
        let derived = try Crypto.pbkdf2SHA256(password: Array(password.utf8), salt: Array(salt.utf8), iterations: iterations, length: 32)
        return "pbkdf2_sha256$\(iterations)$\(salt)$\(Base64.encode(derived))"
    }

    /// Whether `password` matches `encoded`, compared in constant time. A malformed or
    /// foreign-algorithm `encoded` is `false` (after the same work, so timing tells nothing).
    public func verify(_ password: String, against encoded: String) -> Bool {
        let parts = encoded.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "pbkdf2_sha256", let count = Int(parts[1]), (1...10_000_000).contains(count),
              !parts[2].isEmpty, !parts[2].contains("$"), parts[3].utf8.count % 4 == 0, let expected = Base64.decode(String(parts[3]))
        else {
            _ = try? encode(password, salt: "invalid-hash-salt", iterations: iterations)
            return false
        }
        guard let derived = try? Crypto.pbkdf2SHA256(password: Array(password.utf8), salt: Array(parts[2].utf8), iterations: count, length: 32) else {
            return false
        }
        return Crypto.constantTimeEquals(derived, expected)
    }

    /// Whether `encoded` was made with fewer iterations than new hashes use (re-hash on login).
    public func needsUpgrade(_ encoded: String) -> Bool {
        let parts = encoded.split(separator: "$")
        guard parts.count == 4, let count = Int(parts[1]) else { return true }
        return count < iterations
    }
}

/// Runs password hashing on a few dedicated threads (by default one per core), so that a burst
/// of logins queues here instead of starving the event loops or the Swift task pool.
public final class PasswordHashingPool: Sendable {
    public let hasher: DjangoPasswordHasher
    private let threads: NIOThreadPool
    /// A hash of a random password, verified against when the user does not exist so that an
    /// unknown user costs the same time as a wrong password.
    private let decoyHash: String

    public init(hasher: DjangoPasswordHasher, threads count: Int? = nil) throws(CryptoError) {
        self.hasher = hasher
        self.threads = NIOThreadPool(numberOfThreads: max(1, count ?? System.coreCount))
        threads.start()
        decoyHash = try hasher.encode(Crypto.hex(Crypto.randomBytes(16)), salt: "decoysaltdecoysalt", iterations: hasher.iterations)
    }

    public func hash(_ password: String) async throws -> String {
        let hasher = self.hasher
        return try await threads.runIfActive { try hasher.hash(password) }
    }

    /// Verifies against `encoded`, or against the decoy when it is `nil` (always `false`).
    public func verify(_ password: String, against encoded: String?) async throws -> Bool {
        let hasher = self.hasher
        let target = encoded ?? decoyHash
        let matched = try await threads.runIfActive { hasher.verify(password, against: target) }
        return encoded != nil && matched
    }

    public func shutdown() async {
        try? await threads.shutdownGracefully()
    }
}

