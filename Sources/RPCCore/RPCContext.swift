/// What travels with one call, on both sides of it.
///
/// On the client it is what the caller sends: custom metadata (for example `authorization`
/// and `x-request-id`) and an optional deadline. On the server the transport hands the
/// handler the metadata and deadline it received. Because clients and servers share one
/// interface per service, a handler that calls a downstream service can pass its own context
/// on: the deadline propagates, and so does the caller's metadata.
public struct RPCContext: Sendable {
    /// Custom metadata: sent by the client, received by the server.
    public var metadata: Metadata
    /// When the call must be finished; `nil` means no deadline.
    public var deadline: ContinuousClock.Instant?
    /// The remote peer, for logs (server side only; empty on the client).
    public var peer: String

    public init(metadata: Metadata = Metadata(), deadline: ContinuousClock.Instant? = nil, peer: String = "") {
        self.metadata = metadata
        self.deadline = deadline
        self.peer = peer
    }

    /// A context whose deadline is `timeout` from now.
    public static func timeout(_ timeout: Duration, metadata: Metadata = Metadata()) -> RPCContext {
        RPCContext(metadata: metadata, deadline: .now + timeout)
    }

    /// The time left until the deadline, or `nil` when there is none. Never negative.
    public var timeRemaining: Duration? {
        guard let deadline else { return nil }
        let left = deadline - .now
        return left < .zero ? .zero : left
    }

    /// Throws `DEADLINE_EXCEEDED` when the deadline has passed.
    public func checkDeadline() throws(RPCError) {
        if let deadline, deadline <= .now {
            throw RPCError(code: .deadlineExceeded, message: "Deadline exceeded")
        }
    }

    /// This context with its deadline shortened to at most `timeout` from now.
    public func limited(to timeout: Duration) -> RPCContext {
        var copy = self
        let candidate = ContinuousClock.now + timeout
        if let deadline, deadline < candidate { return copy }
        copy.deadline = candidate
        return copy
    }
}
