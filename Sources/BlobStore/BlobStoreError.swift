public import RPCCore

/// The one error type of every ``BlobStore``.
///
/// ``message`` and ``rpcError`` are safe to show a client; ``detail`` is for logs only (it may
/// name the bucket, the key, an S3 error code or an errno, never credentials or signatures).
public struct BlobStoreError: Error, Sendable, Hashable, CustomStringConvertible, RPCErrorConvertible {
    public enum Kind: Sendable, Hashable {
        /// No object under the key. `NOT_FOUND`.
        case notFound
        /// The store cannot be reached or keeps failing: connection failures, timeouts, 5xx after
        /// retries, a missing bucket, a local folder that cannot be used. `UNAVAILABLE`.
        case unavailable
        /// The store refused our credentials or permissions (403). A configuration problem the
        /// client cannot fix: `INTERNAL` with a generic message.
        case denied
        /// The key (or prefix) breaks the key rules, or collides with an existing object path.
        /// `INVALID_ARGUMENT`.
        case invalidKey
        /// Another argument is out of range (e.g. a presigned URL lifetime). `INVALID_ARGUMENT`.
        case invalidArgument
        /// Anything unexpected: an unreadable response, a local I/O error. `INTERNAL`.
        case `internal`
    }

    public let kind: Kind
    /// What happened, for logs only.
    public let detail: String

    public init(_ kind: Kind, detail: String) {
        self.kind = kind
        self.detail = detail
    }

    /// A short message safe for clients.
    public var message: String {
        switch kind {
        case .notFound: "Object not found"
        case .unavailable: "Blob storage unavailable"
        case .denied, .internal: "Internal error"
        case .invalidKey: "Invalid object key"
        case .invalidArgument: "Invalid argument"
        }
    }

    public var rpcError: RPCError {
        switch kind {
        case .notFound: RPCError(code: .notFound, message: message)
        case .unavailable: RPCError(code: .unavailable, message: message)
        case .denied, .internal: RPCError(code: .internalError, message: message)
        case .invalidKey, .invalidArgument: RPCError(code: .invalidArgument, message: message)
        }
    }

    /// For logs: the kind and the detail.
    public var description: String { "blob store \(kind): \(detail)" }
}
