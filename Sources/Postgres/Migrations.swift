/// One versioned schema change of a service.
public struct Migration: Sendable {
    /// Increasing from 1; applied in order, each once.
    public let version: Int
    /// What it does, for the `schema_migrations` table and logs.
    public let name: String
    /// The SQL; may hold several statements. Runs in one transaction with the bookkeeping.
    public let sql: String

    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }
}

extension PostgresPool {
    /// Applies the migrations of `service` not yet applied, in version order, each in its own
    /// transaction, under a PostgreSQL advisory lock so that two instances starting at once do
    /// not race (the second waits, then finds nothing left to do). Idempotent.
    /// Returns the versions applied by this call.
    @discardableResult
    public func migrate(service: String, _ migrations: [Migration], deadline: ContinuousClock.Instant? = nil) async throws -> [Int] {
        let sorted = migrations.sorted { $0.version < $1.version }
        return try await withConnection(deadline: deadline) { connection in
            // Session-level advisory lock keyed by a constant: migrations of all services
            // serialise, which is cheap and avoids cross-service DDL races on shared catalogs.
            try connection.query("SELECT pg_advisory_lock(7262537145)")
            defer { _ = try? connection.query("SELECT pg_advisory_unlock(7262537145)") }
            try connection.query("""
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    service text NOT NULL,
                    version integer NOT NULL,
                    name text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now(),
                    PRIMARY KEY (service, version)
                )
                """)
            let done = try connection.query("SELECT version FROM schema_migrations WHERE service = $1", [.text(service)])
            let applied = Set(done.rows.compactMap { $0[0].flatMap { Int($0) } })
            var newlyApplied: [Int] = []
            for migration in sorted where !applied.contains(migration.version) {
                try connection.query("BEGIN")
                do {
                    try connection.execute(script: migration.sql)
                    try connection.query(
                        "INSERT INTO schema_migrations (service, version, name) VALUES ($1, $2, $3)",
                        [.text(service), .int(Int64(migration.version)), .text(migration.name)])
                    try connection.query("COMMIT")
                } catch {
                    _ = try? connection.query("ROLLBACK")
                    throw error
                }
                newlyApplied.append(migration.version)
            }
            return newlyApplied
        }
    }
}
