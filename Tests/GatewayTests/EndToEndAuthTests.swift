import Foundation
import HTTPClient
import ImageEditServices
import Logging
import ServiceConfig
import Testing
import TestSupport

let testDatabaseURL = ProcessInfo.processInfo.environment["TEST_DATABASE_URL"]
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

/// The real thing over sockets: the auth service (gRPC, PostgreSQL) behind the gateway (HTTP).
struct LiveAuthStack {
    let auth: RunningAuthService
    let gateway: RunningApp
    let http: HTTPTestClient

    static func start(databaseURL: String = testDatabaseURL!, metrics: StackMetrics = StackMetrics()) async throws -> LiveAuthStack {
        var logger = Logger(label: "e2e")
        logger.logLevel = .warning
        let dataDirectory = NSTemporaryDirectory() + "imageedit-e2e-\(UUID().uuidString)"
        let auth = try await startAuthService(
            ConfigEnvironment(["DATABASE_URL": databaseURL, "PASSWORD_HASH_ITERATIONS": "1000", "DATA_DIR": dataDirectory,
                               "DATABASE_POOL_SIZE": "4"]),
            port: 0, logger: logger, metrics: metrics.auth)
        let environment = ConfigEnvironment(["AUTH_ADDRESS": "127.0.0.1:\(auth.port)", "RPC_TIMEOUT_MS": "3000"])
        let gateway = try await RunningApp.start { onRunning in
            try makeGateway(environment, port: 0, logger: logger, metrics: metrics.gateway, onRunning: onRunning)
        }
        return LiveAuthStack(auth: auth, gateway: gateway, http: HTTPTestClient(port: gateway.port))
    }

    func stop() async {
        await gateway.stop()
        await auth.shutdown(gracePeriod: .seconds(1))
    }
}

/// Runs a shell command on a thread of its own, so a script that takes seconds (starting or
/// stopping PostgreSQL) never blocks the Swift concurrency pool the other tests share.
func shell(_ command: String) async -> Int32 {
    await withCheckedContinuation { continuation in
        Thread.detachNewThread { continuation.resume(returning: (system(command) >> 8) & 0xFF) }
    }
}

/// Runs a repository script to completion, its output discarded; returns its exit status.
func runScript(_ arguments: [String], environment: String = "") async -> Int32 {
    await shell("cd '\(repositoryRoot)' && \(environment) bash " + arguments.map { "'\($0)'" }.joined(separator: " ") + " >/dev/null 2>&1 </dev/null")
}

/// A repository script's standard output, trimmed; nil when it fails.
func scriptOutput(_ arguments: [String]) async -> String? {
    let file = NSTemporaryDirectory() + "script-\(UUID().uuidString)"
    let command = "cd '\(repositoryRoot)' && bash " + arguments.map { "'\($0)'" }.joined(separator: " ") + " >'\(file)' 2>/dev/null </dev/null"
    guard await shell(command) == 0, let text = try? String(contentsOfFile: file, encoding: .utf8) else { return nil }
    try? FileManager.default.removeItem(atPath: file)
    return text.trimmingCharacters(in: .whitespacesAndNewlines)
}

@Suite(.enabled(if: testDatabaseURL != nil, "needs TEST_DATABASE_URL (run `make test`)"), .serialized)
struct EndToEndAuthTests {
    @Test func everyRouteThroughGatewayAndAuthService() async throws {
        let stack = try await LiveAuthStack.start()
        let http = stack.http
        let name = "e2e\(UInt32.random(in: 0...UInt32.max))"
        let registered = try await http.send("POST", "/api/register/", json: ["username": name, "email": "\(name)@Example.com", "password": "live and well"])
        #expect(registered.status == 201, "\(registered.text)")
        #expect(try await http.send("POST", "/api/register", json: ["username": name + "b", "email": "\(name)@example.com", "password": "live and well"]).status == 409)
        let login = try await http.send("POST", "/api/login/", json: ["email": "\(name)@example.com", "password": "live and well"])
        #expect(login.status == 200)
        let access = try #require(login.json["access"] as? String)
        let refresh = try #require(login.json["refresh"] as? String)
        #expect(try await http.send("POST", "/api/login/", json: ["username": name, "password": "live and wel"]).status == 401)
        let me = try await http.send("GET", "/api/user", bearer: access)
        #expect((me.json["user"] as? [String: Any])?["username"] as? String == name)
        #expect(try await http.send("POST", "/api/token/verify/", json: ["token": access]).status == 200)
        let rotated = try await http.send("POST", "/api/token/refresh/", json: ["refresh": refresh])
        #expect(rotated.status == 200)
        #expect(try await http.send("POST", "/api/token/refresh/", json: ["refresh": refresh]).status == 401)
        #expect(try await http.send("POST", "/api/logout/", json: ["refresh": rotated.json["refresh"] as? String ?? ""]).status == 200)
        // Storage and edit are not running here; auth is.
        let ready = try await http.send("GET", "/readyz")
        #expect((ready.json["checks"] as? [String: String])?["auth"] == "ok")
        await stack.stop()
    }

    /// Runs on a cluster of its own ("pg-restart"), so stopping it cannot disturb the other
    /// suites, which run in parallel on the shared test cluster.
    @Test func recoversAfterPostgreSQLRestartsWithoutRestartingServices() async throws {
        #expect(await runScript(["scripts/pg.sh", "start", "pg-restart"], environment: "PG_ANY_PORT=1") == 0)
        let url = try #require(await scriptOutput(["scripts/pg.sh", "url", "pg-restart"]))
        let stack = try await LiveAuthStack.start(databaseURL: url)
        let http = stack.http
        let name = "pg\(UInt32.random(in: 0...UInt32.max))"
        #expect(try await http.send("POST", "/api/register/", json: ["username": name, "email": "\(name)@example.com", "password": "survive restarts"]).status == 201)

        #expect(await runScript(["scripts/pg.sh", "stop", "pg-restart"]) == 0)
        let during = try await http.send("POST", "/api/login/", json: ["email": "\(name)@example.com", "password": "survive restarts"])
        #expect(during.status == 503, "\(during.text)")
        #expect(during.json["code"] as? String == "unavailable")

        #expect(await runScript(["scripts/pg.sh", "start", "pg-restart"], environment: "PG_ANY_PORT=1") == 0)
        var after = 0
        for _ in 0..<40 {
            after = try await http.send("POST", "/api/login/", json: ["email": "\(name)@example.com", "password": "survive restarts"]).status
            if after == 200 { break }
            try await Task.sleep(for: .milliseconds(250))
        }
        #expect(after == 200)
        await stack.stop()
        _ = await runScript(["scripts/pg.sh", "stop", "pg-restart"])
    }
}
