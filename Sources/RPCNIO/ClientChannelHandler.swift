import HTTP2
import NIOCore
import OpenSSLCrypto
import RPCCore

/// The client side of one HTTP/2 connection on a SwiftNIO channel: starts unary calls as
/// streams and completes their promises from the response. Lives on the channel's event loop.
final class ClientChannelHandler: ChannelInboundHandler, HTTP2SessionDelegate {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// One call waiting for its response.
    private struct PendingCall {
        let callID: UInt64
        let promise: EventLoopPromise<ClientResponse>
        var deframer: GRPCDeframer
        var initialMetadata = Metadata()
        var sawHeaders = false
        var timeout: Scheduled<Void>?
    }

    private let session: HTTP2Session
    private let authority: String
    private let scheme: String
    private let maxMessageSize: Int
    private var channelContext: ChannelHandlerContext?
    private var calls: [Int32: PendingCall] = [:]
    private var streamsByCall: [UInt64: Int32] = [:]
    /// Set once the peer sent GOAWAY or the connection failed: no new calls start here.
    private(set) var isDraining = false
    /// Why the connection failed, when the reason is worth telling the caller (a TLS error).
    private(set) var failure: RPCError?

    init(authority: String, scheme: String = "http", maxMessageSize: Int, settings: HTTP2Session.Settings) throws(HTTP2Error) {
        self.authority = authority
        self.scheme = scheme
        self.maxMessageSize = maxMessageSize
        self.session = try HTTP2Session(role: .client, settings: settings)
        session.delegate = self
    }

    /// Whether a new call can be started on this connection.
    var isUsable: Bool {
        !isDraining && channelContext?.channel.isActive == true && session.canOpenStream
    }

    // MARK: Calls

    /// Starts a call. The promise is completed with the response or an ``RPCError``.
    func startCall(callID: UInt64, path: String, request: [UInt8], context: RPCContext, promise: EventLoopPromise<ClientResponse>) {
        guard isUsable, let channelContext else {
            promise.fail(failure ?? RPCError(code: .unavailable, message: "Connection is closing"))
            return
        }
        var headers = [
            HTTP2Header(":method", "POST"), HTTP2Header(":scheme", scheme),
            HTTP2Header(":path", path), HTTP2Header(":authority", authority),
            HTTP2Header("content-type", GRPCHeaders.contentType), HTTP2Header("te", "trailers"),
            HTTP2Header("user-agent", "imageedit-rpc/1.0"),
        ]
        if let remaining = context.timeRemaining {
            headers.append(HTTP2Header("grpc-timeout", GRPCTimeout.encode(remaining)))
        }
        GRPCHeaders.appendFields(for: context.metadata, to: &headers)
        // The envelope header goes separately, so the message itself is never copied.
        var prefix: [UInt8] = []
        prefix.reserveCapacity(GRPCFraming.headerSize)
        GRPCFraming.appendHeader(length: request.count, to: &prefix)

        let streamID: Int32
        do {
            streamID = try session.submitRequest(headers: headers, bodyPrefix: prefix, body: request)
        } catch {
            promise.fail(RPCError(code: .unavailable, message: "Could not start the call"))
            return
        }
        var call = PendingCall(callID: callID, promise: promise, deframer: GRPCDeframer(maxMessageSize: maxMessageSize))
        if let remaining = context.timeRemaining {
            let nanoseconds = remaining.components.seconds * 1_000_000_000 + remaining.components.attoseconds / 1_000_000_000
            let loopBound = NIOLoopBound(self, eventLoop: channelContext.eventLoop)
            call.timeout = channelContext.eventLoop.scheduleTask(in: .nanoseconds(nanoseconds)) {
                loopBound.value.fail(streamID: streamID, with: RPCError(code: .deadlineExceeded, message: "Deadline exceeded"), reset: true)
            }
        }
        calls[streamID] = call
        streamsByCall[callID] = streamID
        flush()
    }

    /// Cancels a call the caller gave up on (its task was cancelled).
    func cancelCall(callID: UInt64) {
        guard let streamID = streamsByCall[callID] else { return }
        fail(streamID: streamID, with: RPCError(code: .cancelled, message: "The call was cancelled"), reset: true)
    }

    // MARK: ChannelInboundHandler

