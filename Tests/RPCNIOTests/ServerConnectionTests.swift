import HTTP2
import RPCCore
@testable import RPCNIO
import Testing

/// Drives a ``ServerConnection`` with a client ``HTTP2Session`` in memory: no sockets, no
/// tasks. Calls are "run" by recording them; the test completes them by hand.
final class InMemoryHost: ServerConnectionHost {
    var started: [(streamID: Int32, path: String, request: [UInt8], context: RPCContext)] = []
    var cancelled: [Int32] = []
    func startCall(streamID: Int32, method: ServerMethod, request: [UInt8], context: RPCContext) {
        started.append((streamID, method.path, request, context))
    }
    func cancelCall(streamID: Int32) { cancelled.append(streamID) }
}

final class ClientRecorder: HTTP2SessionDelegate {
    var headers: [Int32: [[HTTP2Header]]] = [:]
    var data: [Int32: [UInt8]] = [:]
    var closed: [Int32: UInt32] = [:]
    func session(_ session: HTTP2Session, didReceiveHeaders headers: [HTTP2Header], streamID: Int32, endStream: Bool) {
        self.headers[streamID, default: []].append(headers)
    }
    func session(_ session: HTTP2Session, didReceiveData data: UnsafeRawBufferPointer, streamID: Int32) {
        self.data[streamID, default: []].append(contentsOf: data)
    }
    func session(_ session: HTTP2Session, didReceiveEndOfStream streamID: Int32) {}
    func session(_ session: HTTP2Session, streamDidClose streamID: Int32, errorCode: UInt32) { closed[streamID] = errorCode }
    func session(_ session: HTTP2Session, didReceiveGoAway lastStreamID: Int32, errorCode: UInt32) {}
}

struct Harness {
    let server: ServerConnection
    let host = InMemoryHost()
    let client: HTTP2Session
    let recorder = ClientRecorder()

    init(maxMessageSize: Int = 1024) throws {
        var configuration = ServerConnection.Configuration()
        configuration.maxMessageSize = maxMessageSize
        let registry = ServiceRegistry([ServerMethod(path: "/pkg.S/M") { request, _ in request }])
        server = try ServerConnection(registry: registry, configuration: configuration)
        server.host = host
        client = try HTTP2Session(role: .client)
        client.delegate = recorder
    }

    func pump(chunk: Int = .max) throws {
        while client.wantsWrite || server.session.wantsWrite {
            let toServer = try client.pendingOutput()
            var start = 0
            while start < toServer.count {
                let end = min(toServer.count, start + chunk)
                try toServer[start..<end].withUnsafeBytes { try server.receive($0) }
                start = end
            }
            var toClient: [UInt8] = []
            try server.drainOutput { toClient.append(contentsOf: $0) }
            try toClient.withUnsafeBytes { try client.receive($0) }
        }
    }

    func request(path: String = "/pkg.S/M", method: String = "POST", contentType: String = "application/grpc",
                 extra: [HTTP2Header] = [], body: [UInt8]) throws -> Int32 {
        try client.submitRequest(
            headers: [
                HTTP2Header(":method", method), HTTP2Header(":scheme", "http"), HTTP2Header(":path", path),
                HTTP2Header(":authority", "x"), HTTP2Header("content-type", contentType), HTTP2Header("te", "trailers"),
            ] + extra,
            body: body)
    }
}

@Suite struct ServerConnectionTests {
    @Test(arguments: [Int.max, 1, 3])
    func dripFedRequestStartsOneCallThenRespondsWithTrailers(chunk: Int) throws {
        let harness = try Harness()
        let stream = try harness.request(
            extra: [HTTP2Header("x-user", "ada"), HTTP2Header("grpc-timeout", "5S")],
            body: GRPCFraming.frame([1, 2, 3]))
        try harness.pump(chunk: chunk)
        let call = try #require(harness.host.started.first)
        #expect(harness.host.started.count == 1)
        #expect(call.path == "/pkg.S/M")
        #expect(call.request == [1, 2, 3])
        #expect(call.context.metadata["x-user"] == "ada")
        #expect(call.context.deadline != nil)

        harness.server.complete(streamID: stream, result: .success([9, 9]))
        try harness.pump()
        let blocks = try #require(harness.recorder.headers[stream])
        #expect(blocks.count == 2)
        #expect(blocks[0][field: ":status"] == "200")
        #expect(blocks[0][field: "content-type"] == "application/grpc")
        #expect(blocks[1][field: "grpc-status"] == "0")
        #expect(harness.recorder.data[stream] == GRPCFraming.frame([9, 9]))
    }

    @Test(arguments: [
        ("text/plain", "POST", "415"),
        ("application/grpc-web", "POST", "415"),
        ("application/grpc", "GET", "405"),
    ])
    func nonGRPCRequestsGetPlainHTTPStatuses(contentType: String, method: String, status: String) throws {
        let harness = try Harness()
        let stream = try harness.request(method: method, contentType: contentType, body: [])
        try harness.pump()
        #expect(harness.recorder.headers[stream]?.first?[field: ":status"] == status)
        #expect(harness.host.started.isEmpty)
    }

