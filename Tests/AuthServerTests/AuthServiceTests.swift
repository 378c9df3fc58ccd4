import AuthAPI
@testable import AuthServer
import AuthTokens
import Foundation
import OpenSSLCrypto
import Postgres
import RPCCore
import Testing

let testDatabaseURL = ProcessInfo.processInfo.environment["TEST_DATABASE_URL"]

/// The stores every behaviour test runs against: memory always, PostgreSQL when `make test`
/// provides it.
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case memory, postgres
    var testDescription: String { rawValue }

    static var available: [StoreKind] { testDatabaseURL == nil ? [.memory] : [.memory, .postgres] }

    func make() async throws -> any AuthStore {
        switch self {
        case .memory: return InMemoryAuthStore()
        case .postgres:
            let store = PostgresAuthStore(pool: PostgresPool(url: testDatabaseURL!, size: 4))
            try await store.migrate()
            return store
        }
    }
}

func makeService(_ kind: StoreKind, accessTTL: Int64 = 900) async throws -> (AuthServiceProvider, TokenSigner) {
    let signer = TokenSigner(key: try Ed25519.PrivateKey())
    let service = AuthServiceProvider(
        store: try await kind.make(),
        passwords: try PasswordHashingPool(hasher: DjangoPasswordHasher(iterations: 1000), threads: 2),
        tokens: TokenSettings(signer: signer, accessTTLSeconds: accessTTL, refreshTTLSeconds: 3600))
    return (service, signer)
}

func unique() -> String { Crypto.hex(Crypto.randomBytes(6)) }

func expectCode(_ code: StatusCode, _ body: () async throws -> Void) async {
    do {
        try await body()
        Issue.record("expected \(code)")
    } catch {
        // What a client would see: the transport maps errors the same way.
        let mapped = RPCError(mapping: error)
        #expect(mapped.code == code, "\(error)")
    }
}

func bearer(_ token: String) -> RPCContext {
    var metadata = Metadata()
    metadata.add("authorization", "Bearer \(token)")
    return RPCContext(metadata: metadata)
}

@Suite struct AuthServiceTests {
    @Test(arguments: StoreKind.available)
    func registerLoginAndGetUser(kind: StoreKind) async throws {
        let (service, _) = try await makeService(kind)
        let name = "user\(unique())"
        let registered = try await service.register(RegisterRequest(username: name, email: " \(name.uppercased())@Example.com ", password: "a fine password"), context: RPCContext())
        #expect(registered.user?.email == "\(name)@example.com")
        #expect(registered.user?.lastLoginAt == 0)

        let byEmail = try await service.login(LoginRequest(identifier: .email("\(name)@EXAMPLE.com"), password: "a fine password"), context: RPCContext())
        #expect(byEmail.user?.id == registered.user?.id)
        #expect((byEmail.user?.lastLoginAt ?? 0) > 0)
        let byName = try await service.login(LoginRequest(identifier: .username(name), password: "a fine password"), context: RPCContext())
        let access = try #require(byName.tokens?.accessToken)
        #expect(byName.tokens?.accessExpiresInSeconds == 900)

        let me = try await service.getUser(GetUserRequest(), context: bearer(access))
        #expect(me.user?.username == name)
    }

    @Test(arguments: StoreKind.available)
    func duplicatesAreAlreadyExists(kind: StoreKind) async throws {
        let (service, _) = try await makeService(kind)
        let name = "dup\(unique())"
        _ = try await service.register(RegisterRequest(username: name, email: "\(name)@example.com", password: "password one"), context: RPCContext())
        await expectCode(.alreadyExists) {
            _ = try await service.register(RegisterRequest(username: name + "x", email: "\(name.uppercased())@example.com", password: "password one"), context: RPCContext())
        }
        await expectCode(.alreadyExists) {
            _ = try await service.register(RegisterRequest(username: name, email: "other\(name)@example.com", password: "password one"), context: RPCContext())
        }
    }

    @Test(arguments: StoreKind.available)
    func badLoginsAllLookTheSame(kind: StoreKind) async throws {
        let (service, _) = try await makeService(kind)
        let name = "bad\(unique())"
        _ = try await service.register(RegisterRequest(username: name, email: "\(name)@example.com", password: " padded password "), context: RPCContext())
        var messages: Set<String> = []
        for request in [
            LoginRequest(identifier: .email("\(name)@example.com"), password: "wrong password"),
            LoginRequest(identifier: .email("nobody\(name)@example.com"), password: "wrong password"),
            LoginRequest(identifier: .username("nobody\(name)"), password: " padded password "),
            LoginRequest(identifier: .email("\(name)@example.com"), password: "padded password"),  // spaces are part of it
            // A NUL matches nobody (PostgreSQL would have read the identifier only up to it).
            LoginRequest(identifier: .email("\(name)@example.com\u{0}x"), password: " padded password "),
            LoginRequest(identifier: .username("\(name)\u{0}"), password: " padded password "),
        ] {
            do {
                _ = try await service.login(request, context: RPCContext())
                Issue.record("login should fail")
            } catch let error as RPCError {
                #expect(error.code == .unauthenticated)
                messages.insert(error.message)
            }
        }
        #expect(messages.count == 1)
        // The exact password, outer spaces included, logs in.
        _ = try await service.login(LoginRequest(identifier: .email("\(name)@example.com"), password: " padded password "), context: RPCContext())
        await expectCode(.invalidArgument) { _ = try await service.login(LoginRequest(password: "x"), context: RPCContext()) }
    }