    func handlerAdded(context: ChannelHandlerContext) {
        channelContext = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        failAll(RPCError(code: .unavailable, message: "Connection closed"))
        channelContext = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        flush()
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        isDraining = true
        failAll(failure ?? RPCError(code: .unavailable, message: "Connection closed"))
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        do {
            try buffer.withUnsafeReadableBytes { bytes throws(HTTP2Error) in try session.receive(bytes) }
        } catch {
            isDraining = true
            flush()
            failAll(RPCError(code: .unavailable, message: "HTTP/2 protocol error from the server"))
            context.close(promise: nil)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flush()
        context.fireChannelReadComplete()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        isDraining = true
        if let error = error as? TLSError {
            let failure = RPCError(code: .unavailable, message: "TLS error from \(authority): \(error.reason)")
            self.failure = failure
            failAll(failure)
        } else {
            failAll(RPCError(code: .unavailable, message: "Connection failed"))
        }
        context.close(promise: nil)
    }

    // MARK: HTTP2SessionDelegate

    func session(_ session: HTTP2Session, didReceiveHeaders headers: [HTTP2Header], streamID: Int32, endStream: Bool) {
        guard var call = calls[streamID] else { return }
        if !call.sawHeaders {
            call.sawHeaders = true
            let status = headers[field: ":status"] ?? ""
            guard status == "200" else {
                fail(streamID: streamID, with: Self.error(forHTTPStatus: status), reset: !endStream)
                return
            }
            if headers[field: "grpc-status"] == nil {
                guard GRPCHeaders.isGRPCContentType(headers[field: "content-type"]) else {
                    fail(streamID: streamID, with: RPCError(code: .unknown, message: "Response is not gRPC"), reset: !endStream)
                    return
                }
            }
            if !endStream {
                call.initialMetadata = GRPCHeaders.metadata(from: headers)
                calls[streamID] = call
                return
            }
        }
        // Trailers (or a Trailers-Only response): the call's outcome.
        finish(streamID: streamID, trailers: headers)
    }

    func session(_ session: HTTP2Session, didReceiveData data: UnsafeRawBufferPointer, streamID: Int32) {
        guard var call = calls[streamID] else { return }
        calls[streamID] = nil  // avoid copying the buffer on append
        call.deframer.append(data)
        calls[streamID] = call
        do {
            _ = try call.deframer.pendingMessageLength()
        } catch {
            fail(streamID: streamID, with: error, reset: true)
        }
    }

    func session(_ session: HTTP2Session, didReceiveEndOfStream streamID: Int32) {
        // A DATA frame ended the stream without trailers.
        fail(streamID: streamID, with: RPCError(code: .internalError, message: "Response ended without a status"), reset: false)
    }

    func session(_ session: HTTP2Session, streamDidClose streamID: Int32, errorCode: UInt32) {
        let error: RPCError
        switch errorCode {
        case HTTP2ErrorCode.noError: error = RPCError(code: .internalError, message: "Stream closed without a status")
        case HTTP2ErrorCode.refusedStream: error = RPCError(code: .unavailable, message: "The server refused the stream")
        case HTTP2ErrorCode.cancel: error = RPCError(code: .cancelled, message: "The server cancelled the stream")
        case HTTP2ErrorCode.enhanceYourCalm: error = RPCError(code: .resourceExhausted, message: "The server asked to slow down")
        default: error = RPCError(code: .internalError, message: "Stream reset by the server (HTTP/2 error \(errorCode))")
        }
        fail(streamID: streamID, with: error, reset: false)
    }

    func session(_ session: HTTP2Session, didReceiveGoAway lastStreamID: Int32, errorCode: UInt32) {
        isDraining = true
        // Streams the server never processed fail now, as retryable UNAVAILABLE.
        for streamID in calls.keys where streamID > lastStreamID {
            fail(streamID: streamID, with: RPCError(code: .unavailable, message: "The server is shutting down"), reset: false)
        }
    }

    // MARK: Helpers

    private func finish(streamID: Int32, trailers: [HTTP2Header]) {
        guard var call = calls.removeValue(forKey: streamID) else { return }
        streamsByCall[call.callID] = nil
        call.timeout?.cancel()
        guard let statusText = trailers[field: "grpc-status"], let raw = Int(statusText) else {
            call.promise.fail(RPCError(code: .internalError, message: "Response carried no grpc-status"))
            return
        }
        let code = StatusCode(rawValue: raw)
        let trailingMetadata = GRPCHeaders.metadata(from: trailers)
        guard code == .ok else {
            let message = trailers[field: "grpc-message"].map(GRPCMessageEncoding.decode) ?? ""
            call.promise.fail(RPCError(code: code, message: message, metadata: trailingMetadata))
            return
        }
        do {
            guard let message = try call.deframer.next() else {
                call.promise.fail(RPCError(code: .internalError, message: "Response message is missing"))
                return
            }
            guard call.deframer.bufferedByteCount == 0 else {
                call.promise.fail(RPCError(code: .internalError, message: "A unary response has exactly one message"))
                return
            }
            call.promise.succeed(ClientResponse(message: message, initialMetadata: call.initialMetadata, trailingMetadata: trailingMetadata))
        } catch {
            call.promise.fail(error)
        }
    }

    private func fail(streamID: Int32, with error: RPCError, reset: Bool) {
        guard let call = calls.removeValue(forKey: streamID) else { return }
        streamsByCall[call.callID] = nil
        call.timeout?.cancel()
        if reset {
            session.resetStream(streamID, errorCode: HTTP2ErrorCode.cancel)
            flush()
        }
        call.promise.fail(error)
    }

    private func failAll(_ error: RPCError) {
        let pending = calls
        calls.removeAll()
        streamsByCall.removeAll()
        for call in pending.values {
            call.timeout?.cancel()
            call.promise.fail(error)
        }
    }

    private func flush() {
        guard let context = channelContext else { return }
        _ = context.writeDrainedOutput { write throws(HTTP2Error) in try session.drainOutput(write) }
    }

    /// gRPC's mapping of HTTP statuses from non-gRPC answers (http-grpc-status-mapping.md).
    static func error(forHTTPStatus status: String) -> RPCError {
        let code: StatusCode
        switch status {
        case "400": code = .internalError
        case "401": code = .unauthenticated
        case "403": code = .permissionDenied
        case "404": code = .unimplemented
        case "429", "502", "503", "504": code = .unavailable
        default: code = .unknown
        }
        return RPCError(code: code, message: "HTTP status \(status) from the server")
    }
}
