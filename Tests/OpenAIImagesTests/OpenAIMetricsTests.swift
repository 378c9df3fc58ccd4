import HTTPClient
import MetricsTestKit
import OpenAIImages
import Testing
import TestSupport

/// Every OpenAI attempt (and download) is counted by answer class and timed (`BackendMetrics`).
@Suite struct OpenAIMetricsTests {
    static let requests = "imageedit_backend_requests_total"
    static let image = TestPNG.make(width: 64, height: 64)

    func edit(_ baseURL: String, apiKey: String, prompt: String = "make it pop", metrics: TestMetrics) async throws -> [UInt8] {
        let http = CurlHTTPClient(threads: 2)
        defer { Task { await http.shutdown() } }
        let configuration = OpenAIConfiguration(apiKey: apiKey, baseURL: baseURL, maxAttempts: 3,
                                                initialBackoff: .milliseconds(10), maxBackoff: .milliseconds(50))
        let editor = OpenAIImageEditor(configuration: configuration, http: http, metrics: BackendMetrics(backend: "openai", factory: metrics))
        return try await editor.edit(ImageEditRequest(image: Self.image, mask: nil, prompt: prompt, size: "256x256"), deadline: .now + .seconds(20))
    }

    @Test func retriedRateLimitsThenSuccessAreThreeAttempts() async throws {
        try await FakeOpenAIServer.with { fake async throws in
            try await fake.script([
                .error(status: 429, code: "rate_limit_exceeded", type: "requests", headers: ["Retry-After": "0"]),
                .error(status: 429, code: "rate_limit_exceeded", type: "requests", headers: ["Retry-After": "0"]),
                .pass(),
            ])
            let metrics = TestMetrics()
            _ = try await edit(fake.baseURL, apiKey: fake.apiKey, metrics: metrics)
            #expect(metrics.counterTotal(label: Self.requests, dimensions: [("backend", "openai"), ("operation", "edit"), ("status", "4xx")]) == 2)
            #expect(metrics.counterTotal(label: Self.requests, dimensions: [("backend", "openai"), ("operation", "edit"), ("status", "2xx")]) == 1)
            #expect(metrics.timers(label: "imageedit_backend_request_duration_seconds", dimensions: [("operation", "edit")])
                .flatMap(\.values).count == 3)
            // Nothing of the key or the prompt in any label.
            #expect(!metrics.counters.flatMap(\.dimensions).contains { $0.1.contains(fake.apiKey) || $0.1.contains("pop") })
        }
    }

    @Test func aURLAnswerCountsTheDownloadToo() async throws {
        try await FakeOpenAIServer.with { fake async throws in
            let metrics = TestMetrics()
            _ = try await edit(fake.baseURL, apiKey: fake.apiKey, prompt: "FAKE_URL please", metrics: metrics)
            #expect(metrics.counterTotal(label: Self.requests, dimensions: [("operation", "edit"), ("status", "2xx")]) == 1)
            #expect(metrics.counterTotal(label: Self.requests, dimensions: [("operation", "download"), ("status", "2xx")]) == 1)
        }
    }

    @Test func anUnreachableBackendCountsEachAttemptAsAnError() async throws {
        let metrics = TestMetrics()
        await #expect(throws: OpenAIError.self) { _ = try await edit("http://127.0.0.1:1/v1", apiKey: "sk-x", metrics: metrics) }
        #expect(metrics.counterTotal(label: Self.requests, dimensions: [("operation", "edit"), ("status", "error")]) == 3)
        #expect(metrics.counterTotal(label: Self.requests, dimensions: [("status", "2xx")]) == 0)
    }
}
