import AuthTokens
import Foundation
import OpenSSLCrypto
import RPCCore
import Synchronization
import Testing

let now: Int64 = 1_800_000_000

func claims(type: String = "access", exp: Int64 = now + 900, iat: Int64 = now, user: Int64 = 7) -> TokenClaims {
    TokenClaims(tokenType: type, exp: exp, iat: iat, jti: "abc123", userID: user)
}

/// A token with an arbitrary header and payload and a real signature over them.
func forge(header: String, payload: String, key: Ed25519.PrivateKey) throws -> String {
    let input = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(payload.utf8))
    return input + "." + Base64URL.encode(try key.signature(for: Array(input.utf8)))
}

@Suite struct TokenTests {
    let key: Ed25519.PrivateKey
    let signer: TokenSigner
    let verifier: TokenVerifier

    init() throws {
        key = try Ed25519.PrivateKey()
        signer = TokenSigner(key: key)
        verifier = TokenVerifier(keys: [key.publicKey])
    }

    @Test func signedTokensVerify() throws {
        let token = try signer.sign(claims())
        let verified = try verifier.verify(token, expectedType: "access", now: now)
        #expect(verified == claims())
        #expect(try verifier.verify(token, expectedType: nil, now: now).userID == 7)
    }

    @Test func tamperedSignatureIsRefused() throws {
        var parts = try signer.sign(claims()).split(separator: ".").map(String.init)
        var signature = Base64URL.decode(Array(parts[2].utf8))!
        signature[0] ^= 0x01
        parts[2] = Base64URL.encode(signature)
        #expect(throws: TokenError.badSignature) { try verifier.verify(parts.joined(separator: "."), expectedType: "access", now: now) }
    }

    @Test func tamperedPayloadIsRefused() throws {
        let parts = try signer.sign(claims()).split(separator: ".").map(String.init)
        let payload = #"{"exp":1800000900,"iat":1800000000,"jti":"abc123","token_type":"access","user_id":1}"#
        let forged = [parts[0], Base64URL.encode(Array(payload.utf8)), parts[2]].joined(separator: ".")
        #expect(throws: TokenError.badSignature) { try verifier.verify(forged, expectedType: "access", now: now) }
    }

    @Test func algNoneIsRefused() throws {
        let payload = #"{"exp":1800000900,"iat":1800000000,"jti":"x","token_type":"access","user_id":1}"#
        let token = Base64URL.encode(Array(#"{"alg":"none","typ":"JWT"}"#.utf8)) + "." + Base64URL.encode(Array(payload.utf8)) + "."
        #expect(throws: TokenError.unsupportedAlgorithm) { try verifier.verify(token, expectedType: "access", now: now) }
    }

    @Test func hs256KeyConfusionIsRefused() throws {
        // The classic attack: HMAC-sign with the public key as the secret, claim HS256.
        let header = #"{"alg":"HS256","typ":"JWT","kid":"\#(signer.keyID)"}"#
        let payload = #"{"exp":1800000900,"iat":1800000000,"jti":"x","token_type":"access","user_id":1}"#
        let input = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(payload.utf8))
        let mac = Crypto.hmacSHA256(key: key.publicKey.rawRepresentation, Array(input.utf8))
        #expect(throws: TokenError.unsupportedAlgorithm) {
            try verifier.verify(input + "." + Base64URL.encode(mac), expectedType: "access", now: now)
        }
    }

