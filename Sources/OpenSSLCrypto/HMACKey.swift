internal import COpenSSL

/// An HMAC-SHA256 key prepared once for many messages: the padded key's inner and outer
/// SHA-256 states are computed here and copied for each ``authenticationCode(_:)``. Gives the
/// same codes as ``Crypto/hmacSHA256(key:_:)``, without OpenSSL 3's per-call digest fetch and
/// context allocations. Immutable after `init`, so safe to share across threads; the prepared
/// states are wiped when the key is released.
public final class HMACSHA256Key: @unchecked Sendable, CustomStringConvertible {
    private let prepared: UnsafeMutablePointer<ie_hmac_sha256_key>

    public init<Key: ContiguousBytes>(_ key: Key) {
        prepared = .allocate(capacity: 1)
        key.withUnsafeBytes { bytes in
            ie_hmac_sha256_key_init(prepared, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count)
        }
    }

    deinit {
        OPENSSL_cleanse(prepared, MemoryLayout<ie_hmac_sha256_key>.size)
        prepared.deallocate()
    }

    public var description: String { "HMACSHA256Key(<redacted>)" }

    /// HMAC-SHA256 of `data` under this key.
    public func authenticationCode<Bytes: ContiguousBytes>(_ data: Bytes) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: 32) { output, count in
            data.withUnsafeBytes { input in
                ie_hmac_sha256_prepared(prepared, input.baseAddress?.assumingMemoryBound(to: UInt8.self), input.count, output.baseAddress!)
            }
            count = 32
        }
    }
}
