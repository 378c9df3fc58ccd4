import Synchronization

/// The health of one thing a service needs (its database, its blob store), checked on demand
/// and remembered for a short while, so that health probes, however often they come, cost the
/// dependency at most one check per ``ttl``.
///
/// - Concurrent callers share one check in flight; none starts a second.
/// - A check that has not finished after ``timeout`` counts as failed (the check itself is
///   cancelled and may go on in the background; a later one starts only once it has ended,
///   so a hung dependency never accumulates checks).
/// - `onChange` hears every change between healthy and unhealthy (for a log line); it is also
///   told the first result. It must be fast and thread-safe.
///
/// Thread-safe (an actor).
public actor DependencyCheck {
    /// The name `grpc.health.v1.Health/Check` answers for, e.g. `database`.
    public nonisolated let name: String
    /// How long a result is reused.
    public nonisolated let ttl: Duration
    /// How long one check may take before it counts as failed.
    public nonisolated let timeout: Duration
    private let check: @Sendable () async throws -> Void
    private let onChange: (@Sendable (_ name: String, _ healthy: Bool) -> Void)?
    private var last: (healthy: Bool, at: ContinuousClock.Instant)?
    private var running: Task<Bool, Never>?
    /// Set while a check runs, including one past its timeout.
    private let checking = Flag()

    /// - Parameter check: returns normally when the dependency serves; throws otherwise.
    public init(name: String, ttl: Duration = .seconds(2), timeout: Duration = .seconds(2),
                onChange: (@Sendable (_ name: String, _ healthy: Bool) -> Void)? = nil,
                check: @escaping @Sendable () async throws -> Void) {
        self.name = name
        self.ttl = ttl
        self.timeout = timeout
        self.onChange = onChange
        self.check = check
    }

    /// Whether the dependency served at the last check, checking again when that result is
    /// older than ``ttl``.
    public func isHealthy() async -> Bool {
        if let last, ContinuousClock.now - last.at < ttl { return last.healthy }
        if let running { return await running.value }
        let check = self.check
        let timeout = self.timeout
        let checking = self.checking
        let task = Task {
            // The previous check is still hung past its timeout: do not pile another on it.
            guard checking.claim() else { return false }
            return await Self.run(check, timeout: timeout, whenDone: { checking.release() })
        }
        running = task
        let healthy = await task.value
        running = nil
        let previous = last?.healthy
        last = (healthy, .now)
        if previous != healthy { onChange?(name, healthy) }
        return healthy
    }

    /// Runs `check`, giving up after `timeout` without waiting for it to return.
    private static func run(_ check: @escaping @Sendable () async throws -> Void, timeout: Duration,
                            whenDone: @escaping @Sendable () -> Void) async -> Bool {
        await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let pending = ContinuationSlot(continuation)
            let finish: @Sendable (Bool) -> Void = { pending.resume(returning: $0) }
            let timer = TaskBox()
            let work = Task {
                defer {
                    whenDone()
                    timer.cancel()
                }
                do {
                    try await check()
                    finish(true)
                } catch {
                    finish(false)
                }
            }
            timer.set(Task {
                guard (try? await Task.sleep(for: timeout)) != nil else { return }
                work.cancel()
                finish(false)
            })
        }
    }
}

/// A thread-safe "busy" flag.
final class Flag: Sendable {
    private let value = Mutex(false)

    /// Sets the flag; false when it was already set.
    func claim() -> Bool {
        value.withLock { busy in
            if busy { return false }
            busy = true
            return true
        }
    }

    func release() {
        value.withLock { $0 = false }
    }
}

/// Holds a task so another task can cancel it, even before it is stored.
final class TaskBox: Sendable {
    private let state = Mutex<(task: Task<Void, Never>?, cancelled: Bool)>((nil, false))

    func set(_ task: Task<Void, Never>) {
        let cancelled = state.withLock { state in
            state.task = task
            return state.cancelled
        }
        if cancelled { task.cancel() }
    }

    func cancel() {
        let task = state.withLock { state in
            state.cancelled = true
            return state.task
        }
        task?.cancel()
    }
}

/// A continuation resumed at most once, by whichever caller comes first.
final class ContinuationSlot: Sendable {
    private let slot: Mutex<CheckedContinuation<Bool, Never>?>

    init(_ continuation: CheckedContinuation<Bool, Never>) {
        slot = Mutex(continuation)
    }

    func resume(returning value: Bool) {
        let continuation = slot.withLock { slot in
            defer { slot = nil }
            return slot
        }
        continuation?.resume(returning: value)
    }
}
