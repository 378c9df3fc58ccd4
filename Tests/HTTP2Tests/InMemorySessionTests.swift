import HTTP2
import Testing

/// Records everything a session reports, for assertions.
final class RecordingDelegate: HTTP2SessionDelegate {
    var headers: [(streamID: Int32, headers: [HTTP2Header], endStream: Bool)] = []
    var data: [Int32: [UInt8]] = [:]
    var ended: [Int32] = []
    var closed: [(streamID: Int32, errorCode: UInt32)] = []
    var goAways: [(lastStreamID: Int32, errorCode: UInt32)] = []
    /// Called when request headers arrive, so a test can answer from inside the callback.
    var onHeaders: ((HTTP2Session, Int32, [HTTP2Header], Bool) -> Void)?
    var onEnd: ((HTTP2Session, Int32) -> Void)?

    func session(_ session: HTTP2Session, didReceiveHeaders headers: [HTTP2Header], streamID: Int32, endStream: Bool) {
        self.headers.append((streamID, headers, endStream))
        onHeaders?(session, streamID, headers, endStream)
    }
    func session(_ session: HTTP2Session, didReceiveData data: UnsafeRawBufferPointer, streamID: Int32) {
        self.data[streamID, default: []].append(contentsOf: data)
    }
    func session(_ session: HTTP2Session, didReceiveEndOfStream streamID: Int32) {
        ended.append(streamID)
        onEnd?(session, streamID)
    }
    func session(_ session: HTTP2Session, streamDidClose streamID: Int32, errorCode: UInt32) {
        closed.append((streamID, errorCode))
    }
    func session(_ session: HTTP2Session, didReceiveGoAway lastStreamID: Int32, errorCode: UInt32) {
        goAways.append((lastStreamID, errorCode))
    }
}

/// A client session and a server session joined by memory: bytes one writes, the other reads.
struct Pair {
    let client: HTTP2Session
    let server: HTTP2Session
    let clientEvents = RecordingDelegate()
    let serverEvents = RecordingDelegate()

    init(clientSettings: HTTP2Session.Settings = .init(), serverSettings: HTTP2Session.Settings = .init()) throws {
        client = try HTTP2Session(role: .client, settings: clientSettings)
        server = try HTTP2Session(role: .server, settings: serverSettings)
        client.delegate = clientEvents
        server.delegate = serverEvents
    }

    /// Moves bytes both ways until neither side has anything to send. `chunk` bounds each
    /// delivery, to drip-feed the parsers.
    func pump(chunk: Int = .max) throws {
        var rounds = 0
        while client.wantsWrite || server.wantsWrite {
            rounds += 1
            precondition(rounds < 10_000, "sessions never went quiet")
            try deliver(try client.pendingOutput(), to: server, chunk: chunk)
            try deliver(try server.pendingOutput(), to: client, chunk: chunk)
        }
    }

    private func deliver(_ bytes: [UInt8], to session: HTTP2Session, chunk: Int) throws {
        var start = 0
        while start < bytes.count {
            let end = min(bytes.count, start + chunk)
            try bytes[start..<end].withUnsafeBytes { try session.receive($0) }
            start = end
        }
    }
}

let requestHeaders = [
    HTTP2Header(":method", "POST"), HTTP2Header(":scheme", "http"),
    HTTP2Header(":path", "/pkg.Service/Method"), HTTP2Header(":authority", "localhost"),
    HTTP2Header("content-type", "application/grpc"), HTTP2Header("te", "trailers"),
]

