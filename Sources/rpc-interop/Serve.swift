import Dispatch
import GRPCHealth
import InteropAPI
import OpenSSLCrypto
import RPCCore
import RPCNIO
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `rpc-interop serve`: InteropService and grpc.health.v1.Health on one RPCServer until
/// SIGTERM or SIGINT, then a graceful shutdown. Prints `PORT <n>` once listening.
/// With `tls`, the server speaks TLS (ALPN h2).
func serve(host: String, port: Int, tls: TLSContext? = nil) async -> Int32 {
    let interop = ReferenceInteropService()
    let health = HealthProvider(services: [InteropServiceMethods.serviceName], status: .serving)

    var registry = ServiceRegistry()
    registry.register(contentsOf: interop.serverMethods)
    registry.register(contentsOf: health.serverMethods)

    var configuration = RPCServer.Configuration()
    configuration.host = host
    configuration.port = port
    configuration.tls = tls
    let server = RPCServer(configuration: configuration, registry: registry)

    // Install the handlers before announcing the port, so a signal sent right after
    // `PORT <n>` is never lost to the default action.
    let signals = TerminationSignals()
    let boundPort: Int
    do {
        boundPort = try await server.start()
    } catch {
        emitError("rpc-interop: cannot listen on \(host):\(port): \(error)")
        return 1
    }
    emit("PORT \(boundPort)")

    let signal = await signals.next()
    emitError("rpc-interop: signal \(signal), shutting down")
    await server.shutdown(gracePeriod: .seconds(5))
    return 0
}

/// Turns SIGTERM and SIGINT into an awaitable event (through Dispatch signal sources).
///
/// `@unchecked Sendable`: `sources` is written only in `init` and only kept alive afterwards;
/// all mutable state is behind the mutex.
final class TerminationSignals: @unchecked Sendable {
    private struct State {
        var received: Int32?
        var waiter: CheckedContinuation<Int32, Never>?
    }

    private let state = Mutex(State())
    private let sources: [any DispatchSourceSignal]

    init() {
        var sources: [any DispatchSourceSignal] = []
        for number in [SIGTERM, SIGINT] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            sources.append(source)
        }
        self.sources = sources
        for (number, source) in zip([SIGTERM, SIGINT], sources) {
            source.setEventHandler {
                let waiter = self.state.withLock { state -> CheckedContinuation<Int32, Never>? in
                    guard state.received == nil else { return nil }
                    state.received = number
                    defer { state.waiter = nil }
                    return state.waiter
                }
                waiter?.resume(returning: number)
            }
            source.resume()
        }
    }

    /// The first termination signal, waiting for it if none has arrived yet.
    func next() async -> Int32 {
        await withCheckedContinuation { continuation in
            let received = state.withLock { state -> Int32? in
                if let received = state.received { return received }
                state.waiter = continuation
                return nil
            }
            if let received { continuation.resume(returning: received) }
        }
    }
}
