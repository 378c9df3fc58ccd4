/// Settings every service shares: where each service listens and is dialled, the data folder,
/// the database. Defaults live here and only here.
public struct CommonSettings: Sendable {
    public static let defaultGatewayPort = 8000
    public static let defaultAuthPort = 50051
    public static let defaultStoragePort = 50052
    public static let defaultEditPort = 50053
    /// Ports of the internal services' `GET /metrics` listeners (the gateway serves it on its own port).
    public static let defaultAuthMetricsPort = 9101
    public static let defaultStorageMetricsPort = 9102
    public static let defaultEditMetricsPort = 9103
    /// The private development cluster that `make run` starts (scripts/pg.sh).
    public static let defaultDatabaseURL = "postgres://imageedit:imageedit@127.0.0.1:54329/imageedit"

    public var bindHost: String
    public var gatewayPort: Int
    public var authPort: Int
    public var storagePort: Int
    public var editPort: Int
    /// Where auth, storage and edit serve `GET /metrics` (HTTP, on `bindHost`); 0 turns it off.
    public var authMetricsPort: Int
    public var storageMetricsPort: Int
    public var editMetricsPort: Int
    public var authAddress: (host: String, port: Int)
    public var storageAddress: (host: String, port: Int)
    public var editAddress: (host: String, port: Int)
    public var databaseURL: String
    /// Where development state lives (`.data`): the dev signing key, the local blob store.
    public var dataDirectory: String
    public var isProduction: Bool
    /// Deadline for each internal call the gateway or a service makes.
    public var rpcTimeout: Duration
    /// `debug`, `info`, `warning` or `error`.
    public var logLevel: String
    /// TLS between the services (TLS_* variables); all off by default.
    public var tls: TLSSettings

    public init(_ environment: ConfigEnvironment) throws(ConfigError) {
        bindHost = environment.string("BIND_HOST", default: "127.0.0.1")
        gatewayPort = try environment.port("GATEWAY_PORT", default: Self.defaultGatewayPort)
        authPort = try environment.port("AUTH_PORT", default: Self.defaultAuthPort)
        storagePort = try environment.port("STORAGE_PORT", default: Self.defaultStoragePort)
        editPort = try environment.port("EDIT_PORT", default: Self.defaultEditPort)
        authMetricsPort = try environment.int("AUTH_METRICS_PORT", default: Self.defaultAuthMetricsPort, range: 0...65535)
        storageMetricsPort = try environment.int("STORAGE_METRICS_PORT", default: Self.defaultStorageMetricsPort, range: 0...65535)
        editMetricsPort = try environment.int("EDIT_METRICS_PORT", default: Self.defaultEditMetricsPort, range: 0...65535)
        authAddress = try environment.address("AUTH_ADDRESS", default: "127.0.0.1:\(authPort)")
        storageAddress = try environment.address("STORAGE_ADDRESS", default: "127.0.0.1:\(storagePort)")
        editAddress = try environment.address("EDIT_ADDRESS", default: "127.0.0.1:\(editPort)")
        databaseURL = environment.string("DATABASE_URL", default: Self.defaultDatabaseURL)
        guard databaseURL.hasPrefix("postgres://") || databaseURL.hasPrefix("postgresql://") else {
            throw ConfigError("DATABASE_URL", "must be a postgres://user:pass@host:port/db URL")
        }
        dataDirectory = environment.string("DATA_DIR", default: ".data")
        isProduction = try environment.isProduction()
        rpcTimeout = .milliseconds(try environment.int("RPC_TIMEOUT_MS", default: 10_000, range: 100...600_000))
        logLevel = environment.string("LOG_LEVEL", default: "info").lowercased()
        guard ["debug", "info", "warning", "error"].contains(logLevel) else {
            throw ConfigError("LOG_LEVEL", "must be debug, info, warning or error")
        }
        tls = try TLSSettings(environment)
    }
}
