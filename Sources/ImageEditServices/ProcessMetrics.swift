public import CoreMetrics
import MetricsEndpoint
import Postgres
public import Prometheus
import RPCCore
import RPCNIO
import Synchronization

/// A process's metrics: one Prometheus registry, the swift-metrics factory that fills it, and
/// gauges sampled just before each scrape (pool use, calls in flight).
///
/// The `imageedit` executable bootstraps swift-metrics once with ``shared`` (so libraries that
/// use the global `MetricsSystem` land in the same registry); everything of ours is handed the
/// factory explicitly, so a test can give each stack a fresh ``ProcessMetrics()`` and read
/// exact numbers. Thread-safe.
public final class ProcessMetrics: Sendable {
    /// The process-wide instance the executable serves.
    public static let shared = ProcessMetrics()

    /// Where every series lives.
    public let registry: PrometheusCollectorRegistry
    /// The swift-metrics factory over ``registry``; Timers become histograms in seconds.
    public let factory: any MetricsFactory
    private let samplers = Mutex<[@Sendable () -> Void]>([])

    /// A fresh, empty registry (tests make one each).
    public init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
            .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5),
            .seconds(10), .seconds(30), .seconds(60),
        ]
        self.factory = factory
    }

    /// Bootstraps swift-metrics' global system with ``shared`` — once per process; later calls
    /// do nothing.
    public static func bootstrapOnce() {
        _ = Bootstrap.once
    }

    private enum Bootstrap {
        static let once: Void = MetricsSystem.bootstrap(ProcessMetrics.shared.factory)
    }

    /// Adds a gauge refresher that runs before every scrape. It must be fast and thread-safe.
    func addSampler(_ sampler: @escaping @Sendable () -> Void) {
        samplers.withLock { $0.append(sampler) }
    }

    /// Every series in the Prometheus text format, gauges refreshed first.
    public func render() -> [UInt8] {
        for sampler in samplers.withLock({ $0 }) { sampler() }
        return registry.emitToBuffer()
    }

    /// The text format as a string, for tests and logs.
    public func renderText() -> String {
        String(decoding: render(), as: UTF8.self)
    }

    // MARK: What the services record

    /// Pool use of `service`'s PostgreSQL pool, refreshed at each scrape:
    /// `imageedit_db_pool_connections{service, state="in_use"|"idle"}`,
    /// `imageedit_db_pool_waiters{service}` and `imageedit_db_pool_max_connections{service}`.
    func observe(pool: PostgresPool, service: String) {
        let inUse = CoreMetrics.Gauge(label: "imageedit_db_pool_connections", dimensions: [("service", service), ("state", "in_use")], factory: factory)
        let idle = CoreMetrics.Gauge(label: "imageedit_db_pool_connections", dimensions: [("service", service), ("state", "idle")], factory: factory)
        let waiters = CoreMetrics.Gauge(label: "imageedit_db_pool_waiters", dimensions: [("service", service)], factory: factory)
        let maximum = CoreMetrics.Gauge(label: "imageedit_db_pool_max_connections", dimensions: [("service", service)], factory: factory)
        addSampler {
            let usage = pool.usage
            inUse.record(usage.open - usage.idle)
            idle.record(usage.idle)
            waiters.record(usage.waiting)
            maximum.record(pool.size)
        }
    }

    /// `imageedit_dependency_up{service, dependency}`: 1 when the last health check of the
    /// dependency passed, 0 when it failed (absent until the first check).
    func dependencyGauge(service: String, dependency: String) -> CoreMetrics.Gauge {
        CoreMetrics.Gauge(label: "imageedit_dependency_up", dimensions: [("service", service), ("dependency", dependency)], factory: factory)
    }

    /// `imageedit_rpc_server_calls_in_flight{service}`, refreshed at each scrape.
    func observe(server: RPCServer, service: String) {
        let inFlight = CoreMetrics.Gauge(label: "imageedit_rpc_server_calls_in_flight", dimensions: [("service", service)], factory: factory)
        addSampler { inFlight.record(server.callsInFlight) }
    }

    /// Records finished server calls: `imageedit_rpc_server_calls_total{method, code}` and
    /// `imageedit_rpc_server_call_duration_seconds{method}`.
    func serverCalls() -> CallMetrics {
        CallMetrics(factory: factory, total: "imageedit_rpc_server_calls_total", duration: "imageedit_rpc_server_call_duration_seconds")
    }

    /// A client transport that records every call it makes:
    /// `imageedit_rpc_client_calls_total{method, code}` and
    /// `imageedit_rpc_client_call_duration_seconds{method}`.
    func metered(_ transport: any ClientTransport) -> any ClientTransport {
        MeteredClientTransport(base: transport, calls: clientCalls)
    }

    private var clientCalls: CallMetrics {
        CallMetrics(factory: factory, total: "imageedit_rpc_client_calls_total", duration: "imageedit_rpc_client_call_duration_seconds")
    }
}

