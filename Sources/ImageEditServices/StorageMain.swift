import AuthTokens
public import BlobStore
import Foundation
import GRPCHealth
import HTTPClient
public import Logging
import MetricsEndpoint
import OpenSSLCrypto
import Postgres
import RPCCore
import RPCNIO
public import ServiceConfig
import StorageAPI
public import StorageServer

/// The storage service's settings, from the environment.
public struct StorageServiceSettings: Sendable {
    public var common: CommonSettings
    public var blobs: BlobStoreConfiguration
    public var storage = StorageSettings()
    public var databasePoolSize: Int
    public var collectInterval: Duration

    public init(_ environment: ConfigEnvironment) throws(ConfigError) {
        common = try CommonSettings(environment)
        blobs = try BlobStoreConfiguration(environment)
        storage.urlTTLSeconds = Int64(try environment.int("URL_TTL_SECONDS", default: 7200, range: 3600...7 * 86_400))
        storage.maxObjectBytes = try environment.int("MAX_IMAGE_BYTES", default: 20 * 1024 * 1024, range: 1024...100 * 1024 * 1024)
        databasePoolSize = try environment.int("DATABASE_POOL_SIZE", default: 8, range: 1...200)
        collectInterval = .seconds(try environment.int("COLLECT_INTERVAL_SECONDS", default: 60, range: 1...86_400))
    }
}

/// A running storage service.
public final class RunningStorageService: Sendable {
    public let port: Int
    /// The port of its `GET /metrics` listener, when it has one.
    public let metricsPort: Int?
    let server: RPCServer
    let pool: PostgresPool
    let collector: Task<Void, Never>
    let metricsListener: MetricsHTTPServer?

    init(port: Int, server: RPCServer, pool: PostgresPool, collector: Task<Void, Never>, metricsListener: (MetricsHTTPServer, Int)?) {
        self.port = port
        self.server = server
        self.pool = pool
        self.collector = collector
        self.metricsListener = metricsListener?.0
        self.metricsPort = metricsListener?.1
    }

    public func shutdown(gracePeriod: Duration = .seconds(10)) async {
        collector.cancel()
        await server.shutdown(gracePeriod: gracePeriod)
        await pool.close()
        await metricsListener?.shutdown()
    }
}

/// Starts the storage service: S3 when AWS_STORAGE_BUCKET_NAME is set, else the local store;
/// migrations; the RPC server (Health `NOT_SERVING` while the database or the blob store is
/// down); the `GET /metrics` listener; and the collector of orphaned objects. `port` and
/// `metricsPort` override STORAGE_PORT and STORAGE_METRICS_PORT as for ``startAuthService``.
public func startStorageService(_ environment: ConfigEnvironment, port: Int? = nil, metricsPort: Int? = nil, logger: Logger,
                                metrics: ProcessMetrics = .shared) async throws -> RunningStorageService {
    let settings = try StorageServiceSettings(environment)
    let blobs: any BlobStore
    let signingSecret: [UInt8]
    switch settings.blobs {
    case .s3(let configuration):
        blobs = try S3BlobStore(configuration: configuration, httpClient: CurlHTTPClient(threads: 16),
                                metrics: BackendMetrics(backend: "s3", factory: metrics.factory))
        signingSecret = Crypto.randomBytes(32)  // local links are never made with S3
    case .local(let root):
        blobs = FileBlobStore(root: root)
        signingSecret = try urlSigningSecret(environment, common: settings.common)
    }
    let pool = PostgresPool(url: settings.common.databaseURL, size: settings.databasePoolSize)
    let records = PostgresImageRecordStore(pool: pool)
    try await migrateWithRetry(logger: logger) { try await records.migrate() }
    let provider = StorageServiceProvider(
        records: records, blobs: blobs, authenticator: try remoteAuthenticator(settings.common, metrics: metrics),
        urlSigner: try URLSigner(secret: signingSecret), settings: settings.storage, logger: logger)
    let health = HealthProvider(services: [StorageServiceMethods.serviceName], status: .serving, dependencies: [
        DependencyHealth.database(pool, service: "storage", logger: logger, metrics: metrics),
        DependencyHealth.blobStore(blobs, service: "storage", logger: logger, metrics: metrics),
    ])
    let started = try await startRPCService(
        "storage", methods: [provider.serverMethods, health.serverMethods], common: settings.common,
        port: port, portVariable: "STORAGE_PORT", portSetting: settings.common.storagePort,
        metricsPort: metricsPort, metricsVariable: "STORAGE_METRICS_PORT", metricsPortSetting: settings.common.storageMetricsPort,
        logger: logger, metrics: metrics
    ) {
        await pool.close()
    }
    metrics.observe(pool: pool, service: "storage")
    let interval = settings.collectInterval
    let collector = Task {
        while !Task.isCancelled {
            let collected = await provider.collectGarbage()
            if collected > 0 { logger.info("collected orphaned objects", metadata: ["count": .stringConvertible(collected)]) }
            try? await Task.sleep(for: interval)
        }
    }
    let store: String
    switch settings.blobs {
    case .s3(let configuration): store = "s3://\(configuration.bucket)"
    case .local(let root): store = root
    }
    logger.info("storage service listening", metadata: [
        "address": .string("\(settings.common.bindHost):\(started.port)"), "blobs": .string(store),
        "metrics": .string(started.metricsDescription),
    ])
    return RunningStorageService(port: started.port, server: started.server, pool: pool, collector: collector, metricsListener: started.metricsListener)
}

/// The secret that signs local-store links: BLOB_URL_SECRET (base64url, at least 32 bytes), or
/// in development one generated once under DATA_DIR.
func urlSigningSecret(_ environment: ConfigEnvironment, common: CommonSettings) throws -> [UInt8] {
    if let text = environment["BLOB_URL_SECRET"] {
        guard let secret = Base64URL.decode(Array(text.utf8)), secret.count >= 32 else {
            throw ConfigError("BLOB_URL_SECRET", "must be the base64url encoding of at least 32 random bytes (see `imageedit keygen`)")
        }
        return secret
    }
    if common.isProduction {
        throw ConfigError("BLOB_URL_SECRET", "is required when IMAGEEDIT_ENV=production and the local blob store is used")
    }
    let text = try developmentSecret(named: "url-signing-secret", in: common.dataDirectory) { Base64URL.encode(Crypto.randomBytes(32)) }
    guard let secret = Base64URL.decode(Array(text.utf8)), secret.count >= 32 else {
        throw ConfigError("DATA_DIR", "holds a malformed url-signing-secret; delete it to make a new one")
    }
    return secret
}
