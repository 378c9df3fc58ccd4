import FuzzSupport
public import HTTP2
public import RPCCore
@testable import RPCNIO

/// A ``ServerConnectionHost`` that records calls instead of running them, and checks the
/// connection's promises to its host: a stream starts at most once, only client-initiated
/// (odd) streams start, a request is never over the limit, and only a started call that has
/// not been completed is cancelled.
final class RecordingHost: ServerConnectionHost {
    let maxMessageSize: Int
    /// Calls started and not yet completed or cancelled, in start order.
    var pending: [(streamID: Int32, path: String, request: [UInt8], context: RPCContext)] = []
    /// Every stream ever started.
    var everStarted: Set<Int32> = []
    /// Every request, by stream.
    var requests: [Int32: [UInt8]] = [:]
    var cancelled: [Int32] = []

    init(maxMessageSize: Int) { self.maxMessageSize = maxMessageSize }

    func startCall(streamID: Int32, method: ServerMethod, request: [UInt8], context: RPCContext) {
        fuzzCheck(streamID > 0 && streamID % 2 == 1, "call started on a server-side stream id \(streamID)")
        fuzzCheck(everStarted.insert(streamID).inserted, "stream \(streamID) started twice")
        fuzzCheck(request.count <= maxMessageSize, "request of \(request.count) bytes passed the \(maxMessageSize)-byte limit")
        requests[streamID] = request
        pending.append((streamID, method.path, request, context))
    }

    func cancelCall(streamID: Int32) {
        let index = pending.firstIndex { $0.streamID == streamID }
        fuzzCheck(index != nil, "cancel for stream \(streamID), which is not running")
        if let index { pending.remove(at: index) }
        cancelled.append(streamID)
    }
}

/// One sans-I/O ``ServerConnection`` with a recording host, driven by a fuzz target.
public final class ServerHarness {
    /// Paths the registry serves.
    public static let paths = ["/pkg.S/Echo", "/imageedit.auth.v1.AuthService/Login", "/grpc.health.v1.Health/Check"]

    let connection: ServerConnection
    let host: RecordingHost
    /// Set once ``receive(_:)`` threw: the connection is dead and would be closed.
    public private(set) var failed = false
    /// Bytes the server wrote, all of them.
    public private(set) var output: [UInt8] = []

    /// A server with `maxMessageSize` as its request and response limit.
    public init(maxMessageSize: Int) {
        var configuration = ServerConnection.Configuration()
        configuration.maxMessageSize = maxMessageSize
        configuration.peer = "fuzz"
        let registry = ServiceRegistry(Self.paths.map { ServerMethod(path: $0) { request, _ in request } })
        host = RecordingHost(maxMessageSize: maxMessageSize)
        do {
            connection = try ServerConnection(registry: registry, configuration: configuration)
        } catch {
            fatalError("cannot create a server session: \(error)")
        }
        connection.host = host
    }

    /// Streams whose calls are running.
    public var pendingStreams: [Int32] { host.pending.map(\.streamID) }

    /// The request a stream's call received, if it started.
    public func request(for streamID: Int32) -> [UInt8]? { host.requests[streamID] }

    /// Streams cancelled by the connection.
    public var cancelled: [Int32] { host.cancelled }

    /// Whether the connection says it may be closed.
    public var isFinished: Bool { connection.isFinished }

    /// Feeds client bytes in pieces of at most `chunk`, stopping at a connection error.
    public func receive(_ bytes: [UInt8], chunk: Int = .max) {
        var start = 0
        while start < bytes.count, !failed {
            let end = bytes.count - start > chunk ? start + chunk : bytes.count
            do {
                try bytes[start..<end].withUnsafeBytes { try connection.receive($0) }
            } catch {
                failed = true
            }
            start = end
        }
    }

    /// Takes everything the server wants to write (also after a failure: the GOAWAY).
    public func drain() -> [UInt8] {
        var out: [UInt8] = []
        do {
            try connection.drainOutput { out.append(contentsOf: $0) }
        } catch {
            failed = true
        }
        output += out
        return out
    }

    /// Completes a running call (or any stream id: the connection must ignore strays).
    public func complete(streamID: Int32, result: Result<[UInt8], RPCError>) {
        if let index = host.pending.firstIndex(where: { $0.streamID == streamID }) {
            host.pending.remove(at: index)
        }
        connection.complete(streamID: streamID, result: result)
    }

    /// The context a running call received.
    public func context(for streamID: Int32) -> RPCContext? {
        host.pending.first { $0.streamID == streamID }?.context
    }

    /// Starts a graceful shutdown.
    public func beginShutdown() { connection.beginShutdown() }

    /// Whether the server has bytes to write.
    public var connectionWantsWrite: Bool { connection.session.wantsWrite }

    /// Running calls the connection tracks.
    public var activeCallCount: Int { connection.activeCallCount }
}

/// A result the fuzzer chooses for a call: echo, an oversized response, or an error whose
/// message and metadata come from the input (and from the request's metadata, as a handler
/// that echoes metadata would).
public func chooseResult(_ input: inout FuzzInput, request: [UInt8], context: RPCContext?, maxMessageSize: Int) -> Result<[UInt8], RPCError> {
    switch input.int(below: 4) {
    case 0, 1:
        return .success(request)
    case 2:
        return .success([UInt8](repeating: 7, count: maxMessageSize + 1))
    default:
        var metadata = context?.metadata ?? Metadata()
        let extra = input.int(below: 3)
        for _ in 0..<extra {
            metadata.add(input.pick(["x-a", "x-b-bin", "grpc-status", "Upper", ""]), input.string(upTo: 16))
        }
        let code = StatusCode(rawValue: input.int(below: 18))
        return .failure(RPCError(code: code, message: input.string(upTo: 40), metadata: metadata))
    }
}
