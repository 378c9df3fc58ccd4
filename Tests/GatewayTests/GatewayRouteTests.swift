import AuthAPI
import EditAPI
import StorageAPI
import AuthServer
import AuthTokens
import Foundation
import Gateway
import HTTPClient
import Hummingbird
import Logging
import OpenSSLCrypto
import RPCCore
import Testing
import TestSupport

/// A gateway in front of `auth`, on a free port.
func startGateway(auth: any AuthService, storage: any StorageService = UnavailableStorageService(),
                  edit: any EditService = UnavailableEditService(), authenticator: AccessAuthenticator, rpcTimeout: Duration = .seconds(5),
                  readiness: [(name: String, check: @Sendable () async throws -> Void)] = []) async throws -> RunningApp {
    var settings = GatewaySettings()
    settings.port = 0
    settings.rpcTimeout = rpcTimeout
    settings.maxJSONBodyBytes = 4096
    let dependencies = GatewayDependencies(auth: auth, storage: storage, edit: edit, authenticator: authenticator, readinessChecks: readiness)
    var logger = Logger(label: "gateway-test")
    logger.logLevel = .warning
    let router = buildGatewayRouter(settings: settings, dependencies: dependencies, logger: logger)
    return try await RunningApp.start { onRunning in
        Application(router: router, configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0)),
                    onServerRunning: { await onRunning($0.localAddress?.port ?? 0) }, logger: logger)
    }
}

/// The real auth logic over an in-memory store, behind the gateway: no database needed.
func inMemoryGateway() async throws -> (RunningApp, HTTPTestClient) {
    let signer = TokenSigner(key: try Ed25519.PrivateKey())
    let provider = AuthServiceProvider(
        store: InMemoryAuthStore(),
        passwords: try PasswordHashingPool(hasher: DjangoPasswordHasher(iterations: 1000), threads: 2),
        tokens: TokenSettings(signer: signer))
    let app = try await startGateway(auth: provider, authenticator: AccessAuthenticator(verifier: TokenVerifier(keys: [signer.verificationKey])))
    return (app, HTTPTestClient(port: app.port))
}

@Suite struct GatewayRouteTests {
    @Test func registerLoginUserRefreshVerifyLogout() async throws {
        let (app, http) = try await inMemoryGateway()
        defer { Task { await app.stop() } }

        let registered = try await http.send("POST", "/api/register/", json: ["username": "ada", "email": "Ada@Example.com", "password": "correct horse"])
        #expect(registered.status == 201)
        #expect(registered.json["email"] as? String == "ada@example.com")
        #expect(registered.json["username"] as? String == "ada")
        #expect(registered.json["last_login"] is NSNull)
        #expect(registered.json["password"] == nil)
        #expect(registered.json["id"] as? Int == 1)
        #expect(registered.header("content-type") == "application/json")

        // Login by email (any case) and by username; both field styles come back.
        let byEmail = try await http.send("POST", "/api/login", json: ["email": "ADA@example.com", "password": "correct horse"])
        #expect(byEmail.status == 200)
        let byName = try await http.send("POST", "/api/login/", json: ["username": "ada", "password": "correct horse"])
        #expect(byName.status == 200)
        let access = try #require(byName.json["access_token"] as? String)
        let refresh = try #require(byName.json["refresh_token"] as? String)
        #expect(byName.json["access"] as? String == access)
        #expect(byName.json["refresh"] as? String == refresh)
        #expect(byName.json["token_type"] as? String == "Bearer")
        #expect(byName.json["expires_in"] as? Int == 900)

        let me = try await http.send("GET", "/api/user/", bearer: access)
        #expect(me.status == 200)
        let user = try #require(me.json["user"] as? [String: Any])
        #expect(user["username"] as? String == "ada")
        #expect(user["email"] as? String == "ada@example.com")

        #expect(try await http.send("POST", "/api/token/verify/", json: ["token": access]).status == 200)
        #expect(try await http.send("POST", "/api/token/verify/", json: ["token": refresh]).status == 200)
        let forged = try await http.send("POST", "/api/token/verify/", json: ["token": access + "x"])
        #expect(forged.status == 401)
        #expect(forged.json["code"] as? String == "token_not_valid")

        let rotated = try await http.send("POST", "/api/token/refresh/", json: ["refresh": refresh])
        #expect(rotated.status == 200)
        #expect(rotated.json["access"] as? String != nil)
        #expect(rotated.json["access_token"] as? String == rotated.json["access"] as? String)
        let newRefresh = try #require(rotated.json["refresh"] as? String)
        #expect(try await http.send("POST", "/api/token/refresh/", json: ["refresh": refresh]).status == 401)

        #expect(try await http.send("POST", "/api/logout/", json: ["refresh": newRefresh]).status == 200)
        #expect(try await http.send("POST", "/api/token/refresh", json: ["refresh": newRefresh]).status == 401)
    }

