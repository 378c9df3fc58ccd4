public import HTTPTypes
public import RPCCore

/// The one table from gRPC status codes to HTTP statuses. Exhaustive over the seventeen codes.
public func httpStatus(for code: StatusCode) -> HTTPResponse.Status {
    switch code {
    case .ok: .ok
    case .invalidArgument, .outOfRange: .badRequest
    case .failedPrecondition: .unprocessableContent
    case .unauthenticated: .unauthorized
    case .permissionDenied: .forbidden
    case .notFound: .notFound
    case .alreadyExists, .aborted: .conflict
    case .resourceExhausted: .tooManyRequests
    case .unimplemented: .notImplemented
    case .unavailable: .serviceUnavailable
    case .deadlineExceeded: .gatewayTimeout
    case .cancelled: HTTPResponse.Status(code: 499, reasonPhrase: "Client Closed Request")
    case .internalError, .unknown, .dataLoss: .internalServerError
    default: .internalServerError
    }
}

/// An error the gateway answers with `{"error": message, "code": code}`.
public struct APIError: Error, Sendable, Hashable {
    public var status: HTTPResponse.Status
    /// A stable machine-readable code, e.g. `invalid_argument`, `payload_too_large`.
    public var code: String
    /// A human-readable message. Never internal details.
    public var message: String

    public init(status: HTTPResponse.Status, code: String, message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    /// The answer for an RPC failure: its status, its code in snake case, its message
    /// (services write messages for callers; INTERNAL and UNKNOWN are replaced by a generic one).
    public init(_ error: RPCError) {
        let status = httpStatus(for: error.code)
        let message: String
        switch error.code {
        case .internalError, .unknown, .dataLoss: message = "Internal error"
        case .unavailable: message = "A backend service is unavailable; try again shortly"
        case .deadlineExceeded: message = "A backend service did not answer in time"
        default: message = error.message.isEmpty ? error.code.name : error.message
        }
        self.init(status: status, code: error.code.name.lowercased(), message: message)
    }

    static func badRequest(_ message: String) -> APIError {
        APIError(status: .badRequest, code: "invalid_argument", message: message)
    }

    static func payloadTooLarge(limit: Int) -> APIError {
        APIError(status: .contentTooLarge, code: "payload_too_large", message: "Request body is larger than \(limit) bytes")
    }

    static let notFound = APIError(status: .notFound, code: "not_found", message: "Not found")
    /// A page number past the last page (Django REST framework's wording).
    static let invalidPage = APIError(status: .notFound, code: "not_found", message: "Invalid page")

    static func methodNotAllowed(_ method: HTTPRequest.Method) -> APIError {
        APIError(status: .methodNotAllowed, code: "method_not_allowed", message: "Method \(method.rawValue) is not allowed here")
    }
    static let unauthenticated = APIError(status: .unauthorized, code: "unauthenticated", message: "Authentication credentials were not provided or are invalid")
}
