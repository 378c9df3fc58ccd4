import Logging
import MetricsEndpoint
import RPCCore
import RPCNIO
import ServiceConfig

/// An internal service's RPC server and its metrics listener, started by ``startRPCService``.
struct StartedRPCService {
    let server: RPCServer
    /// The port the RPC server listens on.
    let port: Int
    /// The `GET /metrics` listener and its port, or `nil` when turned off.
    let metricsListener: (MetricsHTTPServer, Int)?
    /// For the start-up log line: the metrics URL, or "off".
    let metricsDescription: String
}

/// Starts what auth, storage and edit share: an RPC server for `methods` (every call logged and
/// counted, TLS when configured) on `port` or the `portVariable` setting, then the metrics
/// listener on `metricsPort` or the `metricsVariable` setting (see ``metricsListenerPort``).
/// When either start fails, `cleanUp` releases what the caller opened (pools, threads) and a
/// taken port is reported as a ``PortInUseError`` naming its variable.
func startRPCService(
    _ service: String, methods: [[ServerMethod]], common: CommonSettings,
    port: Int?, portVariable: String, portSetting: Int,
    metricsPort: Int?, metricsVariable: String, metricsPortSetting: Int,
    logger: Logger, metrics: ProcessMetrics, cleanUp: () async -> Void
) async throws -> StartedRPCService {
    var registry = ServiceRegistry()
    for group in methods { registry.register(contentsOf: group) }
    var configuration = RPCServer.Configuration(host: common.bindHost, port: port ?? portSetting)
    configuration.onCallFinished = callObserver(logger, metrics: metrics)
    try useServerTLS(&configuration, common, logger: logger)
    let server = RPCServer(configuration: configuration, registry: registry)
    let bound: Int
    let listener: (MetricsHTTPServer, Int)?
    do {
        bound = try await server.start()
        listener = try await startMetricsListener(
            host: common.bindHost, variable: metricsVariable, metrics: metrics,
            port: metricsListenerPort(override: metricsPort, servicePortOverridden: port != nil, setting: metricsPortSetting))
    } catch {
        await server.shutdown(gracePeriod: .zero)
        await cleanUp()
        if isAddressInUse(error) && !(error is PortInUseError) {
            throw PortInUseError(variable: port == nil ? portVariable : "port", address: "\(configuration.host):\(configuration.port)")
        }
        throw error
    }
    metrics.observe(server: server, service: service)
    return StartedRPCService(
        server: server, port: bound, metricsListener: listener,
        metricsDescription: listener.map { "http://\(common.bindHost):\($0.1)/metrics" } ?? "off")
}
