import HTTPTypes
import Hummingbird
import RPCCore

/// `GET /healthz` (the process is up) and `GET /readyz` (every downstream dependency serves).
struct HealthRoutes {
    let settings: GatewaySettings
    let checks: [(name: String, check: @Sendable () async throws -> Void)]

    func register(on router: Router<GatewayRequestContext>) {
        router.get("/healthz") { _, _ in JSONResponse.make(.ok, ["status": "ok"]) }
        router.get("/readyz") { _, _ in await self.readiness() }
    }

    func readiness() async -> Response {
        var results: [String: String] = [:]
        await withTaskGroup(of: (String, String).self) { group in
            for (name, check) in checks {
                group.addTask {
                    do {
                        try await check()
                        return (name, "ok")
                    } catch {
                        return (name, "unavailable")
                    }
                }
            }
            for await (name, result) in group { results[name] = result }
        }
        let ready = results.values.allSatisfy { $0 == "ok" }
        return JSONResponse.make(ready ? .ok : .serviceUnavailable, ["status": ready ? "ready" : "not_ready", "checks": results])
    }
}
