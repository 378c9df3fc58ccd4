/// A response as a client transport returns it: the serialized message and the metadata
/// that came with it.
public struct ClientResponse: Sendable {
    /// The serialized response message, without the 5-byte gRPC prefix.
    public var message: [UInt8]
    /// Custom metadata from the response headers.
    public var initialMetadata: Metadata
    /// Custom metadata from the trailers.
    public var trailingMetadata: Metadata

    public init(message: [UInt8], initialMetadata: Metadata = Metadata(), trailingMetadata: Metadata = Metadata()) {
        self.message = message
        self.initialMetadata = initialMetadata
        self.trailingMetadata = trailingMetadata
    }
}

/// The client side of a transport: sends one unary call and waits for its answer.
///
/// Implementations: the HTTP/2 client in `RPCNIO`, and ``InProcessTransport`` for tests.
/// A call throws ``RPCError`` for every failure — a non-OK status from the server,
/// `DEADLINE_EXCEEDED` when `context.deadline` passes, `UNAVAILABLE` when the server cannot
/// be reached, `CANCELLED` when the calling task is cancelled.
public protocol ClientTransport: Sendable {
    /// Sends `request` (a serialized message) to the method at `path` (`/pkg.Service/Method`).
    func unary(path: String, request: [UInt8], context: RPCContext) async throws(RPCError) -> ClientResponse
}

/// One method a server can run: its path and a handler from request bytes to response bytes.
public struct ServerMethod: Sendable {
    /// The HTTP/2 `:path`, `/package.Service/Method`.
    public let path: String
    /// Runs the call. Throwing ``RPCError`` sends that status; any other error becomes
    /// `INTERNAL` with a generic message.
    public let handler: @Sendable (_ request: [UInt8], _ context: RPCContext) async throws -> [UInt8]

    public init(path: String, handler: @escaping @Sendable (_ request: [UInt8], _ context: RPCContext) async throws -> [UInt8]) {
        self.path = path
        self.handler = handler
    }
}

/// The methods one server serves, by path. Built once at start, then read-only.
public struct ServiceRegistry: Sendable {
    private var methods: [String: ServerMethod] = [:]

    public init() {}

    public init(_ methods: [ServerMethod]) {
        for method in methods { register(method) }
    }

    /// Adds a method; a later method with the same path replaces an earlier one.
    public mutating func register(_ method: ServerMethod) {
        methods[method.path] = method
    }

    /// Adds several methods.
    public mutating func register(contentsOf methods: [ServerMethod]) {
        for method in methods { register(method) }
    }

    /// The method at `path`, or `nil` (which the server answers with `UNIMPLEMENTED`).
    public func method(for path: String) -> ServerMethod? {
        methods[path]
    }

    /// Every registered path, sorted.
    public var paths: [String] { methods.keys.sorted() }
}
