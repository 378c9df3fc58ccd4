import HTTP2
import NIOCore
import RPCCore

/// Sent down a server connection's pipeline to start a graceful shutdown.
struct GracefulShutdownEvent {}

/// Drives one ``ServerConnection`` from a SwiftNIO channel: socket bytes in, response bytes
/// out. Each call's handler runs as a Swift task; by default that task prefers the
/// connection's event loop as its executor (``EventLoopTaskExecutor``), so a handler that does
/// not hop elsewhere starts, runs and finishes on the loop with no thread switch, and its
/// result is sent without a hop back. Responses finished in one pass of the loop go out in
/// one write.
final class ServerChannelHandler: ChannelInboundHandler, ServerConnectionHost {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let registry: ServiceRegistry
    private let configuration: ServerConnection.Configuration
    private let observer: ServerObserver
    private let handlersOnEventLoop: Bool
    private var connection: ServerConnection?
    private var channelContext: ChannelHandlerContext?
    private var executor: EventLoopTaskExecutor?
    private var tasks: [Int32: Task<Void, Never>] = [:]
    /// A flush is scheduled on the loop (to write every response finished in this pass at once).
    private var flushPending = false

    init(
        registry: ServiceRegistry, configuration: ServerConnection.Configuration, observer: ServerObserver,
        handlersOnEventLoop: Bool = true
    ) {
        self.registry = registry
        self.configuration = configuration
        self.observer = observer
        self.handlersOnEventLoop = handlersOnEventLoop
    }

    func handlerAdded(context: ChannelHandlerContext) {
        channelContext = context
        if handlersOnEventLoop {
            executor = EventLoopTaskExecutor(context.eventLoop)
        }
        var configuration = self.configuration
        configuration.peer = context.channel.remoteAddress?.description ?? ""
        do {
            let connection = try ServerConnection(registry: registry, configuration: configuration)
            connection.host = self
            self.connection = connection
        } catch {
            context.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelAll()
        connection = nil
        channelContext = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        flush()
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelAll()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let connection else { return }
        let buffer = unwrapInboundIn(data)
        do {
            try buffer.withUnsafeReadableBytes { bytes throws(HTTP2Error) in try connection.receive(bytes) }
        } catch {
            // A protocol violation: nghttp2 has queued a GOAWAY; send it and hang up.
            flush()
            context.close(promise: nil)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flush()
        context.fireChannelReadComplete()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is GracefulShutdownEvent {
            connection?.beginShutdown()
            flush()
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    // MARK: ServerConnectionHost

    func startCall(streamID: Int32, method: ServerMethod, request: [UInt8], context: RPCContext) {
        guard let eventLoop = channelContext?.eventLoop else { return }
        let loopBound = NIOLoopBound(self, eventLoop: eventLoop)
        let observer = self.observer
        let started = observer.callStarted()
        let run: @Sendable () async -> Void = {
            let annotations = CallAnnotations()
            let result = await CallAnnotations.$current.withValue(annotations) {
                await withDeadline(context.deadline) {
                    try await method.handler(request, context)
                }
            }
            observer.callFinished(path: method.path, started: started, result: result,
                                  requestID: context.metadata["x-request-id"], userID: annotations.userID)
            if eventLoop.inEventLoop {
                loopBound.value.finish(streamID: streamID, result: result)
            } else {
                eventLoop.execute { loopBound.value.finish(streamID: streamID, result: result) }
            }
        }
        if let executor {
            tasks[streamID] = Task(executorPreference: executor, operation: run)
        } else {
            tasks[streamID] = Task(operation: run)
        }
    }

    func cancelCall(streamID: Int32) {
        tasks.removeValue(forKey: streamID)?.cancel()
    }

    // MARK: Helpers

    /// A call's handler returned (on the loop): answer it, and write soon.
    private func finish(streamID: Int32, result: Result<[UInt8], RPCError>) {
        tasks[streamID] = nil
        connection?.complete(streamID: streamID, result: result)
        scheduleFlush()
    }

    /// Flushes once after the tasks the loop is running now, so responses completed together
    /// share one write (and one syscall) instead of one each.
    private func scheduleFlush() {
        guard !flushPending, let eventLoop = channelContext?.eventLoop else { return }
        flushPending = true
        let loopBound = NIOLoopBound(self, eventLoop: eventLoop)
        eventLoop.execute {
            let handler = loopBound.value
            handler.flushPending = false
            handler.flush()
        }
    }

    private func cancelAll() {
        for task in tasks.values { task.cancel() }
        tasks.removeAll()
    }

    /// Writes whatever the session has queued, then closes the channel if the connection is done.
    private func flush() {
        guard let connection, let context = channelContext else { return }
        guard context.writeDrainedOutput({ write throws(HTTP2Error) in try connection.drainOutput(write) }) else { return }
        if connection.isFinished {
            context.close(promise: nil)
        }
    }
}