    @Test func failuresHaveTheRightStatusAndShape() async throws {
        let (app, http) = try await inMemoryGateway()
        defer { Task { await app.stop() } }
        _ = try await http.send("POST", "/api/register/", json: ["username": "bob", "email": "bob@example.com", "password": "pass word 1"])

        let cases: [(String, String, [String: Any]?, [UInt8]?, [(String, String)], Int, String)] = [
            ("POST", "/api/register/", ["username": "bob2", "email": "BOB@example.com", "password": "pass word 1"], nil, [], 409, "already_exists"),
            ("POST", "/api/register/", ["username": "carol", "email": "nope", "password": "pass word 1"], nil, [], 400, "invalid_argument"),
            ("POST", "/api/register/", ["username": "carol", "email": "c@example.com", "password": "short"], nil, [], 400, "invalid_argument"),
            ("POST", "/api/register/", ["username": "carol", "email": "c@example.com"], nil, [], 400, "invalid_argument"),
            ("POST", "/api/register/", ["username": 5, "email": "c@example.com", "password": "pass word 1"], nil, [], 400, "invalid_argument"),
            ("POST", "/api/register/", nil, Array("{\"username\": ".utf8), [("Content-Type", "application/json")], 400, "invalid_argument"),
            ("POST", "/api/register/", nil, Array("[1,2]".utf8), [("Content-Type", "application/json")], 400, "invalid_argument"),
            ("POST", "/api/register/", nil, Array("<xml/>".utf8), [("Content-Type", "application/xml")], 415, "unsupported_media_type"),
            ("POST", "/api/register/", nil, [UInt8](repeating: 32, count: 5000), [("Content-Type", "application/json")], 413, "payload_too_large"),
            ("POST", "/api/login/", ["email": "bob@example.com", "password": "wrong"], nil, [], 401, "unauthenticated"),
            ("POST", "/api/login/", ["email": "nobody@example.com", "password": "pass word 1"], nil, [], 401, "unauthenticated"),
            ("POST", "/api/login/", ["password": "pass word 1"], nil, [], 400, "invalid_argument"),
            ("POST", "/api/token/refresh/", ["refresh": "garbage"], nil, [], 401, "unauthenticated"),
            ("POST", "/api/token/verify/", [:], nil, [], 400, "invalid_argument"),
            ("GET", "/api/user/", nil, nil, [], 401, "unauthenticated"),
            ("GET", "/api/user/", nil, nil, [("Authorization", "Bearer nonsense")], 401, "unauthenticated"),
            ("GET", "/api/nothing-here/", nil, nil, [], 404, "not_found"),
        ]
        for (method, path, json, body, headers, status, code) in cases {
            let response = try await http.send(method, path, json: json, body: body, headers: headers)
            #expect(response.status == status, "\(method) \(path) \(json ?? [:])")
            #expect(response.json["code"] as? String == code, "\(method) \(path): \(response.text)")
            #expect((response.json["error"] as? String)?.isEmpty == false)
        }
        // Unknown user and wrong password: one message.
        let wrong = try await http.send("POST", "/api/login/", json: ["email": "bob@example.com", "password": "wrong one"])
        let unknown = try await http.send("POST", "/api/login/", json: ["email": "who@example.com", "password": "wrong one"])
        #expect(wrong.json["error"] as? String == unknown.json["error"] as? String)
        // Malformed JSON names the problem.
        let malformed = try await http.send("POST", "/api/login/", body: Array("{\"email\": ".utf8), headers: [("Content-Type", "application/json")])
        #expect((malformed.json["error"] as? String)?.hasPrefix("Malformed JSON") == true)
    }

