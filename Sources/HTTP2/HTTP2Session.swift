internal import CNGHTTP2

/// Receives what an ``HTTP2Session`` decodes, synchronously, from inside
/// ``HTTP2Session/receive(_:)``. Implementations may call back into the session (submit a
/// response, reset a stream) from these methods.
public protocol HTTP2SessionDelegate: AnyObject {
    /// A complete header block: request headers (server), response headers or trailers
    /// (client). `endStream` is set when the peer will send nothing more on the stream.
    func session(_ session: HTTP2Session, didReceiveHeaders headers: [HTTP2Header], streamID: Int32, endStream: Bool)
    /// A piece of a DATA frame's payload. The memory is valid only during the call.
    func session(_ session: HTTP2Session, didReceiveData data: UnsafeRawBufferPointer, streamID: Int32)
    /// The peer ended the stream with a DATA frame carrying END_STREAM.
    func session(_ session: HTTP2Session, didReceiveEndOfStream streamID: Int32)
    /// The stream is closed. `errorCode` is 0 for a normal close, otherwise the RST_STREAM or
    /// connection error code (e.g. ``HTTP2ErrorCode/cancel`` when the peer cancelled).
    func session(_ session: HTTP2Session, streamDidClose streamID: Int32, errorCode: UInt32)
    /// The peer sent GOAWAY: streams above `lastStreamID` were not and will not be processed.
    func session(_ session: HTTP2Session, didReceiveGoAway lastStreamID: Int32, errorCode: UInt32)
}

/// An HTTP/2 connection's protocol state, wrapping an nghttp2 session. It performs no I/O:
/// feed it the bytes read from the socket with ``receive(_:)``, learn what they meant through
/// its ``delegate``, and write what ``drainOutput(_:)`` hands you. Bodies are never copied
/// into nghttp2: their bytes go from the submitted arrays straight to the output.
///
/// Not thread-safe: create, use and release one session on a single thread (the connection's
/// event loop). The delegate is held weakly-unowned: keep it alive for the session's lifetime.
public final class HTTP2Session {
    /// Which side of the connection this session speaks for.
    public enum Role: Sendable {
        case client
        case server
    }

    /// Local settings, sent in the connection preface.
    public struct Settings: Sendable {
        /// Streams the peer may open at once (server) or that we allow the peer to push (client).
        public var maxConcurrentStreams: UInt32 = 1024
        /// Per-stream receive window. gRPC messages of several MiB flow without stalls when
        /// this is at least a few MiB.
        public var initialWindowSize: Int32 = 4 * 1024 * 1024
        /// Connection-wide receive window.
        public var connectionWindowSize: Int32 = 32 * 1024 * 1024
        /// Largest frame payload the peer may send us.
        public var maxFrameSize: Int32 = 1024 * 1024
        /// Largest header list accepted, in bytes (HPACK-decoded).
        public var maxHeaderListSize: UInt32 = 64 * 1024

        public init() {}
    }

    /// Receives decoded events. Must outlive the session.
    public unowned(unsafe) var delegate: (any HTTP2SessionDelegate)?

    /// The role given at creation.
    public let role: Role

    private let raw: OpaquePointer
    private var outgoing: [Int32: OutgoingBody] = [:]
    /// The header block being received. HTTP/2 never interleaves header blocks (CONTINUATION
    /// frames must follow their HEADERS at once), so one buffer serves every stream.
    private var pendingHeaders: [HTTP2Header] = []
    private var pendingHeadersStream: Int32 = 0
    /// Where ``drainOutput(_:)`` sends bytes while nghttp2_session_send runs; nil otherwise.
    private var sink: ((UnsafeRawBufferPointer) -> Void)?

    /// An outgoing body (`prefix` then `bytes`), never copied into nghttp2: DATA frames are
    /// written straight from it to the output (NGHTTP2_DATA_FLAG_NO_COPY). `claimed` counts
    /// the bytes nghttp2 has framed, `sent` those written out; the trailers follow the last.
    private final class OutgoingBody {
        let prefix: [UInt8]
        let bytes: [UInt8]
        let trailers: [HTTP2Header]?
        var claimed = 0
        var sent = 0
        var count: Int { prefix.count + bytes.count }

