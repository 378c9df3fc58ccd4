public import HTTP2
public import NIOCore
import NIOConcurrencyHelpers
public import NIOPosix
public import OpenSSLCrypto
public import RPCCore

/// A gRPC client transport over HTTP/2 to one `host:port`: cleartext (h2c), or TLS with ALPN
/// `h2` when ``Configuration/tls`` is set, verifying the server's certificate against the
/// context's CA and the `host` dialled (a DNS name, also sent as SNI, or an IP address).
///
/// It keeps one connection and runs every call on it as its own stream. The connection is made
/// on first use; when it closes, or the server sends GOAWAY, the next call makes a new one, so a
/// client outlives server restarts. Calls that the server never processed (refused by GOAWAY
/// or REFUSED_STREAM) are retried once on a fresh connection. Thread-safe.
public final class HTTP2ClientTransport: ClientTransport, Sendable {
    /// Client settings.
    public struct Configuration: Sendable {
        /// Largest request or response message, in bytes.
        public var maxMessageSize: Int = GRPCFraming.defaultMaxMessageSize
        /// How long to wait for a TCP connection.
        public var connectTimeout: Duration = .seconds(5)
        /// HTTP/2 settings advertised to the server.
        public var http2 = HTTP2Session.Settings()
        /// When set, connections use TLS (a client context: the CA that signs servers, and for
        /// mutual TLS this client's certificate). A failed handshake fails the call with
        /// `UNAVAILABLE` and OpenSSL's reason; when `nil`, cleartext h2c.
        public var tls: TLSContext?
        /// How long the TLS handshake may take after the TCP connection is made.
        public var tlsHandshakeTimeout: Duration = .seconds(10)

        public init() {}
    }

    private struct Connection {
        let channel: any Channel
        let handler: NIOLoopBound<ClientChannelHandler>
    }

    private struct State {
        var connection: EventLoopFuture<Connection>?
        var nextCallID: UInt64 = 0
        var isClosed = false
    }

    private let host: String
    private let port: Int
    private let configuration: Configuration
    private let group: any EventLoopGroup
    private let state = NIOLockedValueBox(State())

    /// Creates a transport; no connection is made until the first call.
    public init(host: String, port: Int, configuration: Configuration = Configuration(), group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.host = host
        self.port = port
        self.configuration = configuration
        self.group = group
    }

