import Gateway
import HTTPTypes
import RPCCore
import Testing

@Suite struct ErrorMappingTests {
    /// The table, every code listed: a new code or a changed mapping fails here.
    static let expected: [StatusCode: Int] = [
        .ok: 200, .cancelled: 499, .unknown: 500, .invalidArgument: 400, .deadlineExceeded: 504,
        .notFound: 404, .alreadyExists: 409, .permissionDenied: 403, .resourceExhausted: 429,
        .failedPrecondition: 422, .aborted: 409, .outOfRange: 400, .unimplemented: 501,
        .internalError: 500, .unavailable: 503, .dataLoss: 500, .unauthenticated: 401,
    ]

    @Test(arguments: StatusCode.allCases)
    func everyCodeHasItsStatus(code: StatusCode) {
        #expect(httpStatus(for: code).code == Self.expected[code])
    }

    @Test func theTableCoversEveryCode() {
        #expect(Set(Self.expected.keys) == Set(StatusCode.allCases))
    }

    @Test(arguments: [StatusCode.internalError, .unknown, .dataLoss])
    func internalMessagesAreNeverPassedOn(code: StatusCode) {
        let error = APIError(RPCError(code: code, message: "pq: relation auth_users does not exist"))
        #expect(error.message == "Internal error")
        #expect(error.status.code == 500)
    }

    @Test func clientFacingMessagesArePassedOn() {
        let error = APIError(RPCError(code: .alreadyExists, message: "A user with this email already exists"))
        #expect(error.message == "A user with this email already exists")
        #expect(error.code == "already_exists")
        #expect(error.status.code == 409)
    }
}