@Suite struct InMemorySessionTests {
    @Test(arguments: [Int.max, 1, 7])
    func requestResponseWithTrailers(chunk: Int) throws {
        let pair = try Pair()
        pair.serverEvents.onEnd = { session, streamID in
            try! session.submitResponse(
                streamID: streamID,
                headers: [HTTP2Header(":status", "200"), HTTP2Header("content-type", "application/grpc")],
                body: Array("pong".utf8),
                trailers: [HTTP2Header("grpc-status", "0")])
        }
        let body = Array("ping".utf8)
        let streamID = try pair.client.submitRequest(headers: requestHeaders, body: body)
        try pair.pump(chunk: chunk)

        #expect(streamID == 1)
        let request = try #require(pair.serverEvents.headers.first)
        #expect(request.headers[field: ":path"] == "/pkg.Service/Method")
        #expect(request.headers[field: "te"] == "trailers")
        #expect(request.endStream == false)
        #expect(pair.serverEvents.data[1] == body)
        #expect(pair.serverEvents.ended == [1])

        #expect(pair.clientEvents.headers.count == 2)
        #expect(pair.clientEvents.headers[0].headers[field: ":status"] == "200")
        #expect(pair.clientEvents.headers[0].endStream == false)
        #expect(pair.clientEvents.headers[1].headers[field: "grpc-status"] == "0")
        #expect(pair.clientEvents.headers[1].endStream == true)
        #expect(pair.clientEvents.data[1] == Array("pong".utf8))
        #expect(pair.clientEvents.closed.map(\.errorCode) == [0])
    }

    @Test func headersOnlyResponseEndsTheStream() throws {
        let pair = try Pair()
        pair.serverEvents.onHeaders = { session, streamID, _, _ in
            try! session.submitHeadersOnlyResponse(
                streamID: streamID, headers: [HTTP2Header(":status", "415")])
        }
        _ = try pair.client.submitRequest(headers: requestHeaders, body: [1, 2, 3])
        try pair.pump()
        let response = try #require(pair.clientEvents.headers.first)
        #expect(response.headers[field: ":status"] == "415")
        #expect(response.endStream)
    }

    @Test func largeBodiesFlowThroughWindowUpdates() throws {
        // 9 MiB: more than the 4 MiB stream window, so WINDOW_UPDATE frames must flow.
        let body = (0..<(9 * 1024 * 1024)).map { UInt8(truncatingIfNeeded: $0 % 251) }
        let pair = try Pair()
        pair.serverEvents.onEnd = { session, streamID in
            try! session.submitResponse(
                streamID: streamID, headers: [HTTP2Header(":status", "200")],
                body: body, trailers: [HTTP2Header("grpc-status", "0")])
        }
        _ = try pair.client.submitRequest(headers: requestHeaders, body: body)
        try pair.pump()
        #expect(pair.serverEvents.data[1]?.count == body.count)
        #expect(pair.serverEvents.data[1] == body)
        #expect(pair.clientEvents.data[1] == body)
    }

    @Test func manyConcurrentStreams() throws {
        let pair = try Pair()
        pair.serverEvents.onEnd = { session, streamID in
            try! session.submitResponse(
                streamID: streamID, headers: [HTTP2Header(":status", "200")],
                body: [UInt8(streamID % 256)], trailers: [HTTP2Header("grpc-status", "0")])
        }
        var ids: [Int32] = []
        for _ in 0..<200 { ids.append(try pair.client.submitRequest(headers: requestHeaders, body: [0])) }
        try pair.pump()
        #expect(pair.serverEvents.ended.count == 200)
        for id in ids { #expect(pair.clientEvents.data[id] == [UInt8(id % 256)]) }
    }

    @Test func resetReachesThePeer() throws {
        let pair = try Pair()
        let streamID = try pair.client.submitRequest(headers: requestHeaders, body: [9])
        try pair.pump()
        pair.client.resetStream(streamID, errorCode: HTTP2ErrorCode.cancel)
        try pair.pump()
        #expect(pair.serverEvents.closed.contains { $0.streamID == streamID && $0.errorCode == HTTP2ErrorCode.cancel })
    }

    @Test func goAwayIsReportedAndBlocksNewStreams() throws {
        let pair = try Pair()
        _ = try pair.client.submitRequest(headers: requestHeaders, body: [])
        try pair.pump()
        pair.server.submitGoAway()
        try pair.pump()
        #expect(pair.clientEvents.goAways.first?.lastStreamID == 1)
        #expect(pair.clientEvents.goAways.first?.errorCode == HTTP2ErrorCode.noError)
        #expect(pair.client.canOpenStream == false)
    }

    @Test func garbageIsAConnectionError() throws {
        let server = try HTTP2Session(role: .server)
        let garbage = Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
        #expect(throws: HTTP2Error.self) {
            try garbage.withUnsafeBytes { try server.receive($0) }
        }
    }
}
