import HTTPClient
@testable import MetricsEndpoint
import NIOHTTP1
import Synchronization
import Testing

/// The internal services' `/metrics` listener, over a real socket.
@Suite struct MetricsHTTPServerTests {
    /// A listener whose body counts its own scrapes, on a free port.
    func start() async throws -> (MetricsHTTPServer, base: String, scrapes: Scrapes) {
        let scrapes = Scrapes()
        let server = MetricsHTTPServer(host: "127.0.0.1", port: 0) {
            Array("# TYPE test_scrapes_total counter\ntest_scrapes_total \(scrapes.next())\n".utf8)
        }
        let port = try await server.start()
        return (server, "http://127.0.0.1:\(port)", scrapes)
    }

    @Test func servesMetricsRenderedAtEachScrape() async throws {
        let (server, base, _) = try await start()
        let http = CurlHTTPClient(threads: 1)
        let first = try await http.send(HTTPRequest(url: base + "/metrics", timeout: .seconds(10)))
        #expect(first.status == 200)
        #expect(first.header("content-type") == "text/plain; version=0.0.4; charset=utf-8")
        #expect(String(decoding: first.body, as: UTF8.self).contains("test_scrapes_total 1\n"))
        let second = try await http.send(HTTPRequest(url: base + "/metrics?debug=1", timeout: .seconds(10)))
        #expect(String(decoding: second.body, as: UTF8.self).contains("test_scrapes_total 2\n"))
        await server.shutdown()
    }

    @Test func otherPathsAreNotFoundAndOtherMethodsNotAllowed() async throws {
        let (server, base, scrapes) = try await start()
        let http = CurlHTTPClient(threads: 1)
        for path in ["/", "/metricsx", "/api/user", "/metrics/extra"] {
            #expect(try await http.send(HTTPRequest(url: base + path, timeout: .seconds(10))).status == 404, "\(path)")
        }
        let post = try await http.send(HTTPRequest(method: "POST", url: base + "/metrics", body: Array("x".utf8), timeout: .seconds(10)))
        #expect(post.status == 405)
        #expect(post.header("allow") == "GET, HEAD")
        let health = try await http.send(HTTPRequest(url: base + "/healthz", timeout: .seconds(10)))
        #expect(health.status == 200)
        #expect(String(decoding: health.body, as: UTF8.self) == "ok\n")
        #expect(scrapes.count == 0, "none of these rendered the metrics")
        await server.shutdown()
    }

    @Test func refusesConnectionsAfterShutdown() async throws {
        let (server, base, _) = try await start()
        await server.shutdown()
        await #expect(throws: HTTPClientError.self) {
            _ = try await CurlHTTPClient(threads: 1).send(HTTPRequest(url: base + "/metrics", timeout: .seconds(5)))
        }
    }

    @Test(arguments: [
        ("GET", "/metrics", 200), ("HEAD", "/metrics", 200), ("GET", "/metrics/", 200), ("GET", "/metrics?x=1", 200),
        ("GET", "/healthz", 200), ("PUT", "/metrics", 405), ("DELETE", "/healthz", 405), ("GET", "/", 404),
        ("GET", "/Metrics", 404), ("POST", "/nowhere", 404),
    ])
    func routes(method: String, uri: String, status: Int) {
        let answer = MetricsRequestHandler.route(method: HTTPMethod(rawValue: method), uri: uri) { Array("m".utf8) }
        #expect(Int(answer.status.code) == status)
        #expect((answer.body == Array("m".utf8)) == (status == 200 && uri.hasPrefix("/metrics")))
    }
}

/// Counts renders. Thread-safe.
final class Scrapes: Sendable {
    private let value = Mutex(0)
    var count: Int { value.withLock { $0 } }
    func next() -> Int {
        value.withLock {
            $0 += 1
            return $0
        }
    }
}
