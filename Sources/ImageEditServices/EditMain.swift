import EditAPI
import EditServer
import Foundation
import GRPCHealth
import HTTPClient
import OpenAIImages
import Imaging
public import Logging
import MetricsEndpoint
import RPCCore
import RPCNIO
public import ServiceConfig

/// The edit service's settings, from the environment.
public struct EditSettings: Sendable {
    public var common: CommonSettings
    public var imageThreads: Int
    public var maxImagePixels: Int
    public var maxImageBytes: Int

    public init(_ environment: ConfigEnvironment) throws(ConfigError) {
        common = try CommonSettings(environment)
        imageThreads = try environment.int("IMAGE_THREADS", default: System.coreCountForHashing, range: 1...64)
        maxImagePixels = try environment.int("MAX_IMAGE_PIXELS", default: 40_000_000, range: 1_000_000...200_000_000)
        maxImageBytes = try environment.int("MAX_IMAGE_BYTES", default: 20 * 1024 * 1024, range: 1024...100 * 1024 * 1024)
    }
}

/// A running edit service.
public final class RunningEditService: Sendable {
    public let port: Int
    /// The port of its `GET /metrics` listener, when it has one.
    public let metricsPort: Int?
    let server: RPCServer
    let workers: ImageWorkers
    let metricsListener: MetricsHTTPServer?

    init(port: Int, server: RPCServer, workers: ImageWorkers, metricsListener: (MetricsHTTPServer, Int)?) {
        self.port = port
        self.server = server
        self.workers = workers
        self.metricsListener = metricsListener?.0
        self.metricsPort = metricsListener?.1
    }

    public func shutdown(gracePeriod: Duration = .seconds(30)) async {
        await server.shutdown(gracePeriod: gracePeriod)
        await workers.shutdown()
        await metricsListener?.shutdown()
    }
}

/// Starts the edit service: the OpenAI backend when OPENAI_API_KEY is set, else the local
/// engine. `port` overrides EDIT_PORT (0 picks a free port); `metricsPort` overrides
/// EDIT_METRICS_PORT as for ``startAuthService``.
public func startEditService(_ environment: ConfigEnvironment, port: Int? = nil, metricsPort: Int? = nil, logger: Logger,
                             metrics: ProcessMetrics = .shared) async throws -> RunningEditService {
    let settings = try EditSettings(environment)
    limitMallocArenas()
    var limits = ImageLimits()
    limits.maxPixels = settings.maxImagePixels
    limits.maxBytes = settings.maxImageBytes
    let workers = ImageWorkers(processor: ImageProcessor(limits: limits), threads: settings.imageThreads)
    let backend = try makeEditBackend(environment, workers: workers, logger: logger, metrics: metrics)
    let provider = EditServiceProvider(authenticator: try remoteAuthenticator(settings.common, metrics: metrics), backend: backend, workers: workers)
    let health = HealthProvider(services: [EditServiceMethods.serviceName], status: .serving)
    var registry = ServiceRegistry()
    registry.register(contentsOf: provider.serverMethods)
    registry.register(contentsOf: health.serverMethods)
    var configuration = RPCServer.Configuration(host: settings.common.bindHost, port: port ?? settings.common.editPort)
    configuration.onCallFinished = callObserver(logger, metrics: metrics)
    try useServerTLS(&configuration, settings.common, logger: logger)
    let server = RPCServer(configuration: configuration, registry: registry)
    let bound: Int
    let listener: (MetricsHTTPServer, Int)?
    do {
        bound = try await server.start()
        listener = try await startMetricsListener(
            host: settings.common.bindHost, variable: "EDIT_METRICS_PORT", metrics: metrics,
            port: metricsListenerPort(override: metricsPort, servicePortOverridden: port != nil, setting: settings.common.editMetricsPort))
    } catch {
        await server.shutdown(gracePeriod: .zero)
        await workers.shutdown()
        throw error
    }
    metrics.observe(server: server, service: "edit")
    logger.info("edit service listening", metadata: [
        "address": .string("\(settings.common.bindHost):\(bound)"), "backend": .string(backend is LocalEditBackend ? "local" : "openai"),
        "metrics": .string(listener.map { "http://\(settings.common.bindHost):\($0.1)/metrics" } ?? "off"),
    ])
    return RunningEditService(port: bound, server: server, workers: workers, metricsListener: listener)
}

/// OpenAI when OPENAI_API_KEY is set (OPENAI_BASE_URL, OPENAI_IMAGE_MODEL), else the local engine.
func makeEditBackend(_ environment: ConfigEnvironment, workers: ImageWorkers, logger: Logger, metrics: ProcessMetrics) throws -> any EditBackend {
    guard let configuration = try OpenAIConfiguration(environment) else { return LocalEditBackend(workers: workers) }
    let http = CurlHTTPClient(threads: OpenAIImageEditor.recommendedHTTPThreads)
    let editor = OpenAIImageEditor(configuration: configuration, http: http, logger: logger,
                                   metrics: BackendMetrics(backend: "openai", factory: metrics.factory))
    return OpenAIEditBackend(editor: editor,
                             model: configuration.model, workers: workers)
}

/// Two malloc arenas (``ImageMemory/limitMallocArenas(to:)``) unless the operator set
/// MALLOC_ARENA_MAX, which glibc has already applied.
func limitMallocArenas() {
    guard ProcessInfo.processInfo.environment["MALLOC_ARENA_MAX"] == nil else { return }
    ImageMemory.limitMallocArenas(to: 2)
}
