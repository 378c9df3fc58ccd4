import AuthAPI
import AuthTokens
import Foundation
import Gateway
import GRPCHealth
import HTTPClient
import Hummingbird
@testable import ImageEditServices
import OpenSSLCrypto
import Logging
import Postgres
import RPCCore
import RPCNIO
import StorageAPI
import Testing
import TestSupport

/// One fresh metrics registry per process of a test stack, as in production (one per process).
struct StackMetrics: Sendable {
    var auth = ProcessMetrics()
    var storage = ProcessMetrics()
    var edit = ProcessMetrics()
    var gateway = ProcessMetrics()
}

/// A Prometheus text scrape, read the way a test needs: the sum of the samples of `name` whose
/// labels include `labels` (nil when none matches).
struct Scrape {
    let text: String

    struct Sample {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    var samples: [Sample] {
        text.split(separator: "\n").compactMap { line -> Sample? in
            guard !line.hasPrefix("#"), let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { return nil }
            let series = line[..<space]
            guard let brace = series.firstIndex(of: "{") else { return Sample(name: String(series), labels: [:], value: value) }
            var labels: [String: String] = [:]
            // Our label values hold no commas or quotes.
            for pair in series[series.index(after: brace)..<series.index(before: series.endIndex)].split(separator: ",") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2 else { continue }
                labels[String(parts[0])] = String(parts[1].dropFirst().dropLast())
            }
            return Sample(name: String(series[..<brace]), labels: labels, value: value)
        }
    }

    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        let matching = samples.filter { sample in sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value } }
        return matching.isEmpty ? nil : matching.reduce(0) { $0 + $1.value }
    }

    /// The values of label `label` across the samples of `name`.
    func labelValues(_ name: String, _ label: String) -> Set<String> {
        Set(samples.filter { $0.name == name }.compactMap { $0.labels[label] })
    }
}

func scrape(_ url: String) async throws -> Scrape {
    let response = try await CurlHTTPClient(threads: 1).send(HTTPClient.HTTPRequest(url: url, timeout: .seconds(10)))
    #expect(response.status == 200)
    #expect(response.header("content-type")?.hasPrefix("text/plain; version=0.0.4") == true)
    return Scrape(text: String(decoding: response.body, as: UTF8.self))
}

/// A gateway with fakes behind it whose series go to `metrics`, served at `/metrics`.
func startMeteredGateway(metrics: ProcessMetrics?) async throws -> RunningApp {
    var settings = GatewaySettings()
    settings.port = 0
    var render: (@Sendable () -> [UInt8])?
    if let metrics { render = { metrics.render() } }
    let authenticator = AccessAuthenticator { () async throws -> [Ed25519.PublicKey] in throw RPCError(code: .unavailable, message: "down") }
    let dependencies = GatewayDependencies(
        auth: UnavailableAuthService(), storage: UnavailableStorageService(), edit: UnavailableEditService(),
        authenticator: authenticator, metricsFactory: (metrics ?? ProcessMetrics()).factory, metricsText: render)
    var logger = Logger(label: "gateway-metrics-test")
    logger.logLevel = .critical
    let router = buildGatewayRouter(settings: settings, dependencies: dependencies, logger: logger)
    return try await RunningApp.start { onRunning in
        Application(router: router, configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0)),
                    onServerRunning: { await onRunning($0.localAddress?.port ?? 0) }, logger: logger)
    }
}