        init(prefix: [UInt8], bytes: [UInt8], trailers: [HTTP2Header]?) {
            self.prefix = prefix
            self.bytes = bytes
            self.trailers = trailers
        }

        /// Hands `length` bytes from offset `sent` on to `write`, in at most two pieces.
        func write(_ length: Int, to write: (UnsafeRawBufferPointer) -> Void) {
            var remaining = length
            if sent < prefix.count {
                let count = min(remaining, prefix.count - sent)
                prefix.withUnsafeBytes { write(UnsafeRawBufferPointer(rebasing: $0[sent..<(sent + count)])) }
                sent += count
                remaining -= count
            }
            if remaining > 0 {
                let start = sent - prefix.count
                bytes.withUnsafeBytes { write(UnsafeRawBufferPointer(rebasing: $0[start..<(start + remaining)])) }
                sent += remaining
            }
        }
    }

    /// Creates a session and queues the connection preface and local SETTINGS.
    /// Throws when nghttp2 cannot allocate the session.
    public init(role: Role, settings: Settings = Settings()) throws(HTTP2Error) {
        self.role = role
        var callbacks: OpaquePointer?
        try nghttp2Check(nghttp2_session_callbacks_new(&callbacks))
        defer { nghttp2_session_callbacks_del(callbacks) }
        Self.install(callbacks)

        var option: OpaquePointer?
        try nghttp2Check(nghttp2_option_new(&option))
        defer { nghttp2_option_del(option) }
        // We read nothing beyond what we are given and never let nghttp2 close on idle.
        nghttp2_option_set_no_closed_streams(option, 1)

        var session: OpaquePointer?
        // `self` is not yet fully initialised; the user data is set right after.
        switch role {
        case .client: try nghttp2Check(nghttp2_session_client_new2(&session, callbacks, nil, option))
        case .server: try nghttp2Check(nghttp2_session_server_new2(&session, callbacks, nil, option))
        }
        self.raw = session!
        nghttp2_session_set_user_data(raw, Unmanaged.passUnretained(self).toOpaque())

        var entries = [
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS.rawValue), value: settings.maxConcurrentStreams),
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE.rawValue), value: UInt32(settings.initialWindowSize)),
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_MAX_FRAME_SIZE.rawValue), value: UInt32(settings.maxFrameSize)),
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE.rawValue), value: settings.maxHeaderListSize),
        ]
        if role == .client {
            entries.append(nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_ENABLE_PUSH.rawValue), value: 0))
        }
        try nghttp2Check(nghttp2_submit_settings(raw, UInt8(NGHTTP2_FLAG_NONE.rawValue), entries, entries.count))
        try nghttp2Check(nghttp2_session_set_local_window_size(raw, UInt8(NGHTTP2_FLAG_NONE.rawValue), 0, settings.connectionWindowSize))
    }

    deinit {
        nghttp2_session_del(raw)
    }

    // MARK: Bytes in, bytes out

    /// Processes bytes read from the peer, calling the delegate for what they contain.
    /// Throws on a connection-level protocol error; the caller should then send what
    /// ``drainOutput(_:)`` offers (a GOAWAY) and close the connection.
    public func receive(_ bytes: UnsafeRawBufferPointer) throws(HTTP2Error) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        try nghttp2Check(nghttp2_session_mem_recv(raw, base.assumingMemoryBound(to: UInt8.self), bytes.count))
    }

    /// Hands every pending output chunk to `write`, in order, until nothing is left.
    /// Each chunk's memory is valid only during its call. Body bytes come straight from the
    /// arrays given to the submit methods (nghttp2 never copies them), frame headers and
    /// control frames from nghttp2's buffers. Do not call it from inside `write`.
    public func drainOutput(_ write: (UnsafeRawBufferPointer) -> Void) throws(HTTP2Error) {
        let result = withoutActuallyEscaping(write) { escapable in
            sink = escapable
            defer { sink = nil }
            return nghttp2_session_send(raw)
        }
        try nghttp2Check(result)
    }

    /// Every pending output byte, concatenated. Convenient for tests.
    public func pendingOutput() throws(HTTP2Error) -> [UInt8] {
        var out: [UInt8] = []
        try drainOutput { out.append(contentsOf: $0) }
        return out
    }

    /// Whether the session still wants to read or has something to write. When both are
    /// false the connection can be closed (e.g. after GOAWAY with no streams left).
    public var isActive: Bool {
        nghttp2_session_want_read(raw) != 0 || nghttp2_session_want_write(raw) != 0
    }

    /// Whether there is output waiting to be drained.
    public var wantsWrite: Bool { nghttp2_session_want_write(raw) != 0 }

    // MARK: Submitting frames

    /// Client: opens a stream with `headers` and sends `bodyPrefix`, `body`, then END_STREAM.
    /// Returns the new stream's id. Frames are queued; drain the output to send them.
    ///
    /// The session keeps the arrays (no copy) until their bytes are written; `bodyPrefix`
    /// lets a caller put a small header (gRPC's envelope) before `body` without copying it.
    public func submitRequest(headers: [HTTP2Header], bodyPrefix: [UInt8] = [], body: [UInt8]) throws(HTTP2Error) -> Int32 {
        var provider = Self.dataProvider
        let streamID = try withNameValues(headers) { nva, count throws(HTTP2Error) in
            try nghttp2Check(nghttp2_submit_request(raw, nil, nva, count, &provider, nil))
        }
        outgoing[streamID] = OutgoingBody(prefix: bodyPrefix, bytes: body, trailers: nil)
        return streamID
    }

    /// Server: sends response `headers`, then `bodyPrefix` and `body`, then `trailers` (which
    /// end the stream). The arrays are kept, not copied, until their bytes are written.
    public func submitResponse(
        streamID: Int32, headers: [HTTP2Header], bodyPrefix: [UInt8] = [], body: [UInt8], trailers: [HTTP2Header]
    ) throws(HTTP2Error) {
        outgoing[streamID] = OutgoingBody(prefix: bodyPrefix, bytes: body, trailers: trailers)
        var provider = Self.dataProvider
        do {
            _ = try withNameValues(headers) { nva, count throws(HTTP2Error) in
                try nghttp2Check(nghttp2_submit_response(raw, streamID, nva, count, &provider))
            }
        } catch {
            outgoing[streamID] = nil
            throw error
        }
    }

    /// Server: sends one HEADERS frame that ends the stream (a Trailers-Only gRPC response,
    /// or a plain HTTP error such as 415).
    public func submitHeadersOnlyResponse(streamID: Int32, headers: [HTTP2Header]) throws(HTTP2Error) {
        _ = try withNameValues(headers) { nva, count throws(HTTP2Error) in
            try nghttp2Check(nghttp2_submit_response(raw, streamID, nva, count, nil))
        }
    }

    /// Resets a stream with `errorCode` (e.g. ``HTTP2ErrorCode/cancel``).
    public func resetStream(_ streamID: Int32, errorCode: UInt32) {
        outgoing[streamID] = nil
        nghttp2_submit_rst_stream(raw, UInt8(NGHTTP2_FLAG_NONE.rawValue), streamID, errorCode)
    }

    /// Sends GOAWAY announcing that no stream after the last one processed will be served.
    /// Streams already open continue to completion.
    public func submitGoAway(errorCode: UInt32 = HTTP2ErrorCode.noError) {
        let last = nghttp2_session_get_last_proc_stream_id(raw)
        nghttp2_submit_goaway(raw, UInt8(NGHTTP2_FLAG_NONE.rawValue), last, errorCode, nil, 0)
    }

    /// Sends a PING; the peer's ACK is handled by nghttp2.
    public func submitPing() {
        nghttp2_submit_ping(raw, UInt8(NGHTTP2_FLAG_NONE.rawValue), nil)
    }

    /// Client: whether a new stream may be opened now (no GOAWAY received, ids left).
    public var canOpenStream: Bool {
        nghttp2_session_check_request_allowed(raw) != 0
    }

    // MARK: Internals

    private static func session(_ userData: UnsafeMutableRawPointer?) -> HTTP2Session {
        Unmanaged<HTTP2Session>.fromOpaque(userData!).takeUnretainedValue()
    }

    private static var dataProvider: nghttp2_data_provider {
        nghttp2_data_provider(
            source: nghttp2_data_source(ptr: nil),
            read_callback: { _, streamID, buffer, length, flags, _, userData in
                HTTP2Session.session(userData).claimBody(streamID: streamID, length: length, flags: flags!)
            })
    }

    /// Claims the next piece of a stream's body for a DATA frame nghttp2 is building; the
    /// bytes themselves are written by ``sendData(frame:header:length:)`` (NO_COPY).
    private func claimBody(streamID: Int32, length: Int, flags: UnsafeMutablePointer<UInt32>) -> Int {
        guard let body = outgoing[streamID] else {
            flags.pointee |= NGHTTP2_DATA_FLAG_EOF.rawValue
            return 0
        }
        let count = min(length, body.count - body.claimed)
        body.claimed += count
        if count > 0 { flags.pointee |= NGHTTP2_DATA_FLAG_NO_COPY.rawValue }
        if body.claimed == body.count {
            flags.pointee |= NGHTTP2_DATA_FLAG_EOF.rawValue
            if count == 0 { outgoing[streamID] = nil }  // nothing left to write from it
            if let trailers = body.trailers {
                flags.pointee |= NGHTTP2_DATA_FLAG_NO_END_STREAM.rawValue
                let rv: Int32 = withNameValues(trailers) { nva, count in
                    nghttp2_submit_trailer(raw, streamID, nva, count)
                }
                if rv != 0 { return Int(NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE.rawValue) }
            }
        }
        return count
    }

    /// Writes one whole DATA frame whose payload ``claimBody(streamID:length:flags:)`` claimed:
    /// the 9-byte header, padding fields if any, and the payload from the body's own arrays.
    private func sendData(frame: UnsafeMutablePointer<nghttp2_frame>, header: UnsafePointer<UInt8>, length: Int) -> Int32 {
        let streamID = frame.pointee.hd.stream_id
        guard let sink, let body = outgoing[streamID], body.count - body.sent >= length else {
            return NGHTTP2_ERR_CALLBACK_FAILURE.rawValue
        }
        sink(UnsafeRawBufferPointer(start: header, count: 9))
        let padding = Int(frame.pointee.data.padlen)
        if padding > 0 {
            withUnsafeBytes(of: UInt8(truncatingIfNeeded: padding - 1)) { sink($0) }
        }
        body.write(length, to: sink)
        if padding > 1 {
            let zeros = [UInt8](repeating: 0, count: padding - 1)
            zeros.withUnsafeBytes { sink($0) }
        }
        if body.sent == body.count { outgoing[streamID] = nil }
        return 0
    }

    private static func install(_ callbacks: OpaquePointer?) {
        nghttp2_session_callbacks_set_send_callback(callbacks) { _, data, length, _, userData in
            let session = HTTP2Session.session(userData)
            guard let sink = session.sink else { return Int(NGHTTP2_ERR_WOULDBLOCK.rawValue) }
            sink(UnsafeRawBufferPointer(start: data, count: length))
            return length
        }
        nghttp2_session_callbacks_set_send_data_callback(callbacks) { _, frame, header, length, _, userData in
            HTTP2Session.session(userData).sendData(frame: frame!, header: header!, length: length)
        }
        nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks) { _, frame, userData in
            let session = HTTP2Session.session(userData)
            session.pendingHeaders = []
            session.pendingHeaders.reserveCapacity(12)
            session.pendingHeadersStream = frame!.pointee.hd.stream_id
            return 0
        }
        nghttp2_session_callbacks_set_on_header_callback(callbacks) { _, frame, name, nameLength, value, valueLength, _, userData in
            let session = HTTP2Session.session(userData)
            let header = HTTP2Header(
                String(decoding: UnsafeBufferPointer(start: name, count: nameLength), as: UTF8.self),
                String(decoding: UnsafeBufferPointer(start: value, count: valueLength), as: UTF8.self))
            session.pendingHeaders.append(header)
            return 0
        }
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks) { _, _, streamID, data, length, userData in
            let session = HTTP2Session.session(userData)
            session.delegate?.session(session, didReceiveData: UnsafeRawBufferPointer(start: data, count: length), streamID: streamID)
            return 0
        }
        nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks) { _, frame, userData in
            let session = HTTP2Session.session(userData)
            let header = frame!.pointee.hd
            let endStream = header.flags & UInt8(NGHTTP2_FLAG_END_STREAM.rawValue) != 0
            switch Int(header.type) {
            case Int(NGHTTP2_HEADERS.rawValue):
                var headers: [HTTP2Header] = []
                if session.pendingHeadersStream == header.stream_id { swap(&headers, &session.pendingHeaders) }
                session.delegate?.session(session, didReceiveHeaders: headers, streamID: header.stream_id, endStream: endStream)
            case Int(NGHTTP2_DATA.rawValue):
                if endStream {
                    session.delegate?.session(session, didReceiveEndOfStream: header.stream_id)
                }
            case Int(NGHTTP2_GOAWAY.rawValue):
                let goAway = frame!.pointee.goaway
                session.delegate?.session(session, didReceiveGoAway: goAway.last_stream_id, errorCode: goAway.error_code)
            default:
                break
            }
            return 0
        }
        nghttp2_session_callbacks_set_on_stream_close_callback(callbacks) { _, streamID, errorCode, userData in
            let session = HTTP2Session.session(userData)
            session.outgoing[streamID] = nil
            if session.pendingHeadersStream == streamID { session.pendingHeaders = [] }
            session.delegate?.session(session, streamDidClose: streamID, errorCode: errorCode)
            return 0
        }
        nghttp2_session_callbacks_set_data_source_read_length_callback(callbacks) { _, _, _, connectionWindow, streamWindow, maxFrameSize, _ in
            // Fill frames up to the peer's maximum instead of nghttp2's 16 KiB default.
            min(Int(connectionWindow), Int(streamWindow), Int(maxFrameSize))
        }
    }
}

