import Synchronization

/// At most `limit` holders at once; the others wait in arrival order. The gateway runs
/// uploads (parse, edit, store) through one, so the copies an upload makes in the gateway,
/// the edit service and the storage service exist for a bounded number of uploads at a time,
/// whatever the number of clients: the edit service's CPU is the bottleneck, and uploads
/// beyond what keeps it busy only added memory, not throughput.
///
/// Thread-safe. A waiter whose task is cancelled stops waiting and throws
/// `CancellationError`; a slot is never lost.
final class ConcurrencyLimit: Sendable {
    private struct State {
        var available: Int
        var waiters: [(id: UInt64, continuation: CheckedContinuation<Void, any Error>)] = []
        var nextID: UInt64 = 0
    }

    private let state: Mutex<State>

    /// - Precondition: `limit >= 1`.
    init(limit: Int) {
        precondition(limit >= 1, "a concurrency limit must be at least 1")
        self.state = Mutex(State(available: limit))
    }

    /// Runs `body` while holding a slot, waiting for one first when all are taken.
    func run<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        try await acquire()
        defer { release() }
        return try await body()
    }

    /// Slots free now (for tests).
    var available: Int { state.withLock { $0.available } }

    /// Tasks waiting now (for tests).
    var waiting: Int { state.withLock { $0.waiters.count } }

    private func acquire() async throws {
        let acquired = state.withLock { state in
            guard state.available > 0 else { return false }
            state.available -= 1
            return true
        }
        if acquired { return }
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                // Checked again under the lock: a slot freed since the first look is taken here,
                // else the waiter is queued before any later release can miss it.
                let outcome: Result<Bool, CancellationError> = state.withLock { state in
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if state.available > 0 {
                        state.available -= 1
                        return .success(true)
                    }
                    state.waiters.append((id, continuation))
                    return .success(false)
                }
                switch outcome {
                case .success(true): continuation.resume()
                case .success(false): break
                case .failure(let error): continuation.resume(throwing: error)
                }
            }
        } onCancel: {
            let continuation = state.withLock { state -> CheckedContinuation<Void, any Error>? in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiters.remove(at: index).continuation
            }
            continuation?.resume(throwing: CancellationError())
        }
    }

    /// Hands the slot to the oldest waiter, or frees it.
    private func release() {
        let next = state.withLock { state -> CheckedContinuation<Void, any Error>? in
            if state.waiters.isEmpty {
                state.available += 1
                return nil
            }
            return state.waiters.removeFirst().continuation
        }
        next?.resume()
    }
}
