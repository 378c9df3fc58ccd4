import OpenSSLCrypto

/// Expiring URLs for objects of the local store, signed and checked by the gateway
/// (`/blobs/<key>?expires=<unix>&signature=<hex>`).
///
/// The signature is hex HMAC-SHA256 over `"<key>\n<expires-unix>"` under a server secret; it
/// binds the key and the expiry, so neither can be changed. Thread-safe value type. The secret
/// is never logged or shown by `description`.
public struct URLSigner: Sendable, CustomStringConvertible {
    private let secret: HMACSHA256Key

    /// A signer with `secret` (at least 32 random bytes; shorter secrets are refused).
    public init(secret: [UInt8]) throws(BlobStoreError) {
        guard secret.count >= 32 else {
            throw BlobStoreError(.invalidArgument, detail: "URL signing secret must be at least 32 bytes")
        }
        self.secret = HMACSHA256Key(secret)
    }

    public var description: String { "URLSigner(secret: <redacted>)" }

    /// The query string `expires=<unix>&signature=<hex>` that makes `key` fetchable until
    /// `expiresAt` (Unix seconds).
    public func sign(key: String, expiresAt: Int) -> String {
        "expires=\(expiresAt)&signature=\(signature(key: key, expiresAt: expiresAt))"
    }

    /// `path` (e.g. `/blobs/`) followed by the key, `?` and ``sign(key:expiresAt:)``. Keys that
    /// pass ``BlobKey/validate(_:)`` need no escaping in a URL path.
    public func sign(path: String, key: String, expiresAt: Int) -> String {
        path + key + "?" + sign(key: key, expiresAt: expiresAt)
    }

    /// Whether `signature` (the hex from the URL) is valid for `key` and `expires` (the decimal
    /// from the URL) and `now` (Unix seconds) is before the expiry. Compares in constant time;
    /// any malformed input is `false`.
    public func verify(key: String, expires: String, signature: String, now: Int) -> Bool {
        guard !expires.isEmpty, expires.utf8.count <= 18, expires.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
              let expiresAt = Int(expires), String(expiresAt) == expires
        else { return false }
        let expected = Array(self.signature(key: key, expiresAt: expiresAt).utf8)
        let ok = Crypto.constantTimeEquals(expected, Array(signature.utf8))
        return ok && now < expiresAt
    }

    private func signature(key: String, expiresAt: Int) -> String {
        Crypto.hex(secret.authenticationCode(Array("\(key)\n\(expiresAt)".utf8)))
    }
}