    /// Creates a transport from a `host:port` address.
    public convenience init?(address: String, configuration: Configuration = Configuration()) {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]) else { return nil }
        var host = String(address[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        self.init(host: host, port: port, configuration: configuration)
    }

    public func unary(path: String, request: [UInt8], context: RPCContext) async throws(RPCError) -> ClientResponse {
        if request.count > configuration.maxMessageSize {
            throw RPCError(
                code: .resourceExhausted,
                message: "Request message of \(request.count) bytes exceeds the limit of \(configuration.maxMessageSize) bytes")
        }
        try context.checkDeadline()
        do {
            return try await attempt(path: path, request: request, context: context)
        } catch let error where error.code == .unavailable && error.message == Self.refusedMessage {
            return try await attempt(path: path, request: request, context: context)
        }
    }

    /// Closes the connection. Calls in flight fail with `UNAVAILABLE`; later calls too.
    public func close() async {
        let connection = state.withLockedValue { state -> EventLoopFuture<Connection>? in
            state.isClosed = true
            defer { state.connection = nil }
            return state.connection
        }
        if let connection, let channel = try? await connection.get().channel {
            try? await channel.close()
        }
    }

    // MARK: Internals

    private static let refusedMessage = "The server is shutting down"

    private func attempt(path: String, request: [UInt8], context: RPCContext) async throws(RPCError) -> ClientResponse {
        let connection = try await usableConnection(deadline: context.deadline)
        let eventLoop = connection.channel.eventLoop
        let promise = eventLoop.makePromise(of: ClientResponse.self)
        let callID = state.withLockedValue { state -> UInt64 in
            state.nextCallID &+= 1
            return state.nextCallID
        }
        let handler = connection.handler
        eventLoop.execute {
            handler.value.startCall(callID: callID, path: path, request: request, context: context, promise: promise)
        }
        do {
            return try await withTaskCancellationHandler {
                try await promise.futureResult.get()
            } onCancel: {
                eventLoop.execute { handler.value.cancelCall(callID: callID) }
            }
        } catch {
            throw RPCError(mapping: error)
        }
    }

    /// The current connection if it can take a new call, else a new one.
    private func usableConnection(deadline: ContinuousClock.Instant?) async throws(RPCError) -> Connection {
        var lastFailure: RPCError?
        for _ in 0..<2 {
            let current = state.withLockedValue { state -> EventLoopFuture<Connection>? in
                guard !state.isClosed else { return nil }
                if let existing = state.connection { return existing }
                let future = connect()
                state.connection = future
                return future
            }
            guard let future = current else { throw RPCError(code: .unavailable, message: "The client is closed") }
            let connection: Connection
            do {
                connection = try await future.get()
            } catch let error as TLSError {
                forget(future)
                throw RPCError(code: .unavailable, message: "TLS handshake with \(host):\(port) failed: \(error.reason)")
            } catch {
                forget(future)
                throw RPCError(code: .unavailable, message: "Cannot connect to \(host):\(port)")
            }
            let status = try? await connection.channel.eventLoop.submit {
                (usable: connection.handler.value.isUsable, failure: connection.handler.value.failure)
            }.get()
            if status?.usable == true { return connection }
            // A server that refuses us after the handshake (mutual TLS under TLS 1.3) says why.
            lastFailure = status?.failure ?? lastFailure
            forget(future)
        }
        throw lastFailure ?? RPCError(code: .unavailable, message: "Cannot connect to \(host):\(port)")
    }

    private func forget(_ future: EventLoopFuture<Connection>) {
        state.withLockedValue { state in
            if state.connection === future { state.connection = nil }
        }
    }

    private func connect() -> EventLoopFuture<Connection> {
        let authority = "\(host):\(port)"
        let maxMessageSize = configuration.maxMessageSize
        let settings = configuration.http2
        let timeout = configuration.connectTimeout
        let tls = configuration.tls
        let handshakeTimeout = TimeAmount(configuration.tlsHandshakeTimeout)
        let host = self.host
        // Each channel's handshake (happy eyeballs may try several), set by the initializer and
        // awaited before the connection is used, so a handshake that fails (and closes the
        // channel) reports its TLSError whenever it happens.
        let handshakes = NIOLockedValueBox<[ObjectIdentifier: EventLoopFuture<Void>]>([:])
        let bootstrap = ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.milliseconds(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        let session = try TLSSession(context: tls, serverName: host)
                        let tlsHandler = TLSHandler(session: session, handshakeTimeout: handshakeTimeout)
                        try channel.pipeline.syncOperations.addHandler(tlsHandler)
                        if let future = tlsHandler.handshakeFuture {
                            handshakes.withLockedValue { $0[ObjectIdentifier(channel)] = future }
                        }
                    }
                    let handler = try ClientChannelHandler(
                        authority: authority, scheme: tls == nil ? "http" : "https", maxMessageSize: maxMessageSize, settings: settings)
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
        return bootstrap.connect(host: host, port: port).flatMap { channel in
            let ready = handshakes.withLockedValue { $0[ObjectIdentifier(channel)] } ?? channel.eventLoop.makeSucceededVoidFuture()
            return ready.flatMapThrowing {
                let handler = try channel.pipeline.syncOperations.handler(type: ClientChannelHandler.self)
                return Connection(channel: channel, handler: NIOLoopBound(handler, eventLoop: channel.eventLoop))
            }
        }
    }
}
