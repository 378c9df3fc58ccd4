import OpenSSLCrypto
import Testing

func bytes(hex: String) -> [UInt8] {
    var out: [UInt8] = []
    var iterator = hex.utf8.makeIterator()
    while let high = iterator.next(), let low = iterator.next() {
        out.append(UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)!)
    }
    return out
}

@Suite struct CryptoTests {
    @Test func sha256KnownAnswer() {
        #expect(Crypto.hex(Crypto.sha256(Array("abc".utf8))) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Crypto.hex(Crypto.sha256([UInt8]())) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test func hmacRFC4231Case2() {
        let mac = Crypto.hmacSHA256(key: Array("Jefe".utf8), Array("what do ya want for nothing?".utf8))
        #expect(Crypto.hex(mac) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    /// A prepared key gives OpenSSL's HMAC for keys shorter than, equal to and longer than the
    /// 64-byte block (hashed first), the empty key and message, and messages across blocks;
    /// one key serves many messages; and RFC 4231's case 2.
    @Test(arguments: [0, 1, 4, 32, 63, 64, 65, 131, 300])
    func preparedHMACKeyMatchesOpenSSL(keyLength: Int) {
        let key = (0..<keyLength).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        let prepared = HMACSHA256Key(key)
        for messageLength in [0, 1, 55, 56, 64, 65, 1000] {
            let message = (0..<messageLength).map { UInt8(truncatingIfNeeded: $0 &* 101 &+ keyLength) }
            #expect(prepared.authenticationCode(message) == Crypto.hmacSHA256(key: key, message), "message of \(messageLength) bytes")
        }
        let jefe = HMACSHA256Key(Array("Jefe".utf8))
        #expect(Crypto.hex(jefe.authenticationCode(Array("what do ya want for nothing?".utf8)))
            == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        #expect("\(prepared)" == "HMACSHA256Key(<redacted>)", "the key never shows in logs")
    }

    @Test func pbkdf2RFC7914Vector() throws {
        let derived = try Crypto.pbkdf2SHA256(password: Array("passwd".utf8), salt: Array("salt".utf8), iterations: 1, length: 64)
        #expect(Crypto.hex(derived) == "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783")
    }

    /// RFC 7914 section 11's second PBKDF2-HMAC-SHA256 vector: 80,000 rounds, two output blocks.
    @Test func pbkdf2RFC7914SecondVector() throws {
        let derived = try Crypto.pbkdf2SHA256(password: Array("Password".utf8), salt: Array("NaCl".utf8), iterations: 80_000, length: 64)
        #expect(Crypto.hex(derived) == "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d")
    }

    /// The shim's PBKDF2 against OpenSSL's `PKCS5_PBKDF2_HMAC` across the edges of its code:
    /// passwords shorter than, equal to and longer than the 64-byte HMAC block (hashed first),
    /// empty passwords and salts, one round, and outputs of several 32-byte blocks and partial ones.
    @Test(arguments: [(0, 0, 1, 32), (1, 1, 1, 1), (8, 16, 2, 32), (63, 22, 3, 33), (64, 22, 1000, 32),
                      (65, 22, 1000, 32), (200, 64, 17, 100), (11, 0, 5, 64), (0, 12, 100, 31), (32, 300, 2, 96)])
    func pbkdf2MatchesOpenSSL(passwordLength: Int, saltLength: Int, iterations: Int, length: Int) throws {
        let password = (0..<passwordLength).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
        let salt = (0..<saltLength).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ 1) }
        let ours = try Crypto.pbkdf2SHA256(password: password, salt: salt, iterations: iterations, length: length)
        let openssl = try Crypto.opensslPBKDF2SHA256(password: password, salt: salt, iterations: iterations, length: length)
        #expect(ours.count == length)
        #expect(ours == openssl)
    }

    @Test(arguments: [(0, 32), (-1, 32), (1, 0), (1, -5)])
    func pbkdf2RefusesInvalidArguments(iterations: Int, length: Int) {
        #expect(throws: CryptoError.self) { try Crypto.pbkdf2SHA256(password: [1], salt: [2], iterations: iterations, length: length) }
        #expect(throws: CryptoError.self) { try Crypto.opensslPBKDF2SHA256(password: [1], salt: [2], iterations: iterations, length: length) }
    }

    @Test func ed25519RFC8032Test1() throws {
        let key = try Ed25519.PrivateKey(rawRepresentation: bytes(hex: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"))
        #expect(Crypto.hex(key.publicKey.rawRepresentation) == "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
        let signature = try key.signature(for: [])
        #expect(Crypto.hex(signature) == "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b")
        #expect(key.publicKey.isValidSignature(signature, for: []))
    }

    @Test func ed25519RejectsTamperingAndGarbage() throws {
        let key = try Ed25519.PrivateKey()
        let message = Array("hello".utf8)
        var signature = try key.signature(for: message)
        #expect(key.publicKey.isValidSignature(signature, for: message))
        #expect(!key.publicKey.isValidSignature(signature, for: Array("hellp".utf8)))
        signature[10] ^= 1
        #expect(!key.publicKey.isValidSignature(signature, for: message))
        #expect(!key.publicKey.isValidSignature([1, 2, 3], for: message))
        #expect(!key.publicKey.isValidSignature([], for: message))
        let other = try Ed25519.PrivateKey()
        #expect(!other.publicKey.isValidSignature(try key.signature(for: message), for: message))
        #expect(throws: CryptoError.self) { try Ed25519.PrivateKey(rawRepresentation: [1, 2]) }
    }

    @Test func constantTimeEquals() {
        #expect(Crypto.constantTimeEquals([1, 2, 3], [1, 2, 3]))
        #expect(!Crypto.constantTimeEquals([1, 2, 3], [1, 2, 4]))
        #expect(!Crypto.constantTimeEquals([1, 2, 3], [1, 2]))
        #expect(Crypto.constantTimeEquals([], []))
    }

    @Test func randomBytesDiffer() {
        #expect(Crypto.randomBytes(16) != Crypto.randomBytes(16))
        #expect(Crypto.randomBytes(0).isEmpty)
    }
}
