internal import COpenSSL

/// Hashes, MACs, key derivation and randomness through OpenSSL's libcrypto.
/// All functions are thread-safe and allocation-light; none logs its inputs.
public enum Crypto {
    /// SHA-256 of `data`.
    public static func sha256<Bytes: ContiguousBytes>(_ data: Bytes) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 32)
        data.withUnsafeBytes { input in
            _ = SHA256(input.baseAddress?.assumingMemoryBound(to: UInt8.self), input.count, &digest)
        }
        return digest
    }

    /// HMAC-SHA256 of `data` under `key`.
    public static func hmacSHA256<Key: ContiguousBytes, Bytes: ContiguousBytes>(key: Key, _ data: Bytes) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 32
        key.withUnsafeBytes { keyBytes in
            data.withUnsafeBytes { input in
                _ = HMAC(EVP_sha256(), keyBytes.baseAddress, Int32(keyBytes.count),
                         input.baseAddress?.assumingMemoryBound(to: UInt8.self), input.count, &digest, &length)
            }
        }
        return digest
    }

    /// PBKDF2-HMAC-SHA256 of `password` with `salt`, `iterations` rounds, `length` output bytes.
    /// CPU-bound (about 65 ms at 600,000 rounds on this project's machines): never call it on an
    /// event loop.
    ///
    /// Computed by the shim's `ie_pbkdf2_hmac_sha256`, which keys the HMAC once and copies its
    /// SHA-256 states by value each round; its output equals OpenSSL's `PKCS5_PBKDF2_HMAC` (the
    /// tests compare them) at about half the cost, since OpenSSL 3 allocates on every round.
    /// - Throws: ``CryptoError`` when `iterations` or `length` is below 1.
    public static func pbkdf2SHA256(password: [UInt8], salt: [UInt8], iterations: Int, length: Int = 32) throws(CryptoError) -> [UInt8] {
        guard iterations >= 1, length >= 1 else { throw CryptoError("PBKDF2") }
        var output = [UInt8](repeating: 0, count: length)
        let result = password.withUnsafeBufferPointer { pass in
            salt.withUnsafeBufferPointer { saltBytes in
                ie_pbkdf2_hmac_sha256(pass.baseAddress, pass.count, saltBytes.baseAddress, saltBytes.count,
                                      UInt(iterations), &output, length)
            }
        }
        try opensslCheck(result, "PBKDF2")
        return output
    }

    /// OpenSSL's own `PKCS5_PBKDF2_HMAC` with SHA-256: the reference ``pbkdf2SHA256`` is tested
    /// and benchmarked against. Same contract.
    public static func opensslPBKDF2SHA256(password: [UInt8], salt: [UInt8], iterations: Int, length: Int = 32) throws(CryptoError) -> [UInt8] {
        guard iterations >= 1, iterations <= Int(Int32.max), length >= 1, length <= Int(Int32.max) else { throw CryptoError("PBKDF2") }
        var output = [UInt8](repeating: 0, count: length)
        let result = password.withUnsafeBufferPointer { pass in
            salt.withUnsafeBufferPointer { saltBytes in
                pass.withMemoryRebound(to: CChar.self) { passChars in
                    PKCS5_PBKDF2_HMAC(passChars.baseAddress, Int32(pass.count), saltBytes.baseAddress, Int32(saltBytes.count),
                                      Int32(iterations), EVP_sha256(), Int32(length), &output)
                }
            }
        }
        try opensslCheck(result, "PBKDF2")
        return output
    }

    /// `count` bytes from OpenSSL's CSPRNG.
    public static func randomBytes(_ count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        if count > 0 {
            precondition(RAND_bytes(&bytes, Int32(count)) == 1, "OpenSSL's random generator failed")
        }
        return bytes
    }

    /// Compares in time that depends only on the length, not on where the bytes differ.
    public static func constantTimeEquals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        if lhs.isEmpty { return true }
        return lhs.withUnsafeBytes { a in rhs.withUnsafeBytes { b in CRYPTO_memcmp(a.baseAddress, b.baseAddress, a.count) == 0 } }
    }

    /// Lower-case hex.
    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Byte containers that can lend their memory (arrays, array slices, UTF-8 views via Array).
public protocol ContiguousBytes {
    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R
}
extension Array: ContiguousBytes where Element == UInt8 {}
extension ArraySlice: ContiguousBytes where Element == UInt8 {}
