import NIOCore
import OpenSSLCrypto

/// Runs a ``TLSSession`` between the socket and the HTTP/2 handler: ciphertext from the socket
/// is decrypted and passed up, plaintext written by the handler above is encrypted and passed
/// down. Lives on the channel's event loop.
///
/// Writes made before the handshake finishes are held and sent when it does. When the
/// handshake fails, or takes longer than `handshakeTimeout`, the alert (if any) is sent, the
/// ``handshakeFuture`` fails with the ``TLSError``, the error goes up the pipeline, and the
/// channel is closed. A failure after the handshake is reported and closes the channel too.
final class TLSHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let session: TLSSession
    private let handshakeTimeout: TimeAmount
    private let onHandshakeFailure: ((TLSError) -> Void)?
    private var handshakePromise: EventLoopPromise<Void>?
    private var timeout: Scheduled<Void>?
    private var started = false
    /// Promises of writes made during the handshake, completed when their bytes are written.
    private var heldWritePromises: [EventLoopPromise<Void>] = []

    /// Succeeds when the handshake is done and `h2` agreed; fails with the ``TLSError`` (or a
    /// closed channel) otherwise. Available once the handler is added.
    private(set) var handshakeFuture: EventLoopFuture<Void>?

    /// `onHandshakeFailure` is called (on the event loop) when the handshake fails or times out.
    init(session: TLSSession, handshakeTimeout: TimeAmount, onHandshakeFailure: ((TLSError) -> Void)? = nil) {
        self.session = session
        self.handshakeTimeout = handshakeTimeout
        self.onHandshakeFailure = onHandshakeFailure
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let promise = context.eventLoop.makePromise(of: Void.self)
        handshakePromise = promise
        handshakeFuture = promise.futureResult
        if context.channel.isActive { start(context: context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timeout?.cancel()
        failHandshake(TLSError(.handshake, "the connection closed during the TLS handshake"))
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timeout?.cancel()
        failHandshake(TLSError(.handshake, "the connection closed during the TLS handshake"))
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        let wasHandshaking = session.state == .handshaking
        let plaintext: [UInt8]
        do throws(TLSError) {
            plaintext = try buffer.withUnsafeReadableBytes { bytes in Result { () throws(TLSError) in try session.receive(bytes) } }.get()
        } catch {
            fatal(context: context, error)
            return
        }
        if wasHandshaking && session.state == .established {
            timeout?.cancel()
            let held = heldWritePromises
            heldWritePromises = []
            writeOutput(context: context, flush: true, promises: held)
            handshakePromise?.succeed()
            handshakePromise = nil
        } else {
            writeOutput(context: context, flush: true, promises: [])
        }
        if !plaintext.isEmpty {
            context.fireChannelRead(wrapInboundOut(context.channel.allocator.buffer(bytes: plaintext)))
        }
        if session.state == .closed {
            // The peer sent close_notify: answer it and hang up.
            context.close(promise: nil)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let buffer = unwrapOutboundIn(data)
        let wasHandshaking = session.state == .handshaking
        do throws(TLSError) {
            try buffer.withUnsafeReadableBytes { bytes in Result { () throws(TLSError) in try session.send(bytes) } }.get()
        } catch {
            promise?.fail(error)
            return
        }
        if wasHandshaking {
            if let promise { heldWritePromises.append(promise) }
            return
        }
        writeOutput(context: context, flush: false, promises: promise.map { [$0] } ?? [])
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        if mode == .all && session.state == .established {
            session.close()
            writeOutput(context: context, flush: true, promises: [])
        }
        context.close(mode: mode, promise: promise)
    }

    // MARK: Helpers

    private func start(context: ChannelHandlerContext) {
        guard !started else { return }
        started = true
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timeout = context.eventLoop.scheduleTask(in: handshakeTimeout) {
            let (handler, context) = loopBound.value
            guard handler.session.state == .handshaking else { return }
            handler.fatal(context: context, TLSError(.handshake, "the TLS handshake timed out"))
        }
        do throws(TLSError) {
            try session.startHandshake()
        } catch {
            fatal(context: context, error)
            return
        }
        writeOutput(context: context, flush: true, promises: [])
    }

    /// Writes whatever ciphertext the session has, completing `promises` with that write.
    private func writeOutput(context: ChannelHandlerContext, flush: Bool, promises: [EventLoopPromise<Void>]) {
        let output = session.takeOutput()
        if output.isEmpty {
            for promise in promises { promise.succeed() }
            if flush { context.flush() }
            return
        }
        let write = context.write(wrapOutboundOut(context.channel.allocator.buffer(bytes: output)))
        for promise in promises { write.cascade(to: promise) }
        if flush { context.flush() }
    }

    /// Sends any alert, reports `error`, and closes.
    private func fatal(context: ChannelHandlerContext, _ error: TLSError) {
        timeout?.cancel()
        let output = session.takeOutput()
        if !output.isEmpty {
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: output)), promise: nil)
        }
        let held = heldWritePromises
        heldWritePromises = []
        for promise in held { promise.fail(error) }
        if handshakePromise != nil { onHandshakeFailure?(error) }
        failHandshake(error)
        context.fireErrorCaught(error)
        context.close(promise: nil)
    }

    private func failHandshake(_ error: TLSError) {
        guard let promise = handshakePromise else { return }
        handshakePromise = nil
        promise.fail(error)
    }
}
