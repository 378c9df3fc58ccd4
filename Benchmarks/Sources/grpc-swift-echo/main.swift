// grpc-swift-echo: the stock grpc-swift-2 server for the Echo benchmark.
//
// Serves `/imageedit.testing.v1.InteropService/Echo` over cleartext HTTP/2 (h2c) with the
// grpc-swift-nio-transport Posix transport. The handler echoes the request message's bytes
// unchanged: EchoRequest and EchoResponse have the same field layout, so the echoed bytes
// are a correct EchoResponse, and no protobuf code is involved. What is measured is the
// gRPC machinery (HTTP/2, framing, call handling), which is what our server replaces.
//
//   grpc-swift-echo --port N [--host 127.0.0.1] [--threads T] [--window BYTES]
//
// T is the event-loop thread count (default: NIO's System.coreCount, which counts the
// machine's cores even under taskset; rpc-bench.sh passes 1). BYTES is the HTTP/2 target
// window (default: the transport's stock 65535). Runs until killed.

import GRPCCore
import GRPCNIOTransportHTTP2Posix
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// Passes the message bytes through unchanged, one copy each way ([UInt8] <-> transport bytes),
/// which is what any real codec pays at least.
struct RawBytesSerializer: MessageSerializer {
    func serialize<Bytes: GRPCContiguousBytes>(_ message: [UInt8]) throws -> Bytes {
        Bytes(message)
    }
}

struct RawBytesDeserializer: MessageDeserializer {
    func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> [UInt8] {
        serializedMessageBytes.withUnsafeBytes { Array($0) }
    }
}

/// The Echo method of imageedit.testing.v1.InteropService, registered by hand (no protoc).
struct EchoService: RegistrableRPCService {
    static let echo = MethodDescriptor(
        fullyQualifiedService: "imageedit.testing.v1.InteropService", method: "Echo")

    func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
        router.registerHandler(
            forMethod: Self.echo,
            deserializer: RawBytesDeserializer(),
            serializer: RawBytesSerializer()
        ) { request, _ in
            // Unary: exactly one message in; anything else is a protocol error, as in the
            // code protoc-gen-grpc-swift generates.
            let single = try await ServerRequest(stream: request)
            return StreamingServerResponse(single: ServerResponse(message: single.message))
        }
    }
}

struct Options {
    var host = "127.0.0.1"
    var port = 50061
    var threads = System.coreCount
    var window: Int?

    init(_ arguments: [String]) {
        var rest = arguments.dropFirst()
        while let flag = rest.popFirst() {
            guard let value = rest.popFirst() else { Self.usage("missing value for \(flag)") }
            switch flag {
            case "--port", "-p":
                guard let number = Int(value) else { Self.usage("bad port \(value)") }
                port = number
            case "--host": host = value
            case "--threads":
                guard let number = Int(value) else { Self.usage("bad thread count \(value)") }
                threads = number
            case "--window":
                guard let number = Int(value), number > 0 else { Self.usage("bad window size \(value)") }
                window = number
            default: Self.usage("unknown option \(flag)")
            }
        }
    }

    static func usage(_ problem: String) -> Never {
        let text = "grpc-swift-echo: \(problem)\nusage: grpc-swift-echo --port N [--host H] [--threads T] [--window BYTES]\n"
        _ = text.withCString { write(2, $0, strlen($0)) }
        exit(2)
    }
}

let options = Options(CommandLine.arguments)
let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, options.threads))
let transport = HTTP2ServerTransport.Posix(
    address: .ipv4(host: options.host, port: options.port),
    transportSecurity: .plaintext,
    config: .defaults { config in
        // Same limit as the grpcio peer, so 1 MiB+ messages are accepted by both.
        config.rpc.maxRequestPayloadSize = 64 * 1024 * 1024
        if let window = options.window { config.http2.targetWindowSize = window }
    },
    eventLoopGroup: group
)
let server = GRPCServer(transport: transport, services: [EchoService()])
do {
    try await withThrowingDiscardingTaskGroup { tasks in
        tasks.addTask { try await server.serve() }
        if let address = try await transport.listeningAddress.ipv4 {
            // write(2) rather than print: stdout is a pipe under rpc-bench.sh and the process
            // ends by SIGTERM, so a buffered line would never appear in the server log.
            let line = "grpc-swift-echo listening on \(address.host):\(address.port), \(options.threads) event-loop thread(s)\n"
            _ = line.withCString { write(1, $0, strlen($0)) }
        }
    }
} catch {
    // One line and a non-zero exit (e.g. the port is taken), not a crash report.
    let line = "grpc-swift-echo: cannot serve on \(options.host):\(options.port): \(error)\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
    exit(1)
}
