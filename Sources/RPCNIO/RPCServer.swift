public import HTTP2
public import NIOCore
import NIOConcurrencyHelpers
public import NIOPosix
public import OpenSSLCrypto
public import RPCCore

/// One finished call, as a server reports it to ``RPCServer/Configuration/onCallFinished``.
public struct CallRecord: Sendable {
    /// `/package.Service/Method`.
    public var path: String
    /// The status the client was sent.
    public var code: StatusCode
    /// Time from dispatch to result.
    public var duration: Duration
    /// The caller's `x-request-id` metadata, made safe for a log line (see ``loggable(_:)``).
    public var requestID: String? = nil
    /// The user the handler acted for, if it said (``CallAnnotations/setUser(_:)``).
    public var userID: String? = nil
}

/// Counts calls in flight and reports finished ones.
final class ServerObserver: Sendable {
    private let inFlight = NIOLockedValueBox(0)
    private let onCallFinished: (@Sendable (CallRecord) -> Void)?

    init(onCallFinished: (@Sendable (CallRecord) -> Void)?) {
        self.onCallFinished = onCallFinished
    }

    var callsInFlight: Int { inFlight.withLockedValue { $0 } }

    func callStarted() -> ContinuousClock.Instant {
        inFlight.withLockedValue { $0 += 1 }
        return .now
    }

    func callFinished(path: String, started: ContinuousClock.Instant, result: Result<[UInt8], RPCError>,
                      requestID: String? = nil, userID: String? = nil) {
        inFlight.withLockedValue { $0 -= 1 }
        guard let onCallFinished else { return }
        let code: StatusCode
        switch result {
        case .success: code = .ok
        case .failure(let error): code = error.code
        }
        onCallFinished(CallRecord(path: path, code: code, duration: .now - started, requestID: loggable(requestID), userID: userID))
    }
}

/// A gRPC server over HTTP/2 — cleartext (h2c, prior knowledge), or TLS with ALPN `h2` when
/// ``Configuration/tls`` is set — on SwiftNIO sockets and the nghttp2 protocol engine.
///
/// Serves the unary methods of a ``ServiceRegistry``. Every connection's protocol state lives
/// on one event loop. Each call's handler runs as a Swift task which, by default, prefers that
/// event loop as its executor (see ``Configuration/runsHandlersOnEventLoop``): an `await`
/// never blocks the loop, but synchronous CPU-heavy or blocking work in a handler would, so
/// handlers offload such work (a thread pool, an actor) themselves. Deadlines (`grpc-timeout`) cancel the handler and answer `DEADLINE_EXCEEDED`; a client's
/// RST_STREAM cancels the handler's task.
public final class RPCServer: Sendable {
    /// Server settings; the defaults suit the services.
    public struct Configuration: Sendable {
        /// Address to bind.
        public var host: String = "127.0.0.1"
        /// Port to bind; 0 picks a free one (see ``start()``'s result).
        public var port: Int = 0
        /// Largest request or response message, in bytes. Larger ones are answered with
        /// `RESOURCE_EXHAUSTED`.
        public var maxMessageSize: Int = GRPCFraming.defaultMaxMessageSize
        /// HTTP/2 settings advertised to clients.
        public var http2 = HTTP2Session.Settings()
        /// Called once per finished call (for logs and metrics). Must be fast and thread-safe.
        public var onCallFinished: (@Sendable (CallRecord) -> Void)?
        /// Whether handler tasks prefer the connection's event loop as their executor (the
        /// default: no thread switch per call, several times the throughput for small calls).
        /// Set it to `false` for handlers that do blocking or long CPU work inline: their
        /// tasks then run on Swift's global concurrent executor and hop back to the loop.
        public var runsHandlersOnEventLoop = true
        /// When set, every connection speaks TLS with ALPN `h2` (a server context: its
        /// certificate, and for mutual TLS the client CA); when `nil`, cleartext h2c.
        public var tls: TLSContext?
        /// How long a client may take to finish the TLS handshake before it is disconnected.
        public var tlsHandshakeTimeout: Duration = .seconds(10)
        /// Called when a client's TLS handshake fails or times out (for logs), with the
        /// client's address and OpenSSL's reason. Must be fast and thread-safe.
        public var onTLSHandshakeFailure: (@Sendable (_ peer: String, _ error: TLSError) -> Void)?

