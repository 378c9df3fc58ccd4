import GRPCHealth
import RPCCore
import Synchronization
import Testing

/// A dependency whose health a test switches, counting the checks it answers.
final class SwitchableDependency: Sendable {
    private let state = Mutex((healthy: true, checks: 0))
    /// How long each check takes.
    let delay: Duration

    init(healthy: Bool = true, delay: Duration = .zero) {
        self.delay = delay
        state.withLock { $0.healthy = healthy }
    }

    var checks: Int { state.withLock { $0.checks } }
    func set(healthy: Bool) { state.withLock { $0.healthy = healthy } }

    func check() async throws {
        let healthy = state.withLock { state in
            state.checks += 1
            return state.healthy
        }
        if delay > .zero { try? await Task.sleep(for: delay) }
        guard healthy else { throw RPCError(code: .unavailable, message: "down") }
    }
}

@Suite struct DependencyCheckTests {
    @Test func reusesAResultWithinItsTTL() async {
        let dependency = SwitchableDependency()
        let check = DependencyCheck(name: "database", ttl: .seconds(3600)) { try await dependency.check() }
        for _ in 0..<5 { #expect(await check.isHealthy()) }
        dependency.set(healthy: false)
        #expect(await check.isHealthy(), "the cached result stands until the TTL passes")
        #expect(dependency.checks == 1)
    }

    @Test func checksAgainOnceTheTTLHasPassed() async throws {
        let dependency = SwitchableDependency()
        let check = DependencyCheck(name: "database", ttl: .milliseconds(20)) { try await dependency.check() }
        #expect(await check.isHealthy())
        dependency.set(healthy: false)
        try await Task.sleep(for: .milliseconds(60))
        #expect(await check.isHealthy() == false)
        dependency.set(healthy: true)
        try await Task.sleep(for: .milliseconds(60))
        #expect(await check.isHealthy())
        #expect(dependency.checks == 3)
    }

    @Test func concurrentCallersShareOneCheck() async {
        let dependency = SwitchableDependency(delay: .milliseconds(200))
        let check = DependencyCheck(name: "database", ttl: .seconds(3600), timeout: .seconds(30)) { try await dependency.check() }
        let results = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<20 { group.addTask { await check.isHealthy() } }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results == Array(repeating: true, count: 20))
        #expect(dependency.checks == 1)
    }

    @Test func aCheckPastItsTimeoutFailsAndNoSecondOneStartsWhileItHangs() async throws {
        let release = Mutex<CheckedContinuation<Void, Never>?>(nil)
        let started = Mutex(0)
        let check = DependencyCheck(name: "database", ttl: .zero, timeout: .milliseconds(50)) {
            started.withLock { $0 += 1 }
            // Hangs, ignoring cancellation, like a blocking libpq connect, until the test lets go.
            await withCheckedContinuation { continuation in release.withLock { $0 = continuation } }
        }
        #expect(await check.isHealthy() == false)
        #expect(await check.isHealthy() == false)
        #expect(started.withLock { $0 } == 1, "the hung check is not joined by another")
        release.withLock { $0?.resume(); $0 = nil }
        // Once it has returned, checks run again (and this one hangs in turn until released).
        var second = 1
        for _ in 0..<200 where second == 1 {
            _ = await check.isHealthy()
            second = started.withLock { $0 }
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(second == 2)
        while started.withLock({ $0 }) >= 2, release.withLock({ $0 == nil }) { try await Task.sleep(for: .milliseconds(5)) }
        release.withLock { $0?.resume(); $0 = nil }
    }

    @Test func reportsEachChangeOnce() async throws {
        let dependency = SwitchableDependency()
        let changes = Mutex<[Bool]>([])
        let check = DependencyCheck(name: "blob_store", ttl: .zero, onChange: { name, healthy in
            #expect(name == "blob_store")
            changes.withLock { $0.append(healthy) }
        }) { try await dependency.check() }
        for healthy in [true, true, false, false, true] {
            dependency.set(healthy: healthy)
            _ = await check.isHealthy()
        }
        #expect(changes.withLock { $0 } == [true, false, true])
    }
}

@Suite struct HealthProviderDependencyTests {
    let service = "imageedit.auth.v1.AuthService"

    func status(_ provider: HealthProvider, _ name: String) async throws -> HealthCheckResponse.ServingStatus {
        try await provider.check(HealthCheckRequest(service: name), context: RPCContext()).status
    }

    @Test func servicesAreNotServingWhileADependencyIsDownAndServeAgainWhenItRecovers() async throws {
        let database = SwitchableDependency()
        let blobs = SwitchableDependency()
        let provider = HealthProvider(services: [service], dependencies: [
            DependencyCheck(name: "database", ttl: .zero) { try await database.check() },
            DependencyCheck(name: "blob_store", ttl: .zero) { try await blobs.check() },
        ])
        #expect(try await status(provider, service) == .serving)
        #expect(try await status(provider, "") == .serving)

        database.set(healthy: false)
        #expect(try await status(provider, service) == .notServing)
        #expect(try await status(provider, "") == .notServing)
        #expect(try await status(provider, "database") == .notServing)
        #expect(try await status(provider, "blob_store") == .serving)

        database.set(healthy: true)
        #expect(try await status(provider, service) == .serving)
        #expect(try await status(provider, "database") == .serving)
    }

    @Test func aServiceSetNotServingStaysSoWithoutAskingTheDependencies() async throws {
        let database = SwitchableDependency()
        let provider = HealthProvider(services: [service], dependencies: [DependencyCheck(name: "database", ttl: .zero) { try await database.check() }])
        provider.setAll(.notServing)
        #expect(try await status(provider, service) == .notServing)
        #expect(database.checks == 0)
    }

    @Test func unknownNamesAreStillNotFound() async throws {
        let provider = HealthProvider(services: [service], dependencies: [DependencyCheck(name: "database") {}])
        await #expect(throws: RPCError.self) { try await status(provider, "imageedit.nope.v1.Nope") }
    }
}
