public import NIOCore
import NIOConcurrencyHelpers
import NIOHTTP1
public import NIOPosix

/// A tiny HTTP/1.1 listener for operators: `GET /metrics` answers with whatever `render`
/// returns (the Prometheus text format), `GET /healthz` with `ok`; any other path is 404 and
/// any other method on those paths is 405. `HEAD` is answered like `GET`, without a body.
///
/// The internal services speak only gRPC on their main port, so each of them runs one of
/// these on a port of its own (`AUTH_METRICS_PORT`, ...). `render` is called on an event loop
/// for every scrape: it must be fast, thread-safe and must not block. Thread-safe.
public final class MetricsHTTPServer: Sendable {
    private struct State {
        var serverChannel: (any Channel)?
        var connections: [ObjectIdentifier: any Channel] = [:]
    }

    private let host: String
    private let port: Int
    private let render: @Sendable () -> [UInt8]
    private let group: any EventLoopGroup
    private let state = NIOLockedValueBox(State())

    /// Creates a listener for `host:port` (port 0 picks a free one); nothing is bound until
    /// ``start()``.
    public init(host: String, port: Int, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
                render: @escaping @Sendable () -> [UInt8]) {
        self.host = host
        self.port = port
        self.group = group
        self.render = render
    }

    /// Binds and starts serving. Returns the bound port.
    /// Throws when the address cannot be bound (for example, the port is taken).
    @discardableResult
    public func start() async throws -> Int {
        let render = self.render
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { [weak self] channel in
                self?.track(channel)
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(MetricsRequestHandler(render: render))
                }
            }
        let channel = try await bootstrap.bind(host: host, port: port).get()
        state.withLockedValue { $0.serverChannel = channel }
        return channel.localAddress?.port ?? port
    }

    /// Stops accepting and closes every open connection (scrapes are short; nothing to drain).
    public func shutdown() async {
        let (server, connections) = state.withLockedValue { state -> ((any Channel)?, [any Channel]) in
            defer { state.serverChannel = nil; state.connections.removeAll() }
            return (state.serverChannel, Array(state.connections.values))
        }
        try? await server?.close()
        for connection in connections { try? await connection.close() }
    }

    private func track(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        state.withLockedValue { $0.connections[id] = channel }
        channel.closeFuture.whenComplete { [weak self] _ in
            _ = self?.state.withLockedValue { $0.connections.removeValue(forKey: id) }
        }
    }
}

/// Answers one request at a time on a connection (HTTP/1.1 keep-alive, no pipelining needed by
/// Prometheus). Lives on the connection's event loop.
final class MetricsRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let render: @Sendable () -> [UInt8]
    private var head: HTTPRequestHead?

    init(render: @escaping @Sendable () -> [UInt8]) {
        self.render = render
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): self.head = head
        case .body: break  // no route takes a body
        case .end:
            guard let head else { return }
            self.head = nil
            respond(to: head, context: context)
        }
    }

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        let answer = Self.route(method: head.method, uri: head.uri, render: render)
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: answer.contentType)
        headers.add(name: "Content-Length", value: String(answer.body.count))
        if answer.status == .methodNotAllowed { headers.add(name: "Allow", value: "GET, HEAD") }
        let keepAlive = head.isKeepAlive
        headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: answer.status, headers: headers))), promise: nil)
        if head.method != .HEAD {
            var buffer = context.channel.allocator.buffer(capacity: answer.body.count)
            buffer.writeBytes(answer.body)
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        }
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let channel = context.channel
            done.whenComplete { _ in channel.close(promise: nil) }
        }
    }

    /// What a request gets: status, content type and body. Pure, for tests.
    static func route(method: HTTPMethod, uri: String, render: () -> [UInt8]) -> (status: HTTPResponseStatus, contentType: String, body: [UInt8]) {
        let path = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? uri
        let text = "text/plain; charset=utf-8"
        switch path {
        case "/metrics", "/metrics/":
            guard method == .GET || method == .HEAD else { return (.methodNotAllowed, text, Array("method not allowed\n".utf8)) }
            return (.ok, "text/plain; version=0.0.4; charset=utf-8", render())
        case "/healthz", "/healthz/":
            guard method == .GET || method == .HEAD else { return (.methodNotAllowed, text, Array("method not allowed\n".utf8)) }
            return (.ok, text, Array("ok\n".utf8))
        default:
            return (.notFound, text, Array("not found\n".utf8))
        }
    }
}
