import HTTP2
import RPCCore

/// What a ``ServerConnection`` asks of whoever drives it: run a call, cancel one.
protocol ServerConnectionHost: AnyObject {
    /// Starts a call. When it finishes, call ``ServerConnection/complete(streamID:result:)``
    /// on the connection's thread.
    func startCall(streamID: Int32, method: ServerMethod, request: [UInt8], context: RPCContext)
    /// The client cancelled the stream (RST_STREAM) or the connection died: stop the call.
    func cancelCall(streamID: Int32)
}

/// The gRPC server side of one HTTP/2 connection, with no I/O: it validates requests,
/// reassembles messages, and turns results into responses. Bytes in through ``receive(_:)``,
/// bytes out through ``drainOutput(_:)``; calls are run by its ``host``.
///
/// Not thread-safe: use it on one thread (the connection's event loop).
final class ServerConnection: HTTP2SessionDelegate {
    struct Configuration {
        var maxMessageSize = GRPCFraming.defaultMaxMessageSize
        var http2 = HTTP2Session.Settings()
        var peer = ""
    }

    private enum StreamState {
        /// Headers accepted; the request message is arriving.
        case receiving(method: ServerMethod, context: RPCContext, deframer: GRPCDeframer)
        /// The handler is running.
        case running
        /// A response was sent; anything more from the client is ignored.
        case answered
    }

    let session: HTTP2Session
    unowned(unsafe) var host: (any ServerConnectionHost)?
    private let registry: ServiceRegistry
    private let configuration: Configuration
    private var streams: [Int32: StreamState] = [:]
    private(set) var isShuttingDown = false

    init(registry: ServiceRegistry, configuration: Configuration) throws(HTTP2Error) {
        self.registry = registry
        self.configuration = configuration
        self.session = try HTTP2Session(role: .server, settings: configuration.http2)
        session.delegate = self
    }

    /// Bytes from the client. Throws on a connection-level protocol error: send the pending
    /// output (a GOAWAY), then close.
    func receive(_ bytes: UnsafeRawBufferPointer) throws(HTTP2Error) {
        try session.receive(bytes)
    }

    func drainOutput(_ write: (UnsafeRawBufferPointer) -> Void) throws(HTTP2Error) {
        try session.drainOutput(write)
    }

    /// Calls whose handler is running or whose request is still arriving.
    var activeCallCount: Int { streams.count }

    /// Whether the connection may be closed: shutting down, no calls left, nothing to write.
    var isFinished: Bool {
        (isShuttingDown && streams.isEmpty && !session.wantsWrite) || !session.isActive
    }

    /// Starts a graceful shutdown: GOAWAY now, in-flight calls run to completion.
    func beginShutdown() {
        guard !isShuttingDown else { return }
        isShuttingDown = true
        session.submitGoAway()
    }

    /// Response headers and trailers of every successful call, built once.
    private static let okHeaders = [HTTP2Header(":status", "200"), HTTP2Header("content-type", GRPCHeaders.contentType)]
    private static let okTrailers: [HTTP2Header] = {
        var trailers: [HTTP2Header] = []
        GRPCHeaders.appendStatus(nil, to: &trailers)
        return trailers
    }()

    /// Finishes a call the host ran: sends the response, or the error as trailers.
    /// The message is handed to the session as is (the envelope header goes before it
    /// separately), so it is not copied on its way to the socket buffer.
    func complete(streamID: Int32, result: Result<[UInt8], RPCError>) {
        guard case .running = streams[streamID] else { return }
        streams[streamID] = .answered
        switch result {
        case .success(let message):
            if message.count > configuration.maxMessageSize {
                let error = RPCError(
                    code: .resourceExhausted,
                    message: "Response message of \(message.count) bytes exceeds the limit of \(configuration.maxMessageSize) bytes")
                respondTrailersOnly(streamID: streamID, error: error)
                return
            }
            var prefix: [UInt8] = []
            prefix.reserveCapacity(GRPCFraming.headerSize)
            GRPCFraming.appendHeader(length: message.count, to: &prefix)
            do {
                try session.submitResponse(
                    streamID: streamID, headers: Self.okHeaders, bodyPrefix: prefix, body: message, trailers: Self.okTrailers)
            } catch {
                session.resetStream(streamID, errorCode: HTTP2ErrorCode.internalError)
            }
        case .failure(let error):
            respondTrailersOnly(streamID: streamID, error: error)
        }
    }

    // MARK: HTTP2SessionDelegate

