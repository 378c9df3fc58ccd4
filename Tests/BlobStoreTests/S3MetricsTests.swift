@testable import BlobStore
import HTTPClient
import MetricsTestKit
import Testing

/// Every S3 attempt is counted by method and answer class, and timed (`BackendMetrics`).
@Suite struct S3MetricsTests {
    static let requests = "imageedit_backend_requests_total"
    static let latency = "imageedit_backend_request_duration_seconds"

    func store(endpoint: String, attempts: Int, metrics: TestMetrics) throws -> S3BlobStore {
        try S3BlobStore(configuration: S3Configuration(bucket: "bucket-1", accessKeyID: "AKIA", secretAccessKey: "secret", endpointURL: endpoint,
                                                       retry: S3RetryPolicy(maxAttempts: attempts, baseDelay: .milliseconds(10))),
                        httpClient: CurlHTTPClient(threads: 1), metrics: BackendMetrics(backend: "s3", factory: metrics))
    }

    @Test func fiveHundredsCountEveryAttemptAsAFailure() async throws {
        let server = try StatusServer(status: 503, code: "SlowDown")
        defer { server.stop() }
        let metrics = TestMetrics()
        let store = try store(endpoint: server.url, attempts: 3, metrics: metrics)
        await expectBlobError(.unavailable) { try await store.put(key: "a/b", bytes: [1], contentType: "x", deadline: .now + .seconds(30)) }
        #expect(metrics.counterTotal(label: Self.requests, dimensions: [("backend", "s3"), ("operation", "PUT"), ("status", "5xx")]) == 3)
        #expect(metrics.counterTotal(label: Self.requests, dimensions: [("status", "2xx")]) == 0)
        #expect(metrics.timers(label: Self.latency, dimensions: [("backend", "s3"), ("operation", "PUT")]).flatMap(\.values).count == 3)
    }

    @Test func aFourHundredIsOneAttemptOfItsClass() async throws {
        let server = try StatusServer(status: 404, code: "NoSuchKey")
        defer { server.stop() }
        let metrics = TestMetrics()
        let store = try store(endpoint: server.url, attempts: 3, metrics: metrics)
        await expectBlobError(.notFound) { try await store.get(key: "a/b", deadline: nil) }
        #expect(metrics.counterTotal(label: Self.requests, dimensions: [("operation", "GET"), ("status", "4xx")]) == 1)
        #expect(metrics.counterTotal(label: Self.requests) == 1)
    }

    @Test func noAnswerIsAnError() async throws {
        let metrics = TestMetrics()
        // Port 1 on loopback: refused at once, every attempt.
        let store = try store(endpoint: "http://127.0.0.1:1", attempts: 2, metrics: metrics)
        await expectBlobError(.unavailable) { try await store.checkReachable(deadline: nil) }
        #expect(metrics.counterTotal(label: Self.requests, dimensions: [("operation", "HEAD"), ("status", "error")]) == 2)
        // Labels are fixed words: nothing of the key, bucket or endpoint.
        for counter in metrics.counters(label: Self.requests) {
            #expect(counter.dimensions.map(\.0) == ["backend", "operation", "status"])
            #expect(!counter.dimensions.contains { $0.1.contains("127.0.0.1") || $0.1.contains("bucket") })
        }
    }

    @Test(arguments: [(200, "2xx"), (204, "2xx"), (301, "3xx"), (404, "4xx"), (503, "5xx"), (nil, "error"), (99, "error"), (600, "error")])
    func statusClasses(status: Int?, label: String) {
        #expect(BackendMetrics.statusClass(status) == label)
    }
}
