public import RPCCore
import Synchronization

/// The server side of `grpc.health.v1.Health`: a thread-safe table of serving statuses.
///
/// The empty name `""` is the server as a whole; other names are services, e.g.
/// `imageedit.auth.v1.AuthService`. Statuses can be changed at any time from any thread
/// (readiness flips to `SERVING` once dependencies are up, to `NOT_SERVING` on shutdown).
/// `Check` answers a known name with its status and an unknown one with `NOT_FOUND`, as the
/// health protocol specifies. Mount it with ``Health/serverMethods``.
///
/// Dependencies (``DependencyCheck``, e.g. the database): a name whose status is `SERVING`
/// is answered `NOT_SERVING` while any dependency fails its (cached) check, and each
/// dependency can be asked about by its own name (`Check(service: "database")`), so a caller
/// can tell which one is down.
public final class HealthProvider: Health {
    /// A serving status, as sent in `HealthCheckResponse`.
    public typealias Status = HealthCheckResponse.ServingStatus

    private let statuses: Mutex<[String: Status]>
    private let dependencies: [DependencyCheck]

    /// A provider that knows the server (`""`) and `services`, all with `status`, and is
    /// `NOT_SERVING` while one of `dependencies` is down.
    public init(services: [String] = [], status: Status = .serving, dependencies: [DependencyCheck] = []) {
        var table: [String: Status] = ["": status]
        for service in services { table[service] = status }
        statuses = Mutex(table)
        self.dependencies = dependencies
    }

    /// Sets the status of `service` (`""` for the whole server), adding it if it is new.
    public func setStatus(_ status: Status, for service: String = "") {
        statuses.withLock { $0[service] = status }
    }

    /// Forgets `service`: `Check` answers `NOT_FOUND` for it from now on.
    public func removeStatus(for service: String) {
        _ = statuses.withLock { $0.removeValue(forKey: service) }
    }

    /// Sets every known name, the server included, to `status` (e.g. `NOT_SERVING` at shutdown).
    public func setAll(_ status: Status) {
        statuses.withLock { table in
            for key in table.keys { table[key] = status }
        }
    }

    /// The status of `service`, or `nil` when it is unknown.
    public func status(for service: String) -> Status? {
        statuses.withLock { $0[service] }
    }

    /// Answers with the status of `request.service`: the table's, turned `NOT_SERVING` while a
    /// dependency is down; or, for a dependency's name, that dependency's.
    ///
    /// - Throws: ``RPCError`` `NOT_FOUND` when the name is unknown.
    public func check(_ request: HealthCheckRequest, context: RPCContext) async throws(RPCError) -> HealthCheckResponse {
        guard let status = status(for: request.service) else {
            guard let dependency = dependencies.first(where: { $0.name == request.service }) else {
                throw RPCError(code: .notFound, message: "Unknown service: \(request.service)")
            }
            return HealthCheckResponse(status: await dependency.isHealthy() ? .serving : .notServing)
        }
        guard status == .serving, !dependencies.isEmpty else { return HealthCheckResponse(status: status) }
        return HealthCheckResponse(status: await allDependenciesHealthy() ? .serving : .notServing)
    }

    /// Whether every dependency passes its check (checked concurrently).
    public func allDependenciesHealthy() async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            for dependency in dependencies { group.addTask { await dependency.isHealthy() } }
            var healthy = true
            for await result in group where !result { healthy = false }
            return healthy
        }
    }
}