        public init(host: String = "127.0.0.1", port: Int = 0) {
            self.host = host
            self.port = port
        }
    }

    private struct State {
        var serverChannel: (any Channel)?
        var connections: [ObjectIdentifier: any Channel] = [:]
        var isShuttingDown = false
    }

    private let configuration: Configuration
    private let registry: ServiceRegistry
    private let group: any EventLoopGroup
    private let observer: ServerObserver
    private let state = NIOLockedValueBox(State())

    /// Creates a server; nothing is bound until ``start()``.
    public init(configuration: Configuration, registry: ServiceRegistry, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.configuration = configuration
        self.registry = registry
        self.group = group
        self.observer = ServerObserver(onCallFinished: configuration.onCallFinished)
    }

    /// Calls currently running.
    public var callsInFlight: Int { observer.callsInFlight }

    /// Binds and starts accepting connections. Returns the bound port.
    /// Throws when the address cannot be bound (for example, the port is taken).
    @discardableResult
    public func start() async throws -> Int {
        let connectionConfiguration = ServerConnection.Configuration(
            maxMessageSize: configuration.maxMessageSize, http2: configuration.http2)
        let registry = self.registry
        let observer = self.observer
        let handlersOnEventLoop = configuration.runsHandlersOnEventLoop
        let tls = configuration.tls
        precondition(tls?.role != .client, "RPCServer needs a server TLS context")
        let handshakeTimeout = TimeAmount(configuration.tlsHandshakeTimeout)
        let onTLSHandshakeFailure = configuration.onTLSHandshakeFailure
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { [weak self] channel in
                self?.track(channel)
                return channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        let session = try TLSSession(context: tls)
                        let peer = channel.remoteAddress.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" } ?? "unknown"
                        let report = onTLSHandshakeFailure.map { report in { (error: TLSError) in report(peer, error) } }
                        try channel.pipeline.syncOperations.addHandler(
                            TLSHandler(session: session, handshakeTimeout: handshakeTimeout, onHandshakeFailure: report))
                    }
                    let handler = ServerChannelHandler(
                        registry: registry, configuration: connectionConfiguration, observer: observer,
                        handlersOnEventLoop: handlersOnEventLoop)
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
        let channel = try await bootstrap.bind(host: configuration.host, port: configuration.port).get()
        state.withLockedValue { $0.serverChannel = channel }
        return channel.localAddress?.port ?? configuration.port
    }

    /// Stops accepting, sends GOAWAY on every connection, lets calls in flight finish for up to
    /// `gracePeriod`, then closes whatever is left.
    public func shutdown(gracePeriod: Duration = .seconds(10)) async {
        let (server, connections) = state.withLockedValue { state -> ((any Channel)?, [any Channel]) in
            state.isShuttingDown = true
            return (state.serverChannel, Array(state.connections.values))
        }
        try? await server?.close()
        for connection in connections {
            connection.pipeline.fireUserInboundEventTriggered(GracefulShutdownEvent())
        }
        let deadline = ContinuousClock.now + gracePeriod
        while ContinuousClock.now < deadline {
            let open = state.withLockedValue { $0.connections.count }
            if open == 0 { return }
            try? await Task.sleep(for: .milliseconds(20))
        }
        let remaining = state.withLockedValue { Array($0.connections.values) }
        for connection in remaining {
            try? await connection.close()
        }
    }

    private func track(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        let shuttingDown = state.withLockedValue { state -> Bool in
            state.connections[id] = channel
            return state.isShuttingDown
        }
        if shuttingDown {
            channel.close(promise: nil)
        }
        channel.closeFuture.whenComplete { [weak self] _ in
            self?.state.withLockedValue { _ = $0.connections.removeValue(forKey: id) }
        }
    }
}