    @Test func formEncodedBodiesAreAcceptedAsDjangoDid() async throws {
        let (app, http) = try await inMemoryGateway()
        defer { Task { await app.stop() } }
        let response = try await http.send("POST", "/api/register/", body: Array("username=eve&email=eve%40example.com&password=pass+word+1".utf8),
                                           headers: [("Content-Type", "application/x-www-form-urlencoded")])
        #expect(response.status == 201)
        #expect(response.json["email"] as? String == "eve@example.com")
    }

    @Test func requestIDsAreKeptOrMade() async throws {
        let (app, http) = try await inMemoryGateway()
        defer { Task { await app.stop() } }
        let kept = try await http.send("GET", "/healthz", headers: [("X-Request-ID", "abc-123")])
        #expect(kept.header("x-request-id") == "abc-123")
        let made = try await http.send("GET", "/healthz")
        #expect(made.header("x-request-id")?.count == 36)
        let replaced = try await http.send("GET", "/healthz", headers: [("X-Request-ID", String(repeating: "x", count: 500))])
        #expect(replaced.header("x-request-id")?.count == 36)
    }

    @Test func authDownIsServiceUnavailableAndNotReady() async throws {
        let app = try await startGateway(
            auth: UnavailableAuthService(), authenticator: AccessAuthenticator { throw RPCError(code: .unavailable, message: "down") },
            readiness: [("auth", { throw RPCError(code: .unavailable, message: "down") })])
        defer { Task { await app.stop() } }
        let http = HTTPTestClient(port: app.port)
        let response = try await http.send("POST", "/api/register/", json: ["username": "x", "email": "x@example.com", "password": "pass word 1"])
        #expect(response.status == 503)
        #expect(response.json["code"] as? String == "unavailable")
        let user = try await http.send("GET", "/api/user/", bearer: "a.b.c")
        #expect(user.status == 503 || user.status == 401)
        let ready = try await http.send("GET", "/readyz")
        #expect(ready.status == 503)
        #expect((ready.json["checks"] as? [String: String])?["auth"] == "unavailable")
        #expect(try await http.send("GET", "/healthz").status == 200)
    }

    @Test func aSlowBackendIsAGatewayTimeout() async throws {
        let app = try await startGateway(auth: SlowAuthService(), authenticator: AccessAuthenticator(verifier: TokenVerifier(keys: [])),
                                         rpcTimeout: .milliseconds(300))
        defer { Task { await app.stop() } }
        let http = HTTPTestClient(port: app.port)
        let started = ContinuousClock.now
        let response = try await http.send("POST", "/api/login/", json: ["email": "a@example.com", "password": "whatever1"])
        #expect(response.status == 504)
        #expect(ContinuousClock.now - started < .seconds(30), "the deadline cut the call short")
    }

    @Test func internalErrorsNeverLeak() async throws {
        let app = try await startGateway(auth: CrashingAuthService(), authenticator: AccessAuthenticator(verifier: TokenVerifier(keys: [])))
        defer { Task { await app.stop() } }
        let http = HTTPTestClient(port: app.port)
        for (path, json) in [("/api/register/", ["username": "x", "email": "x@example.com", "password": "pass word 1"]),
                             ("/api/login/", ["email": "x@example.com", "password": "pass word 1"])] {
            let response = try await http.send("POST", path, json: json)
            #expect(response.status == 500)
            #expect(response.json["error"] as? String == "Internal error")
            #expect(!response.text.contains("hunter2"))
        }
    }
}
