import NIOConcurrencyHelpers
import RPCCore
import RPCNIO
import Testing

/// What a server reports per finished call, for its log line: the caller's request id (made
/// safe) and the user the handler said it acted for.
@Suite struct CallRecordTests {
    static let whoAmI = "/test.Raw/WhoAmI"

    @Test func recordsCarryRequestIDAndTheHandlersUser() async throws {
        let records = NIOLockedValueBox<[CallRecord]>([])
        let registry = ServiceRegistry([
            ServerMethod(path: Self.whoAmI) { request, _ in
                // A child task sees the call's annotations too.
                await Task { CallAnnotations.setUser("user-\(request.first ?? 0)") }.value
                if request.first == 0 { throw RPCError(code: .permissionDenied, message: "no") }
                return request
            },
            ServerMethod(path: "/test.Raw/Anonymous") { request, _ in request },
        ])
        var configuration = RPCServer.Configuration()
        configuration.onCallFinished = { record in records.withLockedValue { $0.append(record) } }
        let server = RPCServer(configuration: configuration, registry: registry)
        let port = try await server.start()
        let client = HTTP2ClientTransport(host: "127.0.0.1", port: port)

        _ = try await client.unary(path: Self.whoAmI, request: [7], context: RPCContext(metadata: Metadata([("x-request-id", "req-1")])))
        await #expect(throws: RPCError.self) {
            _ = try await client.unary(path: Self.whoAmI, request: [0], context: RPCContext(metadata: Metadata([("x-request-id", "a b")])))
        }
        _ = try await client.unary(path: "/test.Raw/Anonymous", request: [1], context: RPCContext())
        await client.close()
        await server.shutdown(gracePeriod: .seconds(1))

        // Outside a server call, annotating is a harmless no-op.
        CallAnnotations.setUser("nobody")
        #expect(CallAnnotations.current == nil)

        let finished = records.withLockedValue { $0 }
        try #require(finished.count == 3)
        #expect(finished[0].path == Self.whoAmI && finished[0].code == .ok)
        #expect(finished[0].requestID == "req-1" && finished[0].userID == "user-7")
        #expect(finished[1].code == .permissionDenied && finished[1].userID == "user-0")
        #expect(finished[1].requestID == "a?b")  // a control character cannot reach a log line
        #expect(finished[2].requestID == nil && finished[2].userID == nil)
    }

    @Test(arguments: [
        (nil, nil), ("", nil), ("abc-123", "abc-123"), ("line\nbreak", "line?break"), ("ünï", "??n??"),
        (String(repeating: "x", count: 200), String(repeating: "x", count: 128)),
    ] as [(String?, String?)])
    func loggableValues(input: String?, expected: String?) {
        #expect(loggable(input) == expected)
    }
}
