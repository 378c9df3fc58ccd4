public import RPCCore

/// Why an image edit through OpenAI failed.
///
/// Crossing an RPC boundary (``rpcError``):
///
/// | kind | code | message |
/// |---|---|---|
/// | ``Kind/contentPolicy`` | `INVALID_ARGUMENT` | "The prompt or image was rejected by the content policy" |
/// | ``Kind/invalidRequest`` | `INVALID_ARGUMENT` | OpenAI's own message (it is about the caller's image or prompt) |
/// | ``Kind/misconfigured`` (401, 403, 404, other 4xx) | `INTERNAL` | generic; the detail is logged |
/// | ``Kind/rateLimited`` (429 after every attempt) | `UNAVAILABLE` | "busy, try again later" |
/// | ``Kind/quotaExhausted`` (429 `insufficient_quota`, not retried) | `UNAVAILABLE` | generic |
/// | ``Kind/unavailable`` (5xx after every attempt, no connection) | `UNAVAILABLE` | generic |
/// | ``Kind/deadlineExceeded`` | `DEADLINE_EXCEEDED` | generic |
/// | ``Kind/badResponse`` (malformed JSON, not a PNG) | `INTERNAL` | generic |
/// | ``Kind/cancelled`` | `CANCELLED` | generic |
///
/// A 429 is the service's own OpenAI rate limit, not the caller's: it becomes `UNAVAILABLE`
/// (HTTP 503 at the gateway, "try again shortly") rather than `RESOURCE_EXHAUSTED` (429, which
/// would tell the caller it exceeded *its* limit).
///
/// ``description`` (for logs) holds the HTTP status, OpenAI's error type and code and, except
/// for authentication failures, OpenAI's message; never the API key.
public struct OpenAIError: Error, Sendable, CustomStringConvertible, RPCErrorConvertible {
    public enum Kind: Sendable, Hashable {
        /// OpenAI's safety system rejected the prompt or the image.
        case contentPolicy
        /// OpenAI rejected the caller's input (400): the image, mask, prompt or size.
        case invalidRequest
        /// The service is set up wrongly: bad or revoked key, unknown model or URL.
        case misconfigured
        /// OpenAI kept answering 429 until the attempts or the deadline ran out.
        case rateLimited
        /// The account has no quota left.
        case quotaExhausted
        /// OpenAI kept failing (5xx) or could not be reached.
        case unavailable
        /// The edit's deadline passed.
        case deadlineExceeded
        /// OpenAI answered success with something unusable.
        case badResponse
        /// The calling task was cancelled.
        case cancelled
    }

    public let kind: Kind
    /// The last HTTP status received, if any.
    public let httpStatus: Int?
    /// OpenAI's `error.code` (e.g. `content_policy_violation`), if any.
    public let code: String?
    /// For ``Kind/invalidRequest``: OpenAI's message, which the caller sees. Otherwise detail
    /// for logs only.
    public let message: String

    public init(kind: Kind, httpStatus: Int? = nil, code: String? = nil, message: String = "") {
        self.kind = kind
        self.httpStatus = httpStatus
        self.code = code
        self.message = message
    }

    public var description: String {
        var text = "OpenAI image edit failed: \(kind)"
        if let httpStatus { text += " (HTTP \(httpStatus)\(code.map { ", \($0)" } ?? ""))" }
        if !message.isEmpty { text += ": \(message)" }
        return text
    }

    public var rpcError: RPCError {
        switch kind {
        case .contentPolicy:
            RPCError(code: .invalidArgument, message: "The prompt or image was rejected by the content policy")
        case .invalidRequest:
            RPCError(code: .invalidArgument, message: message.isEmpty ? "The image service rejected the image or prompt" : message)
        case .misconfigured, .badResponse:
            RPCError(code: .internalError, message: "Internal error")
        case .rateLimited:
            RPCError(code: .unavailable, message: "The image service is busy; try again later")
        case .quotaExhausted, .unavailable:
            RPCError(code: .unavailable, message: "The image service is unavailable; try again later")
        case .deadlineExceeded:
            RPCError(code: .deadlineExceeded, message: "The image service did not answer in time")
        case .cancelled:
            RPCError(code: .cancelled, message: "The call was cancelled")
        }
    }
}