    @Test(arguments: ["application/grpc", "application/grpc+proto", "application/grpc;charset=utf-8"])
    func grpcContentTypeVariantsAreAccepted(contentType: String) throws {
        let harness = try Harness()
        _ = try harness.request(contentType: contentType, body: GRPCFraming.frame([]))
        try harness.pump()
        #expect(harness.host.started.count == 1)
    }

    @Test func unknownMethodIsATrailersOnlyResponse() throws {
        let harness = try Harness()
        let stream = try harness.request(path: "/pkg.S/Other", body: GRPCFraming.frame([]))
        try harness.pump()
        let blocks = try #require(harness.recorder.headers[stream])
        #expect(blocks.count == 1)
        #expect(blocks[0][field: ":status"] == "200")
        #expect(blocks[0][field: "grpc-status"] == "12")
        #expect(harness.recorder.data[stream] == nil)
    }

    @Test func oversizedMessageIsRefusedFromItsPrefix() throws {
        let harness = try Harness(maxMessageSize: 10)
        // Only the 5-byte prefix announcing 11 bytes is sent; the body never needs to arrive.
        var prefixOnly: [UInt8] = []
        GRPCFraming.appendHeader(length: 11, to: &prefixOnly)
        let stream = try harness.request(body: prefixOnly)
        try harness.pump()
        #expect(harness.recorder.headers[stream]?.first?[field: "grpc-status"] == "8")
        #expect(harness.host.started.isEmpty)
    }

    @Test(arguments: [
        ([UInt8](), "Request message is missing"),
        ([0, 0, 0, 0, 5, 1], "Request message is truncated"),
        (GRPCFraming.frame([1]) + GRPCFraming.frame([2]), "A unary call takes exactly one request message"),
        ([1, 0, 0, 0, 1, 9], "Compressed messages are not supported"),
        ([2, 0, 0, 0, 0], "Invalid message flag byte"),
    ])
    func malformedBodiesAreRefused(body: [UInt8], message: String) throws {
        let harness = try Harness()
        let stream = try harness.request(body: body)
        try harness.pump()
        let status = try #require(harness.recorder.headers[stream]?.first)
        #expect(status[field: "grpc-message"] == GRPCMessageEncoding.encode(message))
        #expect(harness.host.started.isEmpty)
    }

    @Test func malformedTimeoutIsRefused() throws {
        let harness = try Harness()
        let stream = try harness.request(extra: [HTTP2Header("grpc-timeout", "soon")], body: GRPCFraming.frame([]))
        try harness.pump()
        #expect(harness.recorder.headers[stream]?.first?[field: "grpc-status"] == "13")
    }

    @Test func clientResetCancelsTheRunningCall() throws {
        let harness = try Harness()
        let stream = try harness.request(body: GRPCFraming.frame([1]))
        try harness.pump()
        #expect(harness.host.started.count == 1)
        harness.client.resetStream(stream, errorCode: HTTP2ErrorCode.cancel)
        try harness.pump()
        #expect(harness.host.cancelled == [stream])
        // A late completion for the dead stream is ignored.
        harness.server.complete(streamID: stream, result: .success([1]))
        try harness.pump()
    }

    @Test func gracefulShutdownWaitsForRunningCalls() throws {
        let harness = try Harness()
        let stream = try harness.request(body: GRPCFraming.frame([1]))
        try harness.pump()
        harness.server.beginShutdown()
        try harness.pump()
        #expect(harness.server.isFinished == false)
        harness.server.complete(streamID: stream, result: .success([2]))
        try harness.pump()
        #expect(harness.server.isFinished)
        #expect(harness.recorder.data[stream] == GRPCFraming.frame([2]))
    }

    /// Found by Fuzz/fuzz-server-h2: a message or metadata value with a space at either end
    /// made the trailers invalid HTTP/2 (RFC 9113 §8.2.1), so the client's nghttp2 reset the
    /// stream with PROTOCOL_ERROR and the status never arrived.
    @Test(arguments: [" leading", "trailing ", " both ", " "])
    func statusWithSpacesAtTheEndsReachesTheClient(message: String) throws {
        let harness = try Harness()
        let stream = try harness.request(body: GRPCFraming.frame([]))
        try harness.pump()
        let error = RPCError(code: .invalidArgument, message: message, metadata: Metadata([("x-note", message)]))
        harness.server.complete(streamID: stream, result: .failure(error))
        try harness.pump()
        #expect(harness.recorder.closed[stream] == HTTP2ErrorCode.noError)
        let blocks = try #require(harness.recorder.headers[stream])
        #expect(blocks.last?[field: "grpc-status"] == "3")
        #expect(blocks.last.map { GRPCMessageEncoding.decode($0[field: "grpc-message"] ?? "") } == message)
        #expect(blocks.last?[field: "x-note"] == Substring(message).trimmingASCIISpaces())
    }

    @Test func errorStatusCarriesPercentEncodedMessage() throws {
        let harness = try Harness()
        let stream = try harness.request(body: GRPCFraming.frame([]))
        try harness.pump()
        harness.server.complete(streamID: stream, result: .failure(RPCError(code: .notFound, message: "nö 100%")))
        try harness.pump()
        let blocks = try #require(harness.recorder.headers[stream])
        #expect(blocks.count == 1)  // Trailers-Only
        #expect(blocks[0][field: "grpc-status"] == "5")
        #expect(blocks[0][field: "grpc-message"] == "n%C3%B6 100%25")
    }
}
