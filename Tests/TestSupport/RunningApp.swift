public import Hummingbird
import Synchronization

/// Runs a Hummingbird application on a free port for a test; ``stop()`` shuts it down.
public final class RunningApp: Sendable {
    public let port: Int
    private let task: Task<Void, any Error>

    init(port: Int, task: Task<Void, any Error>) {
        self.port = port
        self.task = task
    }

    /// Starts `make(port: 0, onRunning:)` and waits until it listens.
    public static func start<App: ApplicationProtocol>(_ make: (@escaping @Sendable (Int) async -> Void) throws -> App) async throws -> RunningApp {
        let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = try make { port in continuation.yield(port) }
        let task = Task { try await app.runService(gracefulShutdownSignals: []) }
        var iterator = stream.makeAsyncIterator()
        guard let port = await iterator.next() else { throw CancellationError() }
        return RunningApp(port: port, task: task)
    }

    public func stop() async {
        task.cancel()
        _ = await task.result
    }
}