/// Calls `body` with an nghttp2 name/value array for `headers`. The array and the strings it
/// points to are valid only during the call; nghttp2's submit functions copy them.
func withNameValues<Result, Failure: Error>(
    _ headers: [HTTP2Header],
    _ body: (UnsafePointer<nghttp2_nv>, Int) throws(Failure) -> Result
) throws(Failure) -> Result {
    var storage: [UInt8] = []
    var offsets: [(name: Int, nameLength: Int, value: Int, valueLength: Int)] = []
    offsets.reserveCapacity(headers.count)
    for header in headers {
        let nameStart = storage.count
        storage.append(contentsOf: header.name.utf8)
        let valueStart = storage.count
        storage.append(contentsOf: header.value.utf8)
        offsets.append((nameStart, valueStart - nameStart, valueStart, storage.count - valueStart))
    }
    storage.append(0)  // never empty, so the base address exists
    return try storage.withUnsafeMutableBufferPointer { (buffer) throws(Failure) -> Result in
        let base = buffer.baseAddress!
        var nva = offsets.map { entry in
            nghttp2_nv(
                name: base + entry.name, value: base + entry.value,
                namelen: entry.nameLength, valuelen: entry.valueLength,
                flags: UInt8(NGHTTP2_NV_FLAG_NONE.rawValue))
        }
        let count = nva.count
        if nva.isEmpty {
            nva.append(nghttp2_nv(name: base, value: base, namelen: 0, valuelen: 0, flags: 0))
        }
        return try nva.withUnsafeBufferPointer { (pointer) throws(Failure) -> Result in
            try body(pointer.baseAddress!, count)
        }
    }
}
