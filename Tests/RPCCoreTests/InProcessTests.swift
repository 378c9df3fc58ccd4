import GRPCHealth
import InteropAPI
import ProtoWire
import RPCCore
import Testing

/// An in-memory InteropService, as the interop server will implement it.
struct InMemoryInterop: InteropService {
    func echo(_ request: EchoRequest, context: RPCContext) async throws -> EchoResponse {
        EchoResponse(payload: request.payload, text: request.text)
    }

    func fail(_ request: FailRequest, context: RPCContext) async throws -> FailResponse {
        if request.code == 0 { return FailResponse() }
        throw RPCError(code: StatusCode(rawValue: Int(request.code)), message: request.message)
    }

    func slow(_ request: SlowRequest, context: RPCContext) async throws -> SlowResponse {
        try await Task.sleep(for: .milliseconds(Int(request.delayMs)))
        return SlowResponse(cancelled: false)
    }

    func large(_ request: LargeRequest, context: RPCContext) async throws -> LargeResponse {
        let payload = (0..<Int(request.sizeBytes)).map { UInt8($0 % 251) }
        let checksum = request.payload.reduce(UInt32(0)) { $0 &+ UInt32($1) }
        return LargeResponse(payload: payload, receivedChecksum: checksum, receivedBytes: UInt64(request.payload.count))
    }

    func echoMetadata(_ request: EchoMetadataRequest, context: RPCContext) async throws -> EchoMetadataResponse {
        var response = EchoMetadataResponse()
        for (key, value) in context.metadata where key.hasPrefix("x-") {
            switch value {
            case .string(let text): response.entries.append(MetadataEntry(key: key, value: Array(text.utf8)))
            case .binary(let bytes): response.entries.append(MetadataEntry(key: key, value: bytes))
            }
        }
        return response
    }

    func getCancellations(_ request: GetCancellationsRequest, context: RPCContext) async throws -> GetCancellationsResponse {
        struct Secret: Error {}
        throw Secret()
    }
}

/// A transport that answers every call with the same bytes.
struct CannedTransport: ClientTransport {
    var bytes: [UInt8]
    func unary(path: String, request: [UInt8], context: RPCContext) async throws(RPCError) -> ClientResponse {
        ClientResponse(message: bytes)
    }
}

/// The RPCError `body` throws, or nil; a non-RPC error is recorded as an issue.
func rpcError(_ body: () async throws -> Void) async -> RPCError? {
    do {
        try await body()
        return nil
    } catch let error as RPCError {
        return error
    } catch {
        Issue.record("not an RPCError: \(error)")
        return nil
    }
}

@Suite struct InProcessTests {
    let interop = InteropServiceClient(transport: InProcessTransport(methods: InMemoryInterop().serverMethods))

    private func code(_ body: () async throws -> Void) async -> StatusCode? {
        await rpcError(body)?.code
    }

    @Test func echoRoundTripsThroughTheCodec() async throws {
        let response = try await interop.echo(EchoRequest(payload: [0, 1, 255], text: "h\u{e9}llo"))
        #expect(response == EchoResponse(payload: [0, 1, 255], text: "h\u{e9}llo"))
    }

    @Test func largeMessagesRoundTrip() async throws {
        let request = LargeRequest(sizeBytes: 3 << 20, payload: Array(repeating: 2, count: 1 << 20))
        let response = try await interop.large(request)
        #expect(response.payload.count == 3 << 20)
        #expect(response.payload[251] == 0)
        #expect(response.receivedChecksum == 2 << 20)
    }

    @Test func statusesReachTheClient() async throws {
        let error = await rpcError { _ = try await interop.fail(FailRequest(code: 9, message: "not now \u{2713}")) }
        #expect(error == RPCError(code: .failedPrecondition, message: "not now \u{2713}"))
        _ = try await interop.fail(FailRequest(code: 0))
    }

    @Test func aForeignHandlerErrorIsAGenericInternalError() async {
        let error = await rpcError { _ = try await interop.getCancellations(GetCancellationsRequest()) }
        #expect(error == RPCError(code: .internalError, message: "Internal error"))
    }

