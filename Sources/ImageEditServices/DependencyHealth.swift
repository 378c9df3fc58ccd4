import BlobStore
import GRPCHealth
import Logging
import CoreMetrics
import Postgres
import Synchronization

/// How the services judge their own dependencies for `grpc.health.v1.Health/Check` (and so for
/// the gateway's `/readyz`). A result is reused for ``ttl``, so probes cost each dependency at
/// most one check per that time; a check that takes longer than ``timeout`` counts as failed.
enum DependencyHealth {
    static let ttl: Duration = .seconds(2)
    static let timeout: Duration = .milliseconds(1500)

    /// `database`: a `SELECT 1` through the pool. A pool with no free connection in time counts
    /// as healthy (its connections work; it is only busy), so load never flips readiness.
    static func database(_ pool: PostgresPool, service: String, logger: Logger, metrics: ProcessMetrics) -> DependencyCheck {
        DependencyCheck(name: "database", ttl: ttl, timeout: timeout,
                        onChange: report(service: service, dependency: "database", logger: logger, metrics: metrics)) {
            do {
                try await pool.query("SELECT 1", deadline: .now + timeout)
            } catch let error as PostgresError where error.kind == .poolTimeout {
                return
            }
        }
    }

    /// `blob_store`: a HEAD on the bucket, or a look at the local folder.
    static func blobStore(_ blobs: any BlobStore, service: String, logger: Logger, metrics: ProcessMetrics) -> DependencyCheck {
        DependencyCheck(name: "blob_store", ttl: ttl, timeout: timeout,
                        onChange: report(service: service, dependency: "blob_store", logger: logger, metrics: metrics)) {
            try await blobs.checkReachable(deadline: .now + timeout)
        }
    }

    /// One line when a dependency goes down or comes back (not for the first healthy result),
    /// and `imageedit_dependency_up{service, dependency}` (1 or 0, as of the last check).
    static func report(service: String, dependency: String, logger: Logger, metrics: ProcessMetrics) -> @Sendable (String, Bool) -> Void {
        let seen = SeenFlag()
        return { name, healthy in
            // Made at the first result, not before: a series at 0 would read as "down".
            metrics.dependencyGauge(service: service, dependency: dependency).record(healthy ? 1 : 0)
            let first = seen.markSeen()
            if healthy {
                if !first { logger.notice("dependency healthy again", metadata: ["dependency": .string(name)]) }
            } else {
                logger.warning("dependency unhealthy; health reports NOT_SERVING", metadata: ["dependency": .string(name)])
            }
        }
    }
}

/// True the first time only. Thread-safe.
final class SeenFlag: Sendable {
    private let seen = Mutex(false)

    /// Whether this is the first call.
    func markSeen() -> Bool {
        seen.withLock { seen in
            defer { seen = true }
            return !seen
        }
    }
}