    @Test(arguments: StoreKind.available)
    func refreshRotatesAndReplayRevokesTheFamily(kind: StoreKind) async throws {
        let (service, _) = try await makeService(kind)
        let name = "rot\(unique())"
        _ = try await service.register(RegisterRequest(username: name, email: "\(name)@example.com", password: "rotate me please"), context: RPCContext())
        let first = try await service.login(LoginRequest(identifier: .username(name), password: "rotate me please"), context: RPCContext())
        let refresh1 = try #require(first.tokens?.refreshToken)

        let second = try await service.refreshToken(RefreshTokenRequest(refreshToken: refresh1), context: RPCContext())
        let refresh2 = try #require(second.tokens?.refreshToken)
        #expect(refresh2 != refresh1)

        // The rotated token is spent; presenting it again also revokes its successor.
        await expectCode(.unauthenticated) { _ = try await service.refreshToken(RefreshTokenRequest(refreshToken: refresh1), context: RPCContext()) }
        await expectCode(.unauthenticated) { _ = try await service.refreshToken(RefreshTokenRequest(refreshToken: refresh2), context: RPCContext()) }
    }

    @Test(arguments: StoreKind.available)
    func logoutRevokesAndIsIdempotent(kind: StoreKind) async throws {
        let (service, _) = try await makeService(kind)
        let name = "out\(unique())"
        _ = try await service.register(RegisterRequest(username: name, email: "\(name)@example.com", password: "log me out now"), context: RPCContext())
        let login = try await service.login(LoginRequest(identifier: .username(name), password: "log me out now"), context: RPCContext())
        let refresh = try #require(login.tokens?.refreshToken)
        _ = try await service.logout(LogoutRequest(refreshToken: refresh), context: RPCContext())
        _ = try await service.logout(LogoutRequest(refreshToken: refresh), context: RPCContext())
        await expectCode(.unauthenticated) { _ = try await service.refreshToken(RefreshTokenRequest(refreshToken: refresh), context: RPCContext()) }
        await expectCode(.unauthenticated) { _ = try await service.logout(LogoutRequest(refreshToken: "garbage"), context: RPCContext()) }
        // An access token is not a refresh token.
        let access = try #require(login.tokens?.accessToken)
        await expectCode(.unauthenticated) { _ = try await service.logout(LogoutRequest(refreshToken: access), context: RPCContext()) }
        await expectCode(.unauthenticated) { _ = try await service.refreshToken(RefreshTokenRequest(refreshToken: access), context: RPCContext()) }
    }

    @Test(arguments: StoreKind.available)
    func verifyAndGetUserNeedValidTokens(kind: StoreKind) async throws {
        let (service, signer) = try await makeService(kind)
        let name = "ver\(unique())"
        _ = try await service.register(RegisterRequest(username: name, email: "\(name)@example.com", password: "verify this one"), context: RPCContext())
        let login = try await service.login(LoginRequest(identifier: .username(name), password: "verify this one"), context: RPCContext())
        let access = try #require(login.tokens?.accessToken)
        let verified = try await service.verifyToken(VerifyTokenRequest(token: access), context: RPCContext())
        #expect(verified.tokenType == "access")
        #expect(verified.userId == login.user?.id)
        await expectCode(.unauthenticated) { _ = try await service.verifyToken(VerifyTokenRequest(token: access + "x"), context: RPCContext()) }
        await expectCode(.unauthenticated) { _ = try await service.getUser(GetUserRequest(), context: RPCContext()) }
        let refresh = try #require(login.tokens?.refreshToken)
        await expectCode(.unauthenticated) { _ = try await service.getUser(GetUserRequest(), context: bearer(refresh)) }
        // A valid token for a user that does not exist.
        let ghost = try signer.sign(TokenClaims(tokenType: "access", exp: unixNow() + 60, iat: unixNow(), jti: "g", userID: 999_999_999))
        await expectCode(.notFound) { _ = try await service.getUser(GetUserRequest(), context: bearer(ghost)) }

        let keys = try await service.getVerificationKeys(GetVerificationKeysRequest(), context: RPCContext())
        #expect(keys.keys.first?.publicKey == signer.verificationKey.rawRepresentation)
        #expect(keys.keys.first?.algorithm == "EdDSA")
    }

    @Test(arguments: StoreKind.available)
    func invalidRegistrationsAreInvalidArgument(kind: StoreKind) async throws {
        let (service, _) = try await makeService(kind)
        for request in [
            RegisterRequest(username: "", email: "a@example.com", password: "long enough"),
            RegisterRequest(username: "ok", email: "not-an-email", password: "long enough"),
            RegisterRequest(username: "ok", email: "a@example.com", password: "short"),
            RegisterRequest(username: "ok", email: "a@example.com", password: "123456789"),
        ] {
            await expectCode(.invalidArgument) { _ = try await service.register(request, context: RPCContext()) }
        }
    }
}

@Test func databaseDownIsUnavailable() async throws {
    let store = PostgresAuthStore(pool: PostgresPool(url: "postgres://x:y@127.0.0.1:1/none", size: 1))
    let signer = TokenSigner(key: try Ed25519.PrivateKey())
    let service = AuthServiceProvider(
        store: store, passwords: try PasswordHashingPool(hasher: DjangoPasswordHasher(iterations: 1000), threads: 1),
        tokens: TokenSettings(signer: signer))
    await expectCode(.unavailable) {
        _ = try await service.login(LoginRequest(identifier: .email("a@example.com"), password: "whatever it is"), context: RPCContext())
    }
}
