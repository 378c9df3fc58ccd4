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
    let started = try await startRPCService(
        "edit", methods: [provider.serverMethods, health.serverMethods], common: settings.common,
        port: port, portVariable: "EDIT_PORT", portSetting: settings.common.editPort,
        metricsPort: metricsPort, metricsVariable: "EDIT_METRICS_PORT", metricsPortSetting: settings.common.editMetricsPort,
        logger: logger, metrics: metrics
    ) {
        await workers.shutdown()
    }
    logger.info("edit service listening", metadata: [
        "address": .string("\(settings.common.bindHost):\(started.port)"), "backend": .string(backend is LocalEditBackend ? "local" : "openai"),
        "metrics": .string(started.metricsDescription),
    ])
    return RunningEditService(port: started.port, server: started.server, workers: workers, metricsListener: started.metricsListener)
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
