import NIOConcurrencyHelpers
import NIOPosix

/// A bounded pool of PostgreSQL connections whose blocking libpq calls run on the pool's own
/// threads, never on an event loop or the Swift concurrency pool.
///
/// - At most `size` connections exist; a caller that finds none free waits, within its
///   deadline, then gets ``PostgresError`` `.poolTimeout` (→ `UNAVAILABLE`).
/// - A connection that breaks is discarded; a new one is made on demand. So the pool recovers by
///   itself after PostgreSQL restarts: calls fail with `.connection` (→ `UNAVAILABLE`) while it
///   is down and succeed once it is back.
/// - Thread-safe.
public final class PostgresPool: Sendable {
    private struct State {
        var idle: [ConnectionBox] = []
        var total = 0
        var waiters: [(id: UInt64, continuation: CheckedContinuation<ConnectionBox?, Never>)] = []
        var nextWaiter: UInt64 = 0
        var isClosed = false
    }

    /// Hands a connection between threads. Only one thread uses it at a time: the pool gives
    /// it to exactly one borrower and takes it back before lending it again.
    final class ConnectionBox: @unchecked Sendable {
        var connection: PostgresConnection?
        init(_ connection: PostgresConnection?) { self.connection = connection }
    }

    private let url: String
    /// The most connections the pool opens.
    public let size: Int
    private let threads: NIOThreadPool
    private let state = NIOLockedValueBox(State())

    /// Creates a pool; connections are opened lazily. `url` is a libpq connection URI.
    public init(url: String, size: Int = 8) {
        self.url = url
        self.size = max(1, size)
        self.threads = NIOThreadPool(numberOfThreads: max(1, size))
        threads.start()
    }

    /// Connections open (idle or lent), and callers waiting: for metrics.
    public var usage: (open: Int, idle: Int, waiting: Int) {
        state.withLockedValue { ($0.total, $0.idle.count, $0.waiters.count) }
    }

    /// Runs `body` with a connection on a pool thread. `body` must not keep the connection.
    /// Throws what `body` throws, ``PostgresError`` `.connection` when no connection can be
    /// made, `.poolTimeout` when none is free before `deadline`.
    public func withConnection<T: Sendable>(
        deadline: ContinuousClock.Instant? = nil,
        _ body: @escaping @Sendable (PostgresConnection) throws -> T
    ) async throws -> T {
        let box = try await checkOut(deadline: deadline ?? .now + .seconds(10))
        let url = self.url
        do {
            let result = try await threads.runIfActive { () throws -> T in
                if box.connection == nil || box.connection?.isHealthy == false {
                    box.connection = nil
                    box.connection = try PostgresConnection(url: url)
                }
                do {
                    return try body(box.connection!)
                } catch {
                    if box.connection?.isHealthy == false { box.connection = nil }
                    if box.connection?.isInTransaction == true { _ = try? box.connection?.query("ROLLBACK") }
                    throw error
                }
            }
            checkIn(box)
            return result
        } catch {
            checkIn(box)
            throw error
        }
    }

    /// Runs one statement.
    @discardableResult
    public func query(_ sql: String, _ parameters: [PostgresValue] = [], deadline: ContinuousClock.Instant? = nil) async throws -> PostgresRows {
        try await withConnection(deadline: deadline) { try $0.query(sql, parameters) }
    }

    /// Runs `body` inside BEGIN … COMMIT; any error rolls back.
    public func transaction<T: Sendable>(
        deadline: ContinuousClock.Instant? = nil,
        _ body: @escaping @Sendable (PostgresConnection) throws -> T
    ) async throws -> T {
        try await withConnection(deadline: deadline) { connection in
            try connection.query("BEGIN")
            do {
                let result = try body(connection)
                try connection.query("COMMIT")
                return result
            } catch {
                _ = try? connection.query("ROLLBACK")
                throw error
            }
        }
    }

    /// Closes idle connections and stops the worker threads. Later calls fail.
    public func close() async {
        let (idle, waiters) = state.withLockedValue { state in
            state.isClosed = true
            defer { state.idle.removeAll(); state.waiters.removeAll() }
            return (state.idle, state.waiters)
        }
        for waiter in waiters { waiter.continuation.resume(returning: nil) }
        _ = idle
        try? await threads.shutdownGracefully()
    }

    // MARK: Checkout

    private func checkOut(deadline: ContinuousClock.Instant) async throws -> ConnectionBox {
        enum Decision { case box(ConnectionBox), wait(UInt64), closed }
        let id = state.withLockedValue { state -> UInt64 in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        let box: ConnectionBox? = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<ConnectionBox?, Never>) in
                let decision = state.withLockedValue { state -> Decision in
                    if state.isClosed { return .closed }
                    if let box = state.idle.popLast() { return .box(box) }
                    if state.total < size {
                        state.total += 1
                        return .box(ConnectionBox(nil))
                    }
                    state.waiters.append((id, continuation))
                    return .wait(id)
                }
                switch decision {
                case .box(let box): continuation.resume(returning: box)
                case .closed: continuation.resume(returning: nil)
                case .wait:
                    Task { [weak self] in
                        try? await Task.sleep(until: deadline, clock: .continuous)
                        self?.abandon(waiter: id)
                    }
                }
            }
        } onCancel: {
            abandon(waiter: id)
        }
        guard let box else {
            let closed = state.withLockedValue { $0.isClosed }
            throw PostgresError(kind: closed ? .connection : .poolTimeout,
                                message: closed ? "the pool is closed" : "no database connection became free in time")
        }
        return box
    }

    private func abandon(waiter id: UInt64) {
        let continuation = state.withLockedValue { state -> CheckedContinuation<ConnectionBox?, Never>? in
            guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
            return state.waiters.remove(at: index).continuation
        }
        continuation?.resume(returning: nil)
    }

    private func checkIn(_ box: ConnectionBox) {
        let waiter = state.withLockedValue { state -> CheckedContinuation<ConnectionBox?, Never>? in
            if !state.waiters.isEmpty { return state.waiters.removeFirst().continuation }
            if state.isClosed {
                state.total -= 1
                return nil
            }
            state.idle.append(box)
            return nil
        }
        waiter?.resume(returning: box)
    }
}