/// A counter by (method, code) and a latency histogram by method, with their handles cached so
/// a call costs one dictionary lookup. `method` is the gRPC path, which only the registry or our
/// own clients choose (a bounded set). Thread-safe.
final class CallMetrics: Sendable {
    private struct Key: Hashable {
        var method: String
        var code: Int
    }

    private let factory: any MetricsFactory
    private let total: String
    private let duration: String
    private let handles = Mutex<[Key: (count: CoreMetrics.Counter, latency: CoreMetrics.Timer)]>([:])

    init(factory: any MetricsFactory, total: String, duration: String) {
        self.factory = factory
        self.total = total
        self.duration = duration
    }

    func record(method: String, code: StatusCode, duration elapsed: Duration) {
        let key = Key(method: method, code: Int(code.rawValue))
        let (factory, total, duration) = (self.factory, self.total, self.duration)
        let (count, latency) = handles.withLock { handles in
            if let found = handles[key] { return found }
            let made = (count: CoreMetrics.Counter(label: total, dimensions: [("method", method), ("code", code.name)], factory: factory),
                        latency: CoreMetrics.Timer(label: duration, dimensions: [("method", method)], factory: factory))
            handles[key] = made
            return made
        }
        count.increment()
        let (seconds, attoseconds) = elapsed.components
        latency.recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}

/// Wraps a transport to count and time its calls.
struct MeteredClientTransport: ClientTransport {
    let base: any ClientTransport
    let calls: CallMetrics

    func unary(path: String, request: [UInt8], context: RPCContext) async throws(RPCError) -> ClientResponse {
        let started = ContinuousClock.now
        do {
            let response = try await base.unary(path: path, request: request, context: context)
            calls.record(method: path, code: .ok, duration: .now - started)
            return response
        } catch {
            calls.record(method: path, code: error.code, duration: .now - started)
            throw error
        }
    }
}

/// Starts the `GET /metrics` listener of an internal service on `port` (0: a free port), or
/// none when `port` is nil. Returns the listener and its bound port.
func startMetricsListener(host: String, variable: String, metrics: ProcessMetrics, port: Int?) async throws -> (MetricsHTTPServer, Int)? {
    guard let port else { return nil }
    let listener = MetricsHTTPServer(host: host, port: port) { metrics.render() }
    do {
        return (listener, try await listener.start())
    } catch where isAddressInUse(error) {
        throw PortInUseError(variable: variable, address: "\(host):\(port)")
    }
}

/// The port a service's metrics listener takes: the caller's `override`; else, when the
/// service port was overridden (as tests do), a free one; else the setting, where 0 means off.
func metricsListenerPort(override: Int?, servicePortOverridden: Bool, setting: Int) -> Int? {
    if let override { return override }
    if servicePortOverridden { return 0 }
    return setting == 0 ? nil : setting
}
