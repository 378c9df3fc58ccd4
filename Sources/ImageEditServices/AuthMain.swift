import AuthAPI
import Foundation
import AuthServer
import AuthTokens
import GRPCHealth
public import Logging
import MetricsEndpoint
import Postgres
import RPCCore
import RPCNIO
public import ServiceConfig

/// The auth service's settings, from the environment.
public struct AuthSettings: Sendable {
    public var common: CommonSettings
    public var accessTTLSeconds: Int64
    public var refreshTTLSeconds: Int64
    public var passwordIterations: Int
    public var databasePoolSize: Int
    public var hashingThreads: Int

    public init(_ environment: ConfigEnvironment) throws(ConfigError) {
        common = try CommonSettings(environment)
        accessTTLSeconds = Int64(try environment.int("ACCESS_TOKEN_TTL_SECONDS", default: 900, range: 30...86_400))
        refreshTTLSeconds = Int64(try environment.int("REFRESH_TOKEN_TTL_SECONDS", default: 86_400, range: 60...30 * 86_400))
        passwordIterations = try environment.int("PASSWORD_HASH_ITERATIONS", default: 600_000, range: 1_000...10_000_000)
        if common.isProduction && passwordIterations < 600_000 {
            throw ConfigError("PASSWORD_HASH_ITERATIONS", "must be at least 600000 in production")
        }
        databasePoolSize = try environment.int("DATABASE_POOL_SIZE", default: 8, range: 1...200)
        hashingThreads = try environment.int("PASSWORD_HASH_THREADS", default: System.coreCountForHashing, range: 1...64)
    }
}

enum System {
    static var coreCountForHashing: Int {
        max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    }
}

/// A running auth service.
public final class RunningAuthService: Sendable {
    public let port: Int
    /// The port of its `GET /metrics` listener, when it has one.
    public let metricsPort: Int?
    let server: RPCServer
    let pool: PostgresPool
    let passwords: PasswordHashingPool
    let metricsListener: MetricsHTTPServer?

    init(port: Int, server: RPCServer, pool: PostgresPool, passwords: PasswordHashingPool, metricsListener: (MetricsHTTPServer, Int)?) {
        self.port = port
        self.server = server
        self.pool = pool
        self.passwords = passwords
        self.metricsListener = metricsListener?.0
        self.metricsPort = metricsListener?.1
    }

    /// Graceful stop: GOAWAY, in-flight calls finish (up to `gracePeriod`), pools close.
    public func shutdown(gracePeriod: Duration = .seconds(10)) async {
        await server.shutdown(gracePeriod: gracePeriod)
        await passwords.shutdown()
        await pool.close()
        await metricsListener?.shutdown()
    }
}

/// Starts the auth service: migrations, signing key, RPC server with AuthService and Health
/// (`NOT_SERVING` while the database is down), and the `GET /metrics` listener.
/// `port` overrides AUTH_PORT (0 picks a free port; tests use it); `metricsPort` overrides
/// AUTH_METRICS_PORT (0 picks a free port; when only `port` is given, a free one is taken too).
/// Series go to `metrics` (tests pass a fresh one).
public func startAuthService(_ environment: ConfigEnvironment, port: Int? = nil, metricsPort: Int? = nil, logger: Logger,
                             metrics: ProcessMetrics = .shared) async throws -> RunningAuthService {
    let settings = try AuthSettings(environment)
    let key = try SigningKeyLoader.load(environment, common: settings.common)
    let pool = PostgresPool(url: settings.common.databaseURL, size: settings.databasePoolSize)
    let store = PostgresAuthStore(pool: pool)
    try await migrateWithRetry(logger: logger) { try await store.migrate() }
    let passwords = try PasswordHashingPool(hasher: DjangoPasswordHasher(iterations: settings.passwordIterations), threads: settings.hashingThreads)
    let provider = AuthServiceProvider(
        store: store, passwords: passwords,
        tokens: TokenSettings(signer: TokenSigner(key: key), accessTTLSeconds: settings.accessTTLSeconds, refreshTTLSeconds: settings.refreshTTLSeconds))
    let health = HealthProvider(services: [AuthServiceMethods.serviceName], status: .serving,
                                dependencies: [DependencyHealth.database(pool, service: "auth", logger: logger, metrics: metrics)])
    let started = try await startRPCService(
        "auth", methods: [provider.serverMethods, health.serverMethods], common: settings.common,
        port: port, portVariable: "AUTH_PORT", portSetting: settings.common.authPort,
        metricsPort: metricsPort, metricsVariable: "AUTH_METRICS_PORT", metricsPortSetting: settings.common.authMetricsPort,
        logger: logger, metrics: metrics
    ) {
        await passwords.shutdown()
        await pool.close()
    }
    metrics.observe(pool: pool, service: "auth")
    logger.info("auth service listening", metadata: [
        "address": .string("\(settings.common.bindHost):\(started.port)"), "metrics": .string(started.metricsDescription),
    ])
    return RunningAuthService(port: started.port, server: started.server, pool: pool, passwords: passwords, metricsListener: started.metricsListener)
}

/// Retries a start-up step for a while when the database is not up yet (e.g. in compose).
func migrateWithRetry(logger: Logger, attempts: Int = 30, _ step: () async throws -> Void) async throws {
    for attempt in 1...attempts {
        do {
            try await step()
            return
        } catch let error as PostgresError where error.kind == .connection && attempt < attempts {
            logger.warning("database not reachable yet; retrying", metadata: ["attempt": .stringConvertible(attempt)])
            try await Task.sleep(for: .seconds(1))
        }
    }
}

/// One log line and the server-side series (`imageedit_rpc_server_*`) per finished RPC.
func callObserver(_ logger: Logger, metrics: ProcessMetrics) -> @Sendable (CallRecord) -> Void {
    let calls = metrics.serverCalls()
    let log = callLogger(logger)
    return { record in
        calls.record(method: record.path, code: record.code, duration: record.duration)
        log(record)
    }
}

/// One log line per finished RPC.
func callLogger(_ logger: Logger) -> @Sendable (CallRecord) -> Void {
    { record in
        let milliseconds = Double(record.duration.components.seconds) * 1000 + Double(record.duration.components.attoseconds) / 1e15
        var metadata: Logger.Metadata = [
            "method": .string(record.path), "code": .string(record.code.name),
            "duration_ms": .string(String(format: "%.2f", milliseconds)),
        ]
        if let requestID = record.requestID { metadata["request_id"] = .string(requestID) }
        if let userID = record.userID { metadata["user_id"] = .string(userID) }
        logger.info("rpc", metadata: metadata)
    }
}
