public import RPCCore

/// An error from PostgreSQL or from reaching it.
///
/// Crossing an RPC boundary it becomes `UNAVAILABLE` ("database unavailable") when the
/// database could not be reached or the pool had no connection in time, and a generic
/// `INTERNAL` otherwise: SQL text and server messages are for logs, never for callers.
public struct PostgresError: Error, Sendable, CustomStringConvertible, RPCErrorConvertible {
    public enum Kind: Sendable, Hashable {
        /// Could not connect, or the connection broke.
        case connection
        /// No pooled connection became free before the caller's deadline.
        case poolTimeout
        /// The server rejected a statement (see ``sqlState``).
        case query
        /// A result did not have the shape the caller expected.
        case decoding
    }

    public let kind: Kind
    /// The five-character SQLSTATE, when the server sent one (e.g. `23505` unique violation).
    public let sqlState: String?
    /// The server's or libpq's message. For logs only.
    public let message: String

    public init(kind: Kind, sqlState: String? = nil, message: String) {
        self.kind = kind
        self.sqlState = sqlState
        self.message = message
    }

    public var description: String {
        "PostgreSQL \(kind)\(sqlState.map { " [\($0)]" } ?? ""): \(message)"
    }

    /// Whether the statement broke a unique constraint.
    public var isUniqueViolation: Bool { sqlState == "23505" }

    public var rpcError: RPCError {
        switch kind {
        case .connection, .poolTimeout:
            RPCError(code: .unavailable, message: "Database unavailable")
        case .query, .decoding:
            RPCError(code: .internalError, message: "Internal error")
        }
    }
}