@Suite struct GatewayMetricsTests {
    @Test func countsRequestsByRoutePatternMethodAndStatus() async throws {
        let metrics = ProcessMetrics()
        let app = try await startMeteredGateway(metrics: metrics)
        let http = HTTPTestClient(port: app.port)
        let base = "http://127.0.0.1:\(app.port)"

        let before = try await scrape(base + "/metrics")
        #expect(before.value("imageedit_http_requests_total", ["route": "/healthz"]) == nil)
        #expect(before.value("imageedit_http_requests_in_flight") == 1, "the scrape itself is in flight")

        for _ in 0..<3 { #expect(try await http.send("GET", "/healthz").status == 200) }
        #expect(try await http.send("POST", "/api/register/", json: ["username": "x", "email": "x@example.com", "password": "pass word 1"]).status == 503)
        #expect(try await http.send("GET", "/api/images/images/987654321/").status == 401)
        #expect(try await http.send("GET", "/no/such/thing/123456789").status == 404)
        // Methods the HTTP parser knows but no route takes (unknown ones never get past the parser):
        // 405 on a known path (MethodNotAllowedMiddleware), still labelled unmatched.
        for verb in ["PROPFIND", "PURGE", "MKCOL"] { #expect(try await http.send(verb, "/healthz").status == 405) }

        let after = try await scrape(base + "/metrics")
        #expect(after.value("imageedit_http_requests_total", ["method": "GET", "route": "/healthz", "status": "200"]) == 3)
        #expect(after.value("imageedit_http_request_duration_seconds_count", ["method": "GET", "route": "/healthz"]) == 3)
        #expect(after.value("imageedit_http_requests_total", ["method": "POST", "route": "/api/register", "status": "503"]) == 1)
        #expect(after.value("imageedit_http_requests_total", ["method": "GET", "route": "unmatched", "status": "404"]) == 1)
        #expect(after.value("imageedit_http_requests_total", ["route": "unmatched"]) == 4)
        #expect(after.value("imageedit_http_requests_total", ["route": "/metrics", "status": "200"]) == 1, "the first scrape")
        // Made-up methods share one label value instead of one series each.
        #expect(after.labelValues("imageedit_http_requests_total", "method") == ["GET", "POST", "other"])
        #expect(after.value("imageedit_http_requests_total", ["method": "other", "route": "unmatched", "status": "405"]) == 3)
        #expect(after.value("imageedit_http_requests_in_flight") == 1)
        // The image route is labelled by its pattern: no id, no raw path, in any label.
        let routes = after.labelValues("imageedit_http_requests_total", "route")
        #expect(routes.contains { $0.hasPrefix("/api/images/images/") && !$0.contains("987654321") })
        #expect(!after.text.contains("987654321"))
        #expect(!after.text.contains("123456789"))
        await app.stop()
    }

    @Test func withoutARendererThereIsNoMetricsRoute() async throws {
        let app = try await startMeteredGateway(metrics: nil)
        #expect(try await HTTPTestClient(port: app.port).send("GET", "/metrics").status == 404)
        await app.stop()
    }
}

@Suite(.enabled(if: testDatabaseURL != nil, "needs TEST_DATABASE_URL (run `make test`)"), .serialized)
struct OperationsLiveTests {
    func health(_ port: Int, _ service: String) async throws -> HealthCheckResponse.ServingStatus {
        try await HealthClient(transport: HTTP2ClientTransport(host: "127.0.0.1", port: port))
            .check(HealthCheckRequest(service: service), context: .timeout(.seconds(5))).status
    }

    /// Polls until `body` is true (health results are cached for 2 s).
    func eventually(_ what: Comment, _ body: () async throws -> Bool) async throws {
        for _ in 0..<60 {
            if try await body() { return }
            try await Task.sleep(for: .milliseconds(250))
        }
        Issue.record("never happened: \(what)")
    }

    @Test func everyProcessServesItsSeriesAfterTraffic() async throws {
        let metrics = StackMetrics()
        let stack = try await LiveImageStack.start(.localStoreLocalEngine, metrics: metrics)
        let auth = "http://127.0.0.1:\(try #require(stack.auth.metricsPort))"
        let storage = "http://127.0.0.1:\(try #require(stack.storage.metricsPort))"
        let edit = "http://127.0.0.1:\(try #require(stack.edit.metricsPort))"
        let gateway = stack.http.baseURL

        let authBefore = try await scrape(auth + "/metrics")
        let registered = authBefore.value("imageedit_rpc_server_calls_total", ["method": AuthServiceMethods.register, "code": "OK"]) ?? 0

        let (token, _) = try await stack.newUser()
        #expect(try await stack.upload(token, image: try imageFixture("gradient-64x48.png"), prompt: "grayscale").status == 201)
        #expect(try await stack.count(token) == 1)

        let authAfter = try await scrape(auth + "/metrics")
        #expect(authAfter.value("imageedit_rpc_server_calls_total", ["method": AuthServiceMethods.register, "code": "OK"]) == registered + 1)
        #expect(authAfter.value("imageedit_rpc_server_calls_total", ["method": AuthServiceMethods.login, "code": "OK"]) == 1)
        #expect(authAfter.value("imageedit_rpc_server_call_duration_seconds_count", ["method": AuthServiceMethods.login]) == 1)
        #expect(authAfter.value("imageedit_rpc_server_calls_in_flight", ["service": "auth"]) == 0)
        #expect(authAfter.value("imageedit_db_pool_max_connections", ["service": "auth"]) == 4)
        let idle = try #require(authAfter.value("imageedit_db_pool_connections", ["service": "auth", "state": "idle"]))
        #expect(idle >= 1, "register and login left a connection open")
        #expect(authAfter.value("imageedit_db_pool_connections", ["service": "auth", "state": "in_use"]) == 0)
        #expect(authAfter.value("imageedit_db_pool_waiters", ["service": "auth"]) == 0)

        let storageScrape = try await scrape(storage + "/metrics")
        #expect(storageScrape.value("imageedit_rpc_server_calls_total", ["method": StorageServiceMethods.createImage, "code": "OK"]) == 1)
        #expect(storageScrape.value("imageedit_rpc_server_calls_total", ["method": StorageServiceMethods.listImages, "code": "OK"]) == 1)
        #expect(storageScrape.value("imageedit_db_pool_max_connections", ["service": "storage"]) == 4)
        // Storage verifies tokens with keys it fetched from auth: a client call it made.
        #expect((storageScrape.value("imageedit_rpc_client_calls_total", ["method": AuthServiceMethods.getVerificationKeys, "code": "OK"]) ?? 0) >= 1)

        let editScrape = try await scrape(edit + "/metrics")
        #expect(editScrape.value("imageedit_rpc_server_calls_total", ["code": "OK"]) ?? 0 >= 1)

        let gatewayScrape = try await scrape(gateway + "/metrics")
        #expect(gatewayScrape.value("imageedit_http_requests_total", ["method": "POST", "route": "/api/images/images", "status": "201"]) == 1)
        #expect(gatewayScrape.value("imageedit_rpc_client_calls_total", ["method": AuthServiceMethods.login, "code": "OK"]) == 1)
        #expect(gatewayScrape.value("imageedit_rpc_client_calls_total", ["method": StorageServiceMethods.createImage, "code": "OK"]) == 1)

        // Nothing secret in any scrape: not the token, not the password.
        for text in [authAfter.text, storageScrape.text, editScrape.text, gatewayScrape.text] {
            #expect(!text.contains(token))
            #expect(!text.contains("pictures please"))
        }
        // The listener answers nothing else.
        #expect(try await CurlHTTPClient(threads: 1).send(HTTPClient.HTTPRequest(url: auth + "/api/user", timeout: .seconds(5))).status == 404)
        await stack.stop()
    }

    @Test func storageIsNotServingWhileItsBlobStoreIsUnreachableAndReadinessSaysWhy() async throws {
        let unreachable = ["AWS_STORAGE_BUCKET_NAME": "nowhere", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y",
                           "AWS_ENDPOINT_URL": "http://127.0.0.1:1"]
        let metrics = StackMetrics()
        let stack = try await LiveImageStack.start(.localStoreLocalEngine, storageOverrides: unreachable, metrics: metrics)
        #expect(try await health(stack.storage.port, StorageServiceMethods.serviceName) == .notServing)
        #expect(try await health(stack.storage.port, "") == .notServing)
        #expect(try await health(stack.storage.port, "blob_store") == .notServing)
        #expect(try await health(stack.storage.port, "database") == .serving)
        #expect(try await health(stack.auth.port, AuthServiceMethods.serviceName) == .serving)

        let ready = try await stack.http.send("GET", "/readyz")
        #expect(ready.status == 503)
        #expect((ready.json["checks"] as? [String: String]) == ["auth": "ok", "storage": "unavailable", "edit": "ok"])
        #expect((ready.json["reasons"] as? [String: String]) == ["storage": "not serving: blob_store"])

        // The failed S3 attempts are counted as backend failures (no answer: status "error").
        let storage = try await scrape("http://127.0.0.1:\(try #require(stack.storage.metricsPort))/metrics")
        let failures = try #require(storage.value("imageedit_backend_requests_total", ["backend": "s3", "operation": "HEAD", "status": "error"]))
        #expect(failures >= 1)
        #expect(storage.value("imageedit_backend_requests_total", ["backend": "s3", "status": "2xx"]) == nil)
        #expect(storage.value("imageedit_dependency_up", ["service": "storage", "dependency": "blob_store"]) == 0)
        #expect(storage.value("imageedit_dependency_up", ["service": "storage", "dependency": "database"]) == 1)
        await stack.stop()
    }

    @Test func poolGaugesShowConnectionsInUseAndCallersWaiting() async throws {
        let pool = PostgresPool(url: testDatabaseURL!, size: 1)
        let metrics = ProcessMetrics()
        metrics.observe(pool: pool, service: "test")
        let labels = ["service": "test"]
        func gauge(_ name: String, _ extra: [String: String] = [:]) -> Double? {
            Scrape(text: metrics.renderText()).value(name, labels.merging(extra) { $1 })
        }
        #expect(gauge("imageedit_db_pool_max_connections") == 1)
        #expect(gauge("imageedit_db_pool_connections", ["state": "in_use"]) == 0)

        // One call holds the only connection (blocking a pool thread) until released.
        let release = DispatchSemaphore(value: 0)
        let holder = Task { try await pool.withConnection { _ in release.wait() } }
        try await eventually("the connection in use") { gauge("imageedit_db_pool_connections", ["state": "in_use"]) == 1 }
        let waiter = Task { try await pool.query("SELECT 1", deadline: .now + .seconds(30)) }
        try await eventually("a caller waiting") { gauge("imageedit_db_pool_waiters") == 1 }
        #expect(gauge("imageedit_db_pool_connections", ["state": "idle"]) == 0)

        release.signal()
        try await holder.value
        _ = try await waiter.value
        #expect(gauge("imageedit_db_pool_waiters") == 0)
        #expect(gauge("imageedit_db_pool_connections", ["state": "in_use"]) == 0)
        #expect(gauge("imageedit_db_pool_connections", ["state": "idle"]) == 1)
        await pool.close()
    }

    /// On a cluster of its own ("pg-health"), so stopping it disturbs no other test.
    @Test func authIsNotServingWhileTheDatabaseIsDownAndServesAgainWhenItIsBack() async throws {
        #expect(await runScript(["scripts/pg.sh", "start", "pg-health"], environment: "PG_ANY_PORT=1") == 0)
        let url = try #require(await scriptOutput(["scripts/pg.sh", "url", "pg-health"]))
        let stack = try await LiveAuthStack.start(databaseURL: url)
        let service = AuthServiceMethods.serviceName
        let metrics = "http://127.0.0.1:\(try #require(stack.auth.metricsPort))/metrics"
        let databaseUp = ["service": "auth", "dependency": "database"]
        #expect(try await scrape(metrics).value("imageedit_dependency_up", databaseUp) == nil, "no check has run yet")
        #expect(try await health(stack.auth.port, service) == .serving)
        #expect(try await scrape(metrics).value("imageedit_dependency_up", databaseUp) == 1)
        #expect(try await health(stack.auth.port, "database") == .serving)
        #expect((try await stack.http.send("GET", "/readyz").json["checks"] as? [String: String])?["auth"] == "ok")

        #expect(await runScript(["scripts/pg.sh", "stop", "pg-health"]) == 0)
        try await eventually("auth NOT_SERVING") { try await health(stack.auth.port, service) == .notServing }
        #expect(try await health(stack.auth.port, "database") == .notServing)
        let down = try await stack.http.send("GET", "/readyz")
        #expect(down.status == 503)
        #expect((down.json["checks"] as? [String: String])?["auth"] == "unavailable")
        #expect((down.json["reasons"] as? [String: String])?["auth"] == "not serving: database")
        #expect(try await scrape(metrics).value("imageedit_dependency_up", databaseUp) == 0)

        #expect(await runScript(["scripts/pg.sh", "start", "pg-health"], environment: "PG_ANY_PORT=1") == 0)
        try await eventually("auth SERVING again") { try await health(stack.auth.port, service) == .serving }
        #expect(try await health(stack.auth.port, "database") == .serving)
        let up = try await stack.http.send("GET", "/readyz")
        #expect((up.json["checks"] as? [String: String])?["auth"] == "ok")
        #expect((up.json["reasons"] as? [String: String])?["auth"] == nil)
        #expect(try await scrape(metrics).value("imageedit_dependency_up", databaseUp) == 1)
        await stack.stop()
        _ = await runScript(["scripts/pg.sh", "stop", "pg-health"])
    }
}
