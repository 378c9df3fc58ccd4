import FuzzSupport
import HTTP2
import RPCCore
import ServerHarness

#if canImport(Glibc)
import Glibc
#endif

/// FUZZ_DEBUG=1: print what happens to each request (for minimising a crash by hand).
let debug = getenv("FUZZ_DEBUG") != nil

func trace(_ items: Any...) {
    let line = items.map { "\($0)" }.joined(separator: " ") + "\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
}

/// Records what the client session receives.
final class ClientRecorder: HTTP2SessionDelegate {
    var headers: [Int32: [[HTTP2Header]]] = [:]
    var data: [Int32: [UInt8]] = [:]
    var closed: [Int32: UInt32] = [:]
    /// The lowest last-stream-id of any GOAWAY received: streams above it were never processed.
    var goAwayLastStreamID = Int32.max
    func session(_ session: HTTP2Session, didReceiveHeaders headers: [HTTP2Header], streamID: Int32, endStream: Bool) {
        self.headers[streamID, default: []].append(headers)
    }
    func session(_ session: HTTP2Session, didReceiveData data: UnsafeRawBufferPointer, streamID: Int32) {
        self.data[streamID, default: []].append(contentsOf: data)
    }
    func session(_ session: HTTP2Session, didReceiveEndOfStream streamID: Int32) {}
    func session(_ session: HTTP2Session, streamDidClose streamID: Int32, errorCode: UInt32) { closed[streamID] = errorCode }
    func session(_ session: HTTP2Session, didReceiveGoAway lastStreamID: Int32, errorCode: UInt32) {
        goAwayLastStreamID = min(goAwayLastStreamID, lastStreamID)
    }
}

/// What one request was, so the oracle knows what must happen to it.
struct SentRequest {
    var stream: Int32
    /// Exactly a valid gRPC request: the call must start with `message` and its response
    /// must reach the client.
    var clean: Bool
    var message: [UInt8]
    var resetByClient = false
}

/// Builds valid gRPC requests with a real nghttp2 client session, mutates their headers and
/// bodies under the input's control, and runs them against the server, completing calls with
/// fuzzer-chosen results. Checks: no crash, the host invariants, every stream the client
/// opened ends (the server answers or resets everything once calls complete), and a clean
/// request starts exactly its call with exactly its message, and gets the answer back.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzServerH2(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let limits = [16, 1024]
    let maxMessageSize = limits[input.int(below: limits.count)]
    let harness = ServerHarness(maxMessageSize: maxMessageSize)
    let recorder = ClientRecorder()
    guard let client = try? HTTP2Session(role: .client) else { fatalError("no client session") }
    client.delegate = recorder

    var sent: [SentRequest] = []
    let requestCount = 1 + input.int(below: 4)
    for _ in 0..<requestCount {
        if let request = makeRequest(&input, client: client, maxMessageSize: maxMessageSize) { sent.append(request) }
    }
    let chunk = 1 + input.int(below: 64) * 8
    let shutdownRound = input.int(below: 8)
    let resetRound = input.int(below: 8)
    let resetIndex = input.int(below: 4)

    var round = 0
    while round < 64 {
        let toServer = (try? client.pendingOutput()) ?? []
        harness.receive(toServer, chunk: chunk)
        if round == shutdownRound && shutdownRound < 4 { harness.beginShutdown() }
        if round == resetRound && resetIndex < sent.count && !sent[resetIndex].resetByClient {
            client.resetStream(sent[resetIndex].stream, errorCode: HTTP2ErrorCode.cancel)
            sent[resetIndex].resetByClient = true
        }
        // Complete some calls now, the rest later (all of them from round 32 or once the input is used up).
        for stream in harness.pendingStreams where round >= 32 || input.isEmpty || input.bool() {
            let request = harness.request(for: stream) ?? []
            let clean = sent.first { $0.stream == stream }?.clean ?? false
            let result = clean && !input.isEmpty
                ? chooseResult(&input, request: request, context: harness.context(for: stream), maxMessageSize: maxMessageSize)
                : .success(request)
            if debug { trace("complete \(stream) with \(result)") }
            harness.complete(streamID: stream, result: result)
        }
        let toClient = harness.drain()
        if !toClient.isEmpty {
            let ok = toClient.withUnsafeBytes { buffer in (try? client.receive(buffer)) != nil }
            fuzzCheck(ok || harness.failed, "our client rejected the server's bytes")
        }
        round += 1
        if !client.wantsWrite && !harness.connectionWantsWrite && harness.pendingStreams.isEmpty && toServer.isEmpty && toClient.isEmpty {
            break
        }
    }
    guard !harness.failed else { return 0 }
    if debug {
        for request in sent {
            trace("stream \(request.stream) clean \(request.clean) reset \(request.resetByClient) message \(request.message)",
                  "started \(String(describing: harness.request(for: request.stream)))",
                  "headers \(recorder.headers[request.stream] ?? []) data \(recorder.data[request.stream] ?? []) closed \(String(describing: recorder.closed[request.stream]))")
        }
    }
    fuzzCheck(harness.pendingStreams.isEmpty, "calls left running after 64 rounds")
    for request in sent {
        fuzzCheck(recorder.closed[request.stream] != nil, "stream \(request.stream) never ended (clean: \(request.clean))")
        // A graceful shutdown legitimately refuses streams the server had not yet seen.
        guard request.clean && !request.resetByClient && request.stream <= recorder.goAwayLastStreamID else { continue }
        let started = harness.request(for: request.stream)
        fuzzCheck(started == request.message, "clean request on stream \(request.stream) did not start with its message")
        let status = recorder.headers[request.stream]?.last?[field: "grpc-status"]
        fuzzCheck(status != nil, "clean request on stream \(request.stream) got no grpc-status")
    }
    return 0
}

