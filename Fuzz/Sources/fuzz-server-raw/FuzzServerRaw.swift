import FuzzSupport
import HTTP2
import RPCCore
import ServerHarness

#if canImport(Glibc)
import Glibc
#endif

/// The HTTP/2 client connection preface and an empty SETTINGS frame.
let clientPreface: [UInt8] = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8) + [0, 0, 0, 4, 0, 0, 0, 0, 0]

/// Feeds arbitrary bytes to the server's inbound path, exactly as a socket would deliver
/// them: `[flags][chunk][bytes...]`. Flag bit 0 puts a valid client preface in front (so
/// the bytes are parsed as frames rather than refused as a bad preface); bit 1 starts a
/// graceful shutdown half-way. Between pieces the harness completes running calls (echo,
/// oversized, or an error) and drains the output, as the channel handler does. Checks: no
/// crash or sanitizer report, the host invariants in ServerHarness, and that every call the
/// host is running is still tracked by the connection.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzServerRaw(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let flags = input.byte()
    let chunk = 1 + Int(input.byte()) * 4
    var bytes = input.rest()
    if flags & 1 == 1 { bytes = clientPreface + bytes }

    let maxMessageSize = 64
    let harness = ServerHarness(maxMessageSize: maxMessageSize)
    var choices = FuzzInput(bytes.reversed())  // completion choices: reuse the bytes from the back
    var start = 0
    var round = 0
    while start < bytes.count, !harness.failed {
        let end = min(bytes.count, start + chunk)
        harness.receive(Array(bytes[start..<end]))
        start = end
        round += 1
        if flags & 2 == 2, round == 2 { harness.beginShutdown() }
        for stream in harness.pendingStreams where choices.bool() {
            let result = chooseResult(&choices, request: harness.request(for: stream) ?? [], context: harness.context(for: stream),
                                      maxMessageSize: maxMessageSize)
            harness.complete(streamID: stream, result: result)
        }
        // A stray completion for a stream that is not running must be ignored.
        harness.complete(streamID: Int32(choices.byte()), result: .success([1]))
        _ = harness.drain()
    }
    fuzzCheck(harness.activeCallCount >= harness.pendingStreams.count,
              "calls running that the connection forgot: \(harness.pendingStreams)")
    for stream in harness.pendingStreams {
        harness.complete(streamID: stream, result: .success(harness.request(for: stream) ?? []))
    }
    _ = harness.drain()
    return 0
}

/// `FUZZ_WRITE_SEEDS=<dir>`: writes seed inputs made from a real nghttp2 client's bytes
/// (valid requests, flags 0) into `dir`, then exits. Used to build Fuzz/corpus/fuzz-server-raw.
@_cdecl("LLVMFuzzerInitialize")
public func fuzzServerRawInitialize(_ argc: UnsafeMutablePointer<CInt>?, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?) -> CInt {
    guard let directory = getenv("FUZZ_WRITE_SEEDS").map({ String(cString: $0) }) else { return 0 }
    for (name, bytes) in seedCaptures() {
        let path = directory + "/" + name
        guard let file = fopen(path, "wb") else { fatalError("cannot write \(path)") }
        let framed: [UInt8] = [0, 63] + bytes
        _ = framed.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
        fclose(file)
    }
    exit(0)
}

/// Client output for a few typical conversations.
func seedCaptures() -> [(String, [UInt8])] {
    func capture(_ requests: [([HTTP2Header], [UInt8])], reset: Bool = false) -> [UInt8] {
        guard let client = try? HTTP2Session(role: .client) else { fatalError("no client session") }
        var streams: [Int32] = []
        for (headers, body) in requests {
            if let stream = try? client.submitRequest(headers: headers, body: body) { streams.append(stream) }
        }
        var out = (try? client.pendingOutput()) ?? []
        if reset, let stream = streams.first {
            client.resetStream(stream, errorCode: HTTP2ErrorCode.cancel)
            client.submitPing()
            out += (try? client.pendingOutput()) ?? []
        }
        return out
    }
    func headers(_ path: String, method: String = "POST", contentType: String = "application/grpc", extra: [HTTP2Header] = []) -> [HTTP2Header] {
        [HTTP2Header(":method", method), HTTP2Header(":scheme", "http"), HTTP2Header(":path", path),
         HTTP2Header(":authority", "localhost:50051"), HTTP2Header("content-type", contentType),
         HTTP2Header("te", "trailers"), HTTP2Header("user-agent", "imageedit-rpc/1.0")] + extra
    }
    let echo = ServerHarness.paths[0]
    return [
        ("unary-echo", capture([(headers(echo), GRPCFraming.frame([0x0a, 0x02, 0x68, 0x69]))])),
        ("unary-empty", capture([(headers(echo), GRPCFraming.frame([]))])),
        ("two-streams", capture([(headers(echo), GRPCFraming.frame([1, 2, 3])),
                                 (headers(ServerHarness.paths[1], extra: [HTTP2Header("grpc-timeout", "5S")]), GRPCFraming.frame([9]))])),
        ("metadata", capture([(headers(echo, extra: [HTTP2Header("x-user", "ada"), HTTP2Header("x-trace-bin", "AAEC")]), GRPCFraming.frame([7]))])),
        ("unknown-method", capture([(headers("/pkg.S/Nope"), GRPCFraming.frame([]))])),
        ("not-grpc", capture([(headers(echo, method: "GET", contentType: "text/plain"), [])])),
        ("compressed", capture([(headers(echo, extra: [HTTP2Header("grpc-encoding", "gzip")]), [1, 0, 0, 0, 1, 9])])),
        ("oversized-prefix", capture([(headers(echo), [0, 0, 0, 1, 0])])),
        ("reset-and-ping", capture([(headers(echo), GRPCFraming.frame([5, 5]))], reset: true)),
    ]
}
