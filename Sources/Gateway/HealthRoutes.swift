import HTTPTypes
import Hummingbird
import RPCCore

/// What a readiness check throws to say why its dependency is not ready, in words `/readyz`
/// may show (for example `not serving: database`). Never put internals or secrets in it.
public struct ReadinessFailure: Error, Sendable, Equatable {
    /// A short reason for operators.
    public var reason: String

    public init(_ reason: String) {
        self.reason = reason
    }
}

/// `GET /healthz` (the process is up) and `GET /readyz` (every downstream dependency serves).
///
/// `/readyz` answers 200 `{status: "ready", checks: {name: "ok"}}` or 503
/// `{status: "not_ready", checks: {name: "ok" | "unavailable"}, reasons: {name: reason}}`, with a
/// reason for every check that failed: its ``ReadinessFailure``, or `unreachable` / `timed out`
/// when the service could not be asked.
struct HealthRoutes {
    let settings: GatewaySettings
    let checks: [(name: String, check: @Sendable () async throws -> Void)]

    func register(on router: Router<GatewayRequestContext>) {
        router.get("/healthz") { _, _ in JSONResponse.make(.ok, ["status": "ok"]) }
        router.get("/readyz") { _, _ in await self.readiness() }
    }

    func readiness() async -> Response {
        var results: [String: String] = [:]
        var reasons: [String: String] = [:]
        await withTaskGroup(of: (String, String?).self) { group in
            for (name, check) in checks {
                group.addTask {
                    do {
                        try await check()
                        return (name, nil)
                    } catch {
                        return (name, Self.reason(for: error))
                    }
                }
            }
            for await (name, reason) in group {
                results[name] = reason == nil ? "ok" : "unavailable"
                if let reason { reasons[name] = reason }
            }
        }
        if reasons.isEmpty {
            return JSONResponse.make(.ok, ["status": "ready", "checks": results])
        }
        return JSONResponse.make(.serviceUnavailable, ["status": "not_ready", "checks": results, "reasons": reasons])
    }

    /// Why a check failed, in words safe to show.
    static func reason(for error: any Error) -> String {
        switch error {
        case let failure as ReadinessFailure: failure.reason
        case let error as RPCError where error.code == .deadlineExceeded: "timed out"
        case let error as RPCError where error.code == .unavailable: "unreachable"
        case let error as RPCError: "health check failed (\(error.code.name))"
        default: "health check failed"
        }
    }
}
