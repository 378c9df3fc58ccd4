@testable import Gateway
import Testing

/// The gateway's upload limiter: never more holders than the limit, waiters served in order,
/// cancelled waiters leave without taking or losing a slot.
@Suite struct ConcurrencyLimitTests {
    /// Counts holders at once.
    actor Gauge {
        var current = 0
        var peak = 0
        var order: [Int] = []
        func enter(_ index: Int) { current += 1; peak = max(peak, current); order.append(index) }
        func leave() { current -= 1 }
    }

    @Test(arguments: [1, 2, 4])
    func neverMoreHoldersThanTheLimit(limit: Int) async throws {
        let limiter = ConcurrencyLimit(limit: limit)
        let gauge = Gauge()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<20 {
                group.addTask {
                    try await limiter.run {
                        await gauge.enter(index)
                        try await Task.sleep(for: .milliseconds(2))
                        await gauge.leave()
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(await gauge.peak <= limit)
        #expect(await gauge.order.count == 20)
        #expect(limiter.available == limit && limiter.waiting == 0)
    }

    @Test func waitersAreServedInArrivalOrder() async throws {
        let limiter = ConcurrencyLimit(limit: 1)
        let gauge = Gauge()
        let (gate, opener) = AsyncStream.makeStream(of: Void.self)
        let holder = Task { try await limiter.run { for await _ in gate { break } } }
        while limiter.available > 0 { await Task.yield() }
        var waiters: [Task<Void, any Error>] = []
        for index in 0..<5 {
            waiters.append(Task { try await limiter.run { await gauge.enter(index) } })
            while limiter.waiting < index + 1 { await Task.yield() }  // queued before the next starts
        }
        opener.yield()
        try await holder.value
        for waiter in waiters { try await waiter.value }
        #expect(await gauge.order == [0, 1, 2, 3, 4])
        #expect(limiter.available == 1 && limiter.waiting == 0)
    }

    @Test func aCancelledWaiterLeavesAndTheSlotIsKept() async throws {
        let limiter = ConcurrencyLimit(limit: 1)
        let (gate, opener) = AsyncStream.makeStream(of: Void.self)
        let holder = Task { try await limiter.run { for await _ in gate { break } } }
        while limiter.available > 0 { await Task.yield() }
        let cancelled = Task { try await limiter.run { Issue.record("a cancelled waiter must not run") } }
        while limiter.waiting < 1 { await Task.yield() }
        cancelled.cancel()
        await #expect(throws: CancellationError.self) { try await cancelled.value }
        #expect(limiter.waiting == 0 && limiter.available == 0)
        opener.yield()
        try await holder.value
        #expect(limiter.available == 1)
        // The slot still works.
        #expect(try await limiter.run { 42 } == 42)
    }

    @Test func anErrorReleasesTheSlot() async throws {
        struct Failure: Error {}
        let limiter = ConcurrencyLimit(limit: 1)
        await #expect(throws: Failure.self) { try await limiter.run { throw Failure() } }
        #expect(limiter.available == 1)
    }
}