    func session(_ session: HTTP2Session, didReceiveHeaders headers: [HTTP2Header], streamID: Int32, endStream: Bool) {
        if streams[streamID] != nil {
            // Trailers from the client end the request; unary clients send none, but allow it.
            if endStream { finishRequest(streamID: streamID) }
            return
        }
        guard headers[field: ":method"] == "POST" else {
            respondHTTP(streamID: streamID, status: "405")
            return
        }
        guard GRPCHeaders.isGRPCContentType(headers[field: "content-type"]) else {
            respondHTTP(streamID: streamID, status: "415")
            return
        }
        let path = headers[field: ":path"] ?? ""
        guard let method = registry.method(for: path) else {
            respondTrailersOnly(streamID: streamID, error: RPCError(code: .unimplemented, message: "Method not found: \(path)"))
            return
        }
        var context = RPCContext(metadata: GRPCHeaders.metadata(from: headers), deadline: nil, peer: configuration.peer)
        if let timeout = headers[field: "grpc-timeout"] {
            guard let duration = GRPCTimeout.parse(timeout) else {
                respondTrailersOnly(streamID: streamID, error: RPCError(code: .internalError, message: "Malformed grpc-timeout"))
                return
            }
            context.deadline = .now + duration
        }
        // A declared grpc-encoding is tolerated: a message that is actually compressed is
        // refused by the deframer with UNIMPLEMENTED (only identity is supported).
        streams[streamID] = .receiving(method: method, context: context, deframer: GRPCDeframer(maxMessageSize: configuration.maxMessageSize))
        if endStream { finishRequest(streamID: streamID) }
    }

    func session(_ session: HTTP2Session, didReceiveData data: UnsafeRawBufferPointer, streamID: Int32) {
        guard case .receiving(let method, let context, var deframer) = streams[streamID] else { return }
        streams[streamID] = .running  // drop the state's reference so the append does not copy
        deframer.append(data)
        do {
            _ = try deframer.pendingMessageLength()
            streams[streamID] = .receiving(method: method, context: context, deframer: deframer)
        } catch {
            respondTrailersOnly(streamID: streamID, error: error)
        }
    }

    func session(_ session: HTTP2Session, didReceiveEndOfStream streamID: Int32) {
        finishRequest(streamID: streamID)
    }

    func session(_ session: HTTP2Session, streamDidClose streamID: Int32, errorCode: UInt32) {
        guard let state = streams.removeValue(forKey: streamID) else { return }
        if case .running = state {
            host?.cancelCall(streamID: streamID)
        }
    }

    func session(_ session: HTTP2Session, didReceiveGoAway lastStreamID: Int32, errorCode: UInt32) {}

    // MARK: Helpers

    private func finishRequest(streamID: Int32) {
        guard case .receiving(let method, let context, var deframer) = streams[streamID] else { return }
        streams[streamID] = .running
        let message: [UInt8]
        do {
            guard let first = try deframer.next() else {
                let problem = deframer.bufferedByteCount > 0 ? "Request message is truncated" : "Request message is missing"
                respondTrailersOnly(streamID: streamID, error: RPCError(code: .internalError, message: problem))
                return
            }
            guard deframer.bufferedByteCount == 0 else {
                respondTrailersOnly(streamID: streamID, error: RPCError(code: .internalError, message: "A unary call takes exactly one request message"))
                return
            }
            message = first
        } catch {
            respondTrailersOnly(streamID: streamID, error: error)
            return
        }
        if let deadline = context.deadline, deadline <= .now {
            respondTrailersOnly(streamID: streamID, error: RPCError(code: .deadlineExceeded, message: "Deadline exceeded"))
            return
        }
        host?.startCall(streamID: streamID, method: method, request: message, context: context)
    }

    /// A Trailers-Only response: one HEADERS frame with the status, ending the stream.
    private func respondTrailersOnly(streamID: Int32, error: RPCError) {
        streams[streamID] = .answered
        var headers = [HTTP2Header(":status", "200"), HTTP2Header("content-type", GRPCHeaders.contentType)]
        GRPCHeaders.appendStatus(error, to: &headers)
        do {
            try session.submitHeadersOnlyResponse(streamID: streamID, headers: headers)
        } catch {
            session.resetStream(streamID, errorCode: HTTP2ErrorCode.internalError)
        }
    }

    private func respondHTTP(streamID: Int32, status: String) {
        streams[streamID] = .answered
        do {
            try session.submitHeadersOnlyResponse(streamID: streamID, headers: [HTTP2Header(":status", status)])
        } catch {
            session.resetStream(streamID, errorCode: HTTP2ErrorCode.internalError)
        }
    }
}
