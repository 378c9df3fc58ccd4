import AuthAPI
import EditAPI
import StorageAPI
import AuthTokens
import Foundation
import GRPCHealth
public import Gateway
public import Hummingbird
public import Logging
import OpenSSLCrypto
import RPCCore
import RPCNIO
public import ServiceConfig

/// The gateway's settings, from the environment.
public struct GatewayServiceSettings: Sendable {
    public var common: CommonSettings
    public var gateway: GatewaySettings

    public init(_ environment: ConfigEnvironment) throws(ConfigError) {
        common = try CommonSettings(environment)
        gateway = GatewaySettings()
        gateway.host = common.bindHost
        gateway.port = common.gatewayPort
        gateway.rpcTimeout = common.rpcTimeout
        gateway.maxJSONBodyBytes = try environment.int("MAX_JSON_BODY_BYTES", default: 64 * 1024, range: 1024...16 * 1024 * 1024)
        gateway.maxUploadBytes = try environment.int("MAX_UPLOAD_BYTES", default: 25 * 1024 * 1024, range: 1024...200 * 1024 * 1024)
        gateway.editTimeout = .milliseconds(try environment.int("EDIT_TIMEOUT_MS", default: 90_000, range: 1_000...600_000))
        gateway.maxConcurrentUploads = try environment.int("MAX_CONCURRENT_UPLOADS", default: 4, range: 1...1024)
        if let base = environment["PUBLIC_BASE_URL"] {
            guard base.hasPrefix("http://") || base.hasPrefix("https://") else {
                throw ConfigError("PUBLIC_BASE_URL", "must start with http:// or https://")
            }
            gateway.publicBaseURL = base.hasSuffix("/") ? String(base.dropLast()) : base
        }
    }
}

/// Builds the gateway with live clients of the internal services. `port` overrides
/// GATEWAY_PORT (0 picks a free port); `onRunning` receives the bound port. Request series go
/// to `metrics` (tests pass a fresh one), served at `GET /metrics`.
public func makeGateway(_ environment: ConfigEnvironment, port: Int? = nil, logger: Logger, metrics: ProcessMetrics = .shared,
                        onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) throws -> some ApplicationProtocol {
    var settings = try GatewayServiceSettings(environment)
    if let port { settings.gateway.port = port }
    let tls = try clientTLS(settings.common)
    let authTransport = metrics.metered(internalClient(settings.common.authAddress, tls: tls))
    let auth = AuthServiceClient(transport: authTransport)
    let authHealth = HealthClient(transport: authTransport)
    let timeout = settings.common.rpcTimeout
    let authenticator = AccessAuthenticator {
        let response = try await auth.getVerificationKeys(GetVerificationKeysRequest(), context: RPCContext.timeout(timeout))
        return try response.keys.filter { $0.algorithm == "EdDSA" }.map { try Ed25519.PublicKey(rawRepresentation: $0.publicKey) }
    }
    let storageTransport = metrics.metered(internalClient(settings.common.storageAddress, tls: tls))
    let editTransport = metrics.metered(internalClient(settings.common.editAddress, tls: tls))
    let storageHealth = HealthClient(transport: storageTransport)
    let editHealth = HealthClient(transport: editTransport)
    let dependencies = GatewayDependencies(
        auth: auth, storage: StorageServiceClient(transport: storageTransport), edit: EditServiceClient(transport: editTransport),
        authenticator: authenticator,
        readinessChecks: [
            ("auth", { try await checkServing(authHealth, service: AuthServiceMethods.serviceName, dependencies: ["database"]) }),
            ("storage", {
                try await checkServing(storageHealth, service: StorageServiceMethods.serviceName, dependencies: ["database", "blob_store"])
            }),
            ("edit", { try await checkServing(editHealth, service: EditServiceMethods.serviceName, dependencies: []) }),
        ],
        metricsFactory: metrics.factory,
        metricsText: { metrics.render() })
    let router = buildGatewayRouter(settings: settings.gateway, dependencies: dependencies, logger: logger)
    let host = settings.gateway.host
    return Application(
        router: router,
        configuration: ApplicationConfiguration(address: .hostname(host, port: settings.gateway.port), serverName: "imageedit-gateway"),
        onServerRunning: { channel in
            let bound = channel.localAddress?.port ?? 0
            logger.info("gateway listening", metadata: ["address": .string("http://\(host):\(bound)")])
            await onRunning(bound)
        },
        logger: logger)
}

/// Asks a service's health endpoint; throws unless it is SERVING. When it is not, asks about
/// each of its `dependencies` by name (see `DependencyHealth`) and throws a
/// ``ReadinessFailure`` naming those that are down, e.g. `not serving: database`.
func checkServing(_ health: HealthClient, service: String, dependencies: [String]) async throws {
    let response = try await health.check(HealthCheckRequest(service: service), context: .timeout(.seconds(2)))
    guard response.status != .serving else { return }
    var down: [String] = []
    for dependency in dependencies {
        // A service that does not know the name (NOT_FOUND) or cannot answer says nothing about it.
        if let answer = try? await health.check(HealthCheckRequest(service: dependency), context: .timeout(.seconds(2))),
           answer.status == .notServing {
            down.append(dependency)
        }
    }
    throw ReadinessFailure(down.isEmpty ? "not serving" : "not serving: " + down.joined(separator: ", "))
}
