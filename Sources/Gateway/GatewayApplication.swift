public import AuthAPI
public import EditAPI
public import StorageAPI
public import AuthTokens
public import CoreMetrics
import Foundation
public import Hummingbird
public import Logging
import RPCCore

/// What the gateway needs from the outside: the services it calls (client protocols, so tests
/// can hand it fakes) and how to judge readiness.
public struct GatewayDependencies: Sendable {
    public var auth: any AuthService
    public var storage: any StorageService
    public var edit: any EditService
    public var authenticator: AccessAuthenticator
    /// Named readiness checks, each returning normally when its dependency serves. A check
    /// that throws ``ReadinessFailure`` names the reason in `/readyz`.
    public var readinessChecks: [(name: String, check: @Sendable () async throws -> Void)]
    /// Where the request series go (README, "Operations"): the process-wide
    /// `MetricsSystem.factory` unless a test hands in its own.
    public var metricsFactory: any MetricsFactory
    /// The body of `GET /metrics` (the Prometheus text format); without it there is no such route.
    public var metricsText: (@Sendable () -> [UInt8])?

    public init(auth: any AuthService, storage: any StorageService, edit: any EditService, authenticator: AccessAuthenticator,
                readinessChecks: [(name: String, check: @Sendable () async throws -> Void)] = [],
                metricsFactory: any MetricsFactory = MetricsSystem.factory, metricsText: (@Sendable () -> [UInt8])? = nil) {
        self.auth = auth
        self.storage = storage
        self.edit = edit
        self.authenticator = authenticator
        self.readinessChecks = readinessChecks
        self.metricsFactory = metricsFactory
        self.metricsText = metricsText
    }
}

/// Gateway settings (see README, Configuration).
public struct GatewaySettings: Sendable {
    public var host = "127.0.0.1"
    public var port = 8000
    /// Largest JSON request body.
    public var maxJSONBodyBytes = 64 * 1024
    /// Deadline of each downstream call.
    public var rpcTimeout: Duration = .seconds(10)
    /// Deadline of an edit (OpenAI can take tens of seconds).
    public var editTimeout: Duration = .seconds(90)
    /// Largest upload (the whole multipart body).
    public var maxUploadBytes = 25 * 1024 * 1024
    /// Uploads (create, patch, put) processed at once, from parsing to the stored result;
    /// others wait, their bodies read, in arrival order. Bounds the memory uploads take in the
    /// gateway, edit and storage services (see ``ConcurrencyLimit``).
    public var maxConcurrentUploads = 4
    /// The gateway's public base URL (e.g. `https://images.example.com`), used to make
    /// local-store links absolute; without it the request's Host header is used.
    public var publicBaseURL: String?

    public init() {}
}

/// Builds the gateway: the REST routes, translated into RPCs. Tests call this with fakes.
public func buildGatewayApplication(settings: GatewaySettings, dependencies: GatewayDependencies, logger: Logger) -> some ApplicationProtocol {
    let router = buildGatewayRouter(settings: settings, dependencies: dependencies, logger: logger)
    return Application(
        router: router,
        configuration: ApplicationConfiguration(address: .hostname(settings.host, port: settings.port), serverName: "imageedit-gateway"),
        logger: logger)
}

/// The router alone, for in-process tests.
public func buildGatewayRouter(settings: GatewaySettings, dependencies: GatewayDependencies, logger: Logger) -> Router<GatewayRequestContext> {
    let router = Router(context: GatewayRequestContext.self, options: .autoGenerateHeadEndpoints)
    router.add(middleware: GatewayMetricsMiddleware(metrics: HTTPMetrics(factory: dependencies.metricsFactory)))
    router.add(middleware: GatewayMiddleware(logger: logger))
    let auth = AuthRoutes(settings: settings, dependencies: dependencies)
    auth.register(on: router)
    ImageRoutes(settings: settings, dependencies: dependencies, auth: auth).register(on: router)
    HealthRoutes(settings: settings, checks: dependencies.readinessChecks).register(on: router)
    if let render = dependencies.metricsText { MetricsRoute(render: render).register(on: router) }
    SchemaRoutes().register(on: router)
    // Last: it sees only the requests no route took (see MethodNotAllowedMiddleware).
    router.add(middleware: MethodNotAllowedMiddleware(routes: router.routes))
    return router
}

/// The RPC context for a downstream call made while serving `request`: the request id, the
/// caller's bearer token when there is one, and the deadline.
func rpcContext(_ context: GatewayRequestContext, settings: GatewaySettings, bearer: String? = nil) -> RPCContext {
    var metadata = Metadata()
    metadata.add("x-request-id", context.requestID)
    if let bearer { metadata.add("authorization", "Bearer \(bearer)") }
    return RPCContext.timeout(settings.rpcTimeout, metadata: metadata)
}
