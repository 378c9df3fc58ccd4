public import CoreMetrics

/// Counts and times the HTTP requests one backend client sends (S3, OpenAI), through
/// swift-metrics, so this layer never knows which metrics system the process runs.
///
/// Series (see README, "Operations"):
/// - `imageedit_backend_requests_total{backend, operation, status}`: one per attempt; `status`
///   is the answer's class (`2xx`, `3xx`, `4xx`, `5xx`) or `error` when no answer came
///   (connection failure, timeout). Failures are `5xx` and `error`.
/// - `imageedit_backend_request_duration_seconds{backend, operation}`: the attempt's latency.
///
/// Labels are fixed, low-cardinality words chosen by the caller, never URLs, keys or bodies.
/// Thread-safe.
public struct BackendMetrics: Sendable {
    /// The backend's name, e.g. `s3` or `openai`.
    public let backend: String
    private let factory: any MetricsFactory

    /// - Parameter factory: where the series go; the process-wide `MetricsSystem.factory` (a
    ///   no-op until bootstrapped) unless a test hands in its own.
    public init(backend: String, factory: any MetricsFactory = MetricsSystem.factory) {
        self.backend = backend
        self.factory = factory
    }

    /// Records one attempt of `operation` that got an answer with HTTP `status`, or none when
    /// `status` is nil.
    public func record(operation: String, status: Int?, duration: Duration) {
        let dimensions = [("backend", backend), ("operation", operation)]
        Counter(label: "imageedit_backend_requests_total", dimensions: dimensions + [("status", Self.statusClass(status))], factory: factory)
            .increment()
        CoreMetrics.Timer(label: "imageedit_backend_request_duration_seconds", dimensions: dimensions, factory: factory)
            .recordNanoseconds(duration.nanoseconds)
    }

    /// The `status` label: `2xx` … `5xx`, or `error` for no answer (nil) or a number that is no
    /// HTTP status.
    public static func statusClass(_ status: Int?) -> String {
        guard let status, (100...599).contains(status) else { return "error" }
        return "\(status / 100)xx"
    }
}

extension Duration {
    /// Whole nanoseconds, saturating.
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : scaled + attoseconds / 1_000_000_000
    }
}
