/// The one error type that crosses an RPC boundary.
///
/// A server handler that throws an `RPCError` (or an error conforming to
/// ``RPCErrorConvertible``) sends its code, message and metadata to the client as trailers.
/// Any other error thrown by a handler becomes `INTERNAL` with a generic message: the
/// original error is logged on the server and never sent, so internals cannot leak.
/// A client receives every non-OK status as an `RPCError`.
public struct RPCError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The status code.
    public var code: StatusCode
    /// A human-readable message meant for the caller. Never put secrets or internals here.
    public var message: String
    /// Extra trailing metadata sent with the status.
    public var metadata: Metadata

    public init(code: StatusCode, message: String, metadata: Metadata = Metadata()) {
        self.code = code
        self.message = message
        self.metadata = metadata
    }

    public var description: String {
        message.isEmpty ? code.name : "\(code.name): \(message)"
    }
}

/// A domain error that knows which ``RPCError`` it becomes when it crosses the wire.
public protocol RPCErrorConvertible: Error {
    /// The status to send in place of this error.
    var rpcError: RPCError { get }
}

extension RPCError {
    /// Maps any error a handler threw to the status a client may see.
    ///
    /// `RPCError` and ``RPCErrorConvertible`` pass through; `CancellationError` becomes
    /// `CANCELLED`; anything else becomes `INTERNAL` with a message that says nothing about it.
    public init(mapping error: any Error) {
        switch error {
        case let error as RPCError:
            self = error
        case let error as any RPCErrorConvertible:
            self = error.rpcError
        case is CancellationError:
            self = RPCError(code: .cancelled, message: "The call was cancelled")
        default:
            self = RPCError(code: .internalError, message: "Internal error")
        }
    }
}