    @Test func anotherKeyIsRefused() throws {
        let other = try Ed25519.PrivateKey()
        let header = #"{"alg":"EdDSA","typ":"JWT","kid":"\#(signer.keyID)"}"#
        let payload = #"{"exp":1800000900,"iat":1800000000,"jti":"x","token_type":"access","user_id":1}"#
        #expect(throws: TokenError.badSignature) {
            try verifier.verify(try forge(header: header, payload: payload, key: other), expectedType: "access", now: now)
        }
        #expect(throws: TokenError.unknownKey) {
            try verifier.verify(try TokenSigner(key: other).sign(claims()), expectedType: "access", now: now)
        }
    }

    @Test func expiredAndFutureTokensAreRefused() throws {
        #expect(throws: TokenError.expired) { try verifier.verify(try signer.sign(claims(exp: now)), expectedType: "access", now: now) }
        #expect(throws: TokenError.expired) { try verifier.verify(try signer.sign(claims(exp: now - 1)), expectedType: "access", now: now) }
        #expect(throws: TokenError.notYetValid) {
            try verifier.verify(try signer.sign(claims(exp: now + 9000, iat: now + 3600)), expectedType: "access", now: now)
        }
    }

    @Test func refreshTokenIsNotAnAccessToken() throws {
        let refresh = try signer.sign(claims(type: "refresh"))
        #expect(throws: TokenError.wrongType) { try verifier.verify(refresh, expectedType: "access", now: now) }
        #expect(try verifier.verify(refresh, expectedType: "refresh", now: now).tokenType == "refresh")
    }

    @Test(arguments: [
        "", "garbage", "a.b", "a.b.c.d", "..", "e30.e30.", "====.====.====",
        String(repeating: "a", count: 5000),
    ])
    func garbageIsMalformed(token: String) {
        #expect(throws: TokenError.self) { try verifier.verify(token, expectedType: "access", now: now) }
    }

    @Test(arguments: [
        #"{"exp":1800000900,"iat":1800000000,"jti":"x","token_type":"access"}"#,  // no user
        #"{"exp":"soon","iat":1800000000,"jti":"x","token_type":"access","user_id":1}"#,  // wrong type
        #"{"exp":1800000900,"iat":1800000000,"jti":"","token_type":"access","user_id":1}"#,  // empty jti
        #"{"exp":1800000900,"iat":1800000000,"jti":"x","token_type":"access","user_id":0}"#,  // bad user
        #"{"exp":1800000900,"iat":1800000000,"jti":"x","token_type":"id","user_id":1}"#,  // unknown type
        #"[1,2,3]"#,
    ])
    func incompleteClaimsAreRefused(payload: String) throws {
        let header = #"{"alg":"EdDSA","typ":"JWT","kid":"\#(signer.keyID)"}"#
        let token = try forge(header: header, payload: payload, key: key)
        #expect(throws: TokenError.self) { try verifier.verify(token, expectedType: nil, now: now) }
    }

    @Test func base64URLIsStrict() {
        #expect(Base64URL.encode(Array("any carnal pleas".utf8)) == "YW55IGNhcm5hbCBwbGVhcw")
        #expect(Base64URL.decode(Array("YW55IGNhcm5hbCBwbGVhcw".utf8)) == Array("any carnal pleas".utf8))
        #expect(Base64URL.decode(Array("YW55IGNhcm5hbCBwbGVhcw==".utf8)) == nil)  // padding
        #expect(Base64URL.decode(Array("a+b/".utf8)) == nil)  // standard alphabet
        #expect(Base64URL.decode(Array("YR".utf8)) == nil)  // non-canonical trailing bits
        for length in 0..<20 {
            let bytes = (0..<length).map { UInt8($0 * 37 % 256) }
            #expect(Base64URL.decode(Array(Base64URL.encode(bytes).utf8)) == bytes)
        }
    }

    @Test func authenticatorReadsBearerMetadataAndRefusesUniformly() async throws {
        let authenticator = AccessAuthenticator(verifier: verifier)
        let live = try signer.sign(claims(exp: Int64(Date().timeIntervalSince1970) + 600, iat: Int64(Date().timeIntervalSince1970)))
        var metadata = Metadata()
        metadata.add("authorization", "Bearer \(live)")
        #expect(try await authenticator.authenticate(RPCContext(metadata: metadata)).id == 7)
        // The cached path returns the same answer.
        #expect(try await authenticator.authenticate(RPCContext(metadata: metadata)).id == 7)

        for header in [nil, "", "Bearer", "Basic abc", "Bearer garbage", "Bearer \(try signer.sign(claims(type: "refresh", exp: Int64(Date().timeIntervalSince1970) + 600, iat: Int64(Date().timeIntervalSince1970))))"] {
            var metadata = Metadata()
            if let header { metadata.add("authorization", header) }
            await #expect(throws: AccessAuthenticator.refusal) { try await authenticator.authenticate(RPCContext(metadata: metadata)) }
        }
    }

    @Test func cachedTokensStillExpire() throws {
        let authenticator = AccessAuthenticator(verifier: verifier)
        let token = try signer.sign(claims(exp: now + 10, iat: now))
        #expect(try authenticator.authenticate(token: token, now: now).id == 7)
        #expect(throws: AccessAuthenticator.refusal) { try authenticator.authenticate(token: token, now: now + 10) }
    }
}

@Suite struct FetchingAuthenticatorTests {
    final class KeyServer: Sendable {
        let keys: Mutex<[Ed25519.PublicKey]>
        let fetches = Mutex(0)
        let failing = Mutex(false)
        init(_ keys: [Ed25519.PublicKey]) { self.keys = Mutex(keys) }
        func fetch() throws -> [Ed25519.PublicKey] {
            fetches.withLock { $0 += 1 }
            if failing.withLock({ $0 }) { throw RPCError(code: .unavailable, message: "down") }
            return keys.withLock { $0 }
        }
    }

    func live(_ signer: TokenSigner, user: Int64 = 7) throws -> String {
        try signer.sign(TokenClaims(tokenType: "access", exp: unixNow() + 600, iat: unixNow(), jti: "j\(user)", userID: user))
    }

    @Test func fetchesKeysOnFirstUseThenCaches() async throws {
        let signer = TokenSigner(key: try Ed25519.PrivateKey())
        let server = KeyServer([signer.verificationKey])
        let authenticator = AccessAuthenticator { try server.fetch() }
        let token = try live(signer)
        #expect(try await authenticator.authenticate(token: token).id == 7)
        #expect(try await authenticator.authenticate(token: token).id == 7)
        #expect(server.fetches.withLock { $0 } == 1)
    }

    @Test func aRotatedKeyIsPickedUpAndGuessesAreRateLimited() async throws {
        let old = TokenSigner(key: try Ed25519.PrivateKey())
        let new = TokenSigner(key: try Ed25519.PrivateKey())
        let server = KeyServer([old.verificationKey])
        let authenticator = AccessAuthenticator { try server.fetch() }
        try await authenticator.refreshKeys()
        server.keys.withLock { $0 = [new.verificationKey, old.verificationKey] }
        // Within the refetch interval, an unknown key is refused without asking again.
        await #expect(throws: AccessAuthenticator.refusal) { try await authenticator.authenticate(token: try live(new)) }
        #expect(server.fetches.withLock { $0 } == 1)
        // A forged kid does not make the authenticator hammer the auth service either.
        for _ in 0..<5 { _ = try? await authenticator.authenticate(token: try live(TokenSigner(key: try Ed25519.PrivateKey()))) }
        #expect(server.fetches.withLock { $0 } == 1)
    }

    @Test func noKeysAndAuthDownIsUnavailable() async throws {
        let signer = TokenSigner(key: try Ed25519.PrivateKey())
        let server = KeyServer([signer.verificationKey])
        server.failing.withLock { $0 = true }
        let authenticator = AccessAuthenticator { try server.fetch() }
        do {
            _ = try await authenticator.authenticate(token: try live(signer))
            Issue.record("expected UNAVAILABLE")
        } catch {
            #expect((error as? RPCError)?.code == .unavailable)
        }
    }
}