/// One request, valid or mutated. Returns nil when the client session refuses to submit it.
func makeRequest(_ input: inout FuzzInput, client: HTTP2Session, maxMessageSize: Int) -> SentRequest? {
    var clean = true
    let method = input.int(below: 8) == 0 ? input.pick(["GET", "PUT", "post"]) : "POST"
    let path = input.int(below: 8) == 0 ? input.pick(["/pkg.S/Other", "", "/", "pkg.S/Echo"]) : ServerHarness.paths[input.int(below: ServerHarness.paths.count)]
    let contentType = input.int(below: 4) == 0
        ? input.pick(["application/grpc+proto", "application/grpc;charset=utf-8", "text/plain", "application/grpc-web", "application/grpcx"])
        : "application/grpc"
    if method != "POST" || !ServerHarness.paths.contains(path) || !contentType.hasPrefix("application/grpc") || contentType.hasPrefix("application/grpc-") || contentType == "application/grpcx" {
        clean = false
    }
    var headers = [
        HTTP2Header(":method", method), HTTP2Header(":scheme", "http"), HTTP2Header(":path", path),
        HTTP2Header(":authority", "localhost"), HTTP2Header("content-type", contentType), HTTP2Header("te", "trailers"),
    ]
    // Well-formed metadata and timeouts keep a request clean.
    for _ in 0..<input.int(below: 3) {
        switch input.int(below: 3) {
        case 0: headers.append(HTTP2Header("x-user", input.pick(["ada", "", "a b", "ü"], allowOther: false)))
        case 1: headers.append(HTTP2Header("x-trace-bin", input.pick(["AAEC", "AAE", "", "!!", "AA==,AQ"], allowOther: false)))
        default: headers.append(HTTP2Header("grpc-timeout", input.pick(["5S", "100m", "99999999H"], allowOther: false)))
        }
    }
    // Mutations: anything goes, and the request is no longer promised a call.
    for _ in 0..<input.int(below: 4) where input.int(below: 3) == 0 {
        clean = false
        switch input.int(below: 5) {
        case 0 where !headers.isEmpty:
            headers.remove(at: input.int(below: headers.count))
        case 1 where !headers.isEmpty:
            headers.append(headers[input.int(below: headers.count)])
        case 2 where !headers.isEmpty:
            let index = input.int(below: headers.count)
            headers[index] = HTTP2Header(headers[index].name, input.string(upTo: 32))
        case 3:
            let names = ["grpc-timeout", "grpc-encoding", "grpc-status", "content-length", "connection", "te", "X-Upper", ":status", ":path", "x-bin", "a-bin", ""]
            headers.append(HTTP2Header(input.pick(names), input.string(upTo: 32)))
        default:
            headers.insert(HTTP2Header(input.pick(["x-first", ":method", "content-type"]), input.string(upTo: 16)), at: 0)
        }
    }
    let message = input.bytes(upTo: maxMessageSize + 8)
    if message.count > maxMessageSize { clean = false }
    var body = GRPCFraming.frame(message)
    if input.int(below: 4) == 0 {
        clean = false
        switch input.int(below: 5) {
        case 0: body = []
        case 1: body[0] = input.byte()  // flag byte
        case 2: body = Array(body.prefix(input.int(below: body.count + 1)))  // truncated
        case 3: body += GRPCFraming.frame(input.bytes(upTo: 8))  // two messages
        default: body = input.bytes(upTo: 64)  // raw
        }
    }
    if debug { trace("request headers \(headers) body \(body)") }
    guard let stream = try? client.submitRequest(headers: headers, body: body) else { return nil }
    return SentRequest(stream: stream, clean: clean, message: message)
}