    @Test func metadataTravelsInTheContext() async throws {
        var metadata = Metadata([("x-request-id", "abc")])
        metadata.add("x-trace-bin", binary: [0, 1, 2])
        let response = try await interop.echoMetadata(EchoMetadataRequest(), context: RPCContext(metadata: metadata))
        #expect(response.entries == [
            MetadataEntry(key: "x-request-id", value: Array("abc".utf8)),
            MetadataEntry(key: "x-trace-bin", value: [0, 1, 2]),
        ])
    }

    @Test func theDeadlineCancelsASlowHandler() async {
        let start = ContinuousClock.now
        let code = await code { _ = try await interop.slow(SlowRequest(delayMs: 60_000), context: .timeout(.milliseconds(50))) }
        #expect(code == .deadlineExceeded)
        #expect(ContinuousClock.now - start < .seconds(30), "the handler was cancelled, not waited for")
        // A deadline already past fails before the handler runs.
        let past = RPCContext(deadline: .now - .seconds(1))
        let pastCode = await self.code { _ = try await interop.echo(EchoRequest(), context: past) }
        #expect(pastCode == .deadlineExceeded)
    }

    @Test func anUnknownPathIsUnimplemented() async {
        let transport = InProcessTransport(methods: InMemoryInterop().serverMethods)
        let code = await code { _ = try await transport.unary(path: "/imageedit.testing.v1.InteropService/Nope", request: [], context: RPCContext()) }
        #expect(code == .unimplemented)
        let watch = await self.code { _ = try await transport.unary(path: "/grpc.health.v1.Health/Watch", request: [], context: RPCContext()) }
        #expect(watch == .unimplemented)
    }

    @Test func anUndecodableRequestIsInternal() async {
        let transport = InProcessTransport(methods: InMemoryInterop().serverMethods)
        do {
            _ = try await transport.unary(path: InteropServiceMethods.echo, request: [0x0F], context: RPCContext())
            Issue.record("no error")
        } catch {
            #expect(error == RPCError(code: .internalError, message: "Could not decode the request message"))
        }
    }

    @Test func anUndecodableResponseIsInternal() async {
        let client = InteropServiceClient(transport: CannedTransport(bytes: [0x12, 0x05, 0x61]))
        let error = await rpcError { _ = try await client.echo(EchoRequest()) }
        #expect(error == RPCError(code: .internalError, message: "Could not decode the response message"))
    }

    @Test func methodPathsAreTheGRPCPaths() {
        #expect(InteropServiceMethods.all == [
            "/imageedit.testing.v1.InteropService/Echo", "/imageedit.testing.v1.InteropService/Fail",
            "/imageedit.testing.v1.InteropService/Slow", "/imageedit.testing.v1.InteropService/Large",
            "/imageedit.testing.v1.InteropService/EchoMetadata", "/imageedit.testing.v1.InteropService/GetCancellations",
        ])
        #expect(InMemoryInterop().serverMethods.map(\.path) == InteropServiceMethods.all)
        #expect(HealthMethods.check == "/grpc.health.v1.Health/Check")
    }
}

@Suite struct HealthTests {
    @Test func checkAnswersKnownNamesAndNotFoundOtherwise() async throws {
        let provider = HealthProvider(services: ["imageedit.auth.v1.AuthService"])
        let client = HealthClient(transport: InProcessTransport(methods: provider.serverMethods))
        #expect(try await client.check(HealthCheckRequest()).status == .serving)
        #expect(try await client.check(HealthCheckRequest(service: "imageedit.auth.v1.AuthService")).status == .serving)
        let error = await rpcError { _ = try await client.check(HealthCheckRequest(service: "nope.Service")) }
        #expect(error?.code == .notFound)
    }

    @Test func statusesChangeAtRuntime() async throws {
        let provider = HealthProvider(status: .notServing)
        let client = HealthClient(transport: InProcessTransport(methods: provider.serverMethods))
        #expect(try await client.check(HealthCheckRequest()).status == .notServing)
        provider.setStatus(.serving)
        provider.setStatus(.serving, for: "a.B")
        #expect(try await client.check(HealthCheckRequest()).status == .serving)
        #expect(try await client.check(HealthCheckRequest(service: "a.B")).status == .serving)
        provider.setAll(.notServing)
        #expect(try await client.check(HealthCheckRequest(service: "a.B")).status == .notServing)
        provider.removeStatus(for: "a.B")
        #expect(provider.status(for: "a.B") == nil)
    }

    @Test func concurrentUpdatesAndChecksAreSafe() async throws {
        let provider = HealthProvider()
        let client = HealthClient(transport: InProcessTransport(methods: provider.serverMethods))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<50 {
                group.addTask {
                    provider.setStatus(index % 2 == 0 ? .serving : .notServing, for: "s\(index % 5)")
                    _ = try await client.check(HealthCheckRequest())
                }
            }
            try await group.waitForAll()
        }
        #expect(provider.status(for: "s0") != nil)
    }

    @Test func theWireEncodingMatchesTheStandard() throws {
        // grpc_health_probe sends {service: ""} (empty bytes) and expects {status: SERVING} = 08 01.
        #expect(HealthCheckRequest().serializedBytes() == [])
        #expect(HealthCheckResponse(status: .serving).serializedBytes() == [0x08, 0x01])
        #expect(try HealthCheckResponse(serializedBytes: [0x08, 0x02]).status == .notServing)
    }
}
