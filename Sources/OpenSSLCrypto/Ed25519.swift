internal import COpenSSL

/// Ed25519 signing keys (RFC 8032) through OpenSSL's EVP interface.
public enum Ed25519 {
    /// A private key; `publicKey` is derived from it. Holds the 32-byte seed in memory.
    public struct PrivateKey: Sendable {
        /// The 32-byte seed. Treat as secret: never log it.
        public let rawRepresentation: [UInt8]
        /// The matching public key.
        public let publicKey: PublicKey

        /// A fresh random key.
        public init() throws(CryptoError) {
            try self.init(rawRepresentation: Crypto.randomBytes(32))
        }

        /// A key from its 32-byte seed.
        public init(rawRepresentation seed: [UInt8]) throws(CryptoError) {
            guard seed.count == 32 else { throw CryptoError.invalid("Ed25519 private key must be 32 bytes") }
            let key = try withKey(seed: seed) { key throws(CryptoError) -> [UInt8] in
                var length = 32
                var raw = [UInt8](repeating: 0, count: 32)
                try opensslCheck(EVP_PKEY_get_raw_public_key(key, &raw, &length), "Ed25519 public key")
                return raw
            }
            self.rawRepresentation = seed
            self.publicKey = try PublicKey(rawRepresentation: key)
        }

        /// The 64-byte signature of `message`.
        public func signature(for message: [UInt8]) throws(CryptoError) -> [UInt8] {
            try withKey(seed: rawRepresentation) { key throws(CryptoError) -> [UInt8] in
                guard let context = EVP_MD_CTX_new() else { throw CryptoError("Ed25519 sign") }
                defer { EVP_MD_CTX_free(context) }
                try opensslCheck(EVP_DigestSignInit(context, nil, nil, nil, key), "Ed25519 sign")
                var signature = [UInt8](repeating: 0, count: 64)
                var length = 64
                let result = message.withUnsafeBufferPointer { input in
                    EVP_DigestSign(context, &signature, &length, input.baseAddress, input.count)
                }
                try opensslCheck(result, "Ed25519 sign")
                return signature
            }
        }
    }

    /// A public key: verifies signatures.
    public struct PublicKey: Sendable, Hashable {
        /// The 32-byte public key.
        public let rawRepresentation: [UInt8]

        public init(rawRepresentation: [UInt8]) throws(CryptoError) {
            guard rawRepresentation.count == 32 else { throw CryptoError.invalid("Ed25519 public key must be 32 bytes") }
            self.rawRepresentation = rawRepresentation
        }

        /// Whether `signature` is valid for `message` under this key. Any malformed input is `false`.
        public func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
            guard signature.count == 64 else { return false }
            guard let key = rawRepresentation.withUnsafeBufferPointer({
                EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nil, $0.baseAddress, 32)
            }) else {
                ERR_clear_error()
                return false
            }
            defer { EVP_PKEY_free(key) }
            guard let context = EVP_MD_CTX_new() else { return false }
            defer { EVP_MD_CTX_free(context) }
            guard EVP_DigestVerifyInit(context, nil, nil, nil, key) == 1 else {
                ERR_clear_error()
                return false
            }
            let result = signature.withUnsafeBufferPointer { sig in
                message.withUnsafeBufferPointer { input in
                    EVP_DigestVerify(context, sig.baseAddress, 64, input.baseAddress, input.count)
                }
            }
            if result != 1 { ERR_clear_error() }
            return result == 1
        }
    }
}

private func withKey<R>(seed: [UInt8], _ body: (OpaquePointer) throws(CryptoError) -> R) throws(CryptoError) -> R {
    guard let key = seed.withUnsafeBufferPointer({ EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nil, $0.baseAddress, 32) }) else {
        throw CryptoError("Ed25519 key")
    }
    defer { EVP_PKEY_free(key) }
    return try body(key)
}

extension CryptoError {
    static func invalid(_ reason: String) -> CryptoError {
        CryptoError(operation: "key", reasonText: reason)
    }

    init(operation: String, reasonText: String) {
        self.operation = operation
        self.reason = reasonText
    }
}
