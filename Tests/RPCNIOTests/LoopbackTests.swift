import NIOConcurrencyHelpers
import RPCCore
import RPCNIO
import Testing

/// Raw byte-level methods, so these tests exercise the transport without the codec.
enum RawMethods {
    static let echo = "/test.Raw/Echo"
    static let fail = "/test.Raw/Fail"
    static let crash = "/test.Raw/Crash"
    static let slow = "/test.Raw/Slow"
    static let metadata = "/test.Raw/Metadata"
    static let big = "/test.Raw/Big"

    /// Echo returns its request; Fail throws an RPCError with a Unicode message and trailing
    /// metadata; Crash throws a non-RPC error carrying a secret; Slow sleeps up to 10 s,
    /// recording whether it saw cancellation; Metadata returns the `x-bin-bin` value received.
    static func registry(cancellations: NIOLockedValueBox<Int>) -> ServiceRegistry {
        struct SecretError: Error { let detail = "password=hunter2 at /srv/db" }
        return ServiceRegistry([
            ServerMethod(path: echo) { request, _ in request },
            ServerMethod(path: fail) { _, _ in
                var metadata = Metadata()
                metadata.add("x-detail", "field=name")
                metadata.add("x-raw-bin", binary: [0, 255, 7])
                throw RPCError(code: .invalidArgument, message: "Ungültig: 100% falsch ✗", metadata: metadata)
            },
            ServerMethod(path: crash) { _, _ in throw SecretError() },
            ServerMethod(path: slow) { _, _ in
                do {
                    try await Task.sleep(for: .seconds(60))
                } catch {
                    cancellations.withLockedValue { $0 += 1 }
                    throw error
                }
                return []
            },
            ServerMethod(path: big) { _, _ in [UInt8](repeating: 9, count: 1000) },
            ServerMethod(path: metadata) { _, context in
                (context.metadata.binary("x-bin-bin") ?? []) + Array((context.metadata["x-text"] ?? "").utf8)
            },
        ])
    }
}

/// Starts a server on a free port, runs `body` with a client for it, shuts both down.
func withServer<T>(
    configuration: RPCServer.Configuration = RPCServer.Configuration(),
    clientConfiguration: HTTP2ClientTransport.Configuration = HTTP2ClientTransport.Configuration(),
    cancellations: NIOLockedValueBox<Int> = NIOLockedValueBox(0),
    _ body: (HTTP2ClientTransport, RPCServer, Int) async throws -> T
) async throws -> T {
    let server = RPCServer(configuration: configuration, registry: RawMethods.registry(cancellations: cancellations))
    let port = try await server.start()
    let client = HTTP2ClientTransport(host: "127.0.0.1", port: port, configuration: clientConfiguration)
    do {
        let result = try await body(client, server, port)
        await client.close()
        await server.shutdown(gracePeriod: .seconds(1))
        return result
    } catch {
        await client.close()
        await server.shutdown(gracePeriod: .seconds(1))
        throw error
    }
}

func expectRPCError(_ code: StatusCode, _ body: () async throws -> Void) async -> RPCError? {
    do {
        try await body()
        Issue.record("expected \(code), got success")
        return nil
    } catch let error as RPCError {
        #expect(error.code == code)
        return error
    } catch {
        Issue.record("expected RPCError, got \(error)")
        return nil
    }
}

@Suite struct LoopbackTests {
    @Test func echoRoundTrip() async throws {
        try await withServer { client, _, _ in
            for payload in [[], [1, 2, 3], Array(repeating: UInt8(7), count: 100_000)] as [[UInt8]] {
                let response = try await client.unary(path: RawMethods.echo, request: payload, context: RPCContext())
                #expect(response.message == payload)
            }
        }
    }

    @Test func largeMessagesBothWays() async throws {
        let payload = (0..<(8 * 1024 * 1024)).map { UInt8(truncatingIfNeeded: $0 % 251) }
        try await withServer { client, _, _ in
            let response = try await client.unary(path: RawMethods.echo, request: payload, context: RPCContext())
            #expect(response.message == payload)
        }
    }

    @Test func unknownMethodIsUnimplemented() async throws {
        try await withServer { client, _, _ in
            let error = await expectRPCError(.unimplemented) {
                _ = try await client.unary(path: "/test.Raw/Nope", request: [], context: RPCContext())
            }
            #expect(error?.message.contains("/test.Raw/Nope") == true)
        }
    }

    @Test func statusMessageAndTrailingMetadataRoundTrip() async throws {
        try await withServer { client, _, _ in
            let error = await expectRPCError(.invalidArgument) {
                _ = try await client.unary(path: RawMethods.fail, request: [], context: RPCContext())
            }
            #expect(error?.message == "Ungültig: 100% falsch ✗")
            #expect(error?.metadata["x-detail"] == "field=name")
            #expect(error?.metadata.binary("x-raw-bin") == [0, 255, 7])
        }
    }

    @Test func nonRPCErrorsBecomeGenericInternal() async throws {
        try await withServer { client, _, _ in
            let error = await expectRPCError(.internalError) {
                _ = try await client.unary(path: RawMethods.crash, request: [], context: RPCContext())
            }
            #expect(error?.message == "Internal error")
            #expect(error?.message.contains("hunter2") == false)
        }
    }

    @Test func customMetadataIncludingBinaryReachesTheHandler() async throws {
        try await withServer { client, _, _ in
            var metadata = Metadata()
            metadata.add("x-bin-bin", binary: [0, 1, 254, 255])
            metadata.add("x-text", "hello")
            let response = try await client.unary(path: RawMethods.metadata, request: [], context: RPCContext(metadata: metadata))
            #expect(response.message == [0, 1, 254, 255] + Array("hello".utf8))
        }
    }

    @Test func deadlineCancelsTheHandler() async throws {
        let cancellations = NIOLockedValueBox(0)
        try await withServer(cancellations: cancellations) { client, _, _ in
            let started = ContinuousClock.now
            _ = await expectRPCError(.deadlineExceeded) {
                _ = try await client.unary(path: RawMethods.slow, request: [], context: .timeout(.seconds(2)))
            }
            #expect(ContinuousClock.now - started < .seconds(30), "the handler was cancelled, not waited for")
            try await waitUntil { cancellations.withLockedValue { $0 } == 1 }
        }
    }

    @Test func clientCancellationReachesTheHandler() async throws {
        let cancellations = NIOLockedValueBox(0)
        try await withServer(cancellations: cancellations) { client, _, _ in
            let task = Task {
                try await client.unary(path: RawMethods.slow, request: [], context: RPCContext())
            }
            try await Task.sleep(for: .milliseconds(200))
            task.cancel()
            let result = await task.result
            #expect((try? result.get()) == nil)
            if case .failure(let error as RPCError) = result { #expect(error.code == .cancelled) }
            try await waitUntil { cancellations.withLockedValue { $0 } == 1 }
        }
    }

    @Test func messageLimitsAreEnforcedOnBothSides() async throws {
        var serverConfiguration = RPCServer.Configuration()
        serverConfiguration.maxMessageSize = 1024
        var clientConfiguration = HTTP2ClientTransport.Configuration()
        clientConfiguration.maxMessageSize = 4096
        try await withServer(configuration: serverConfiguration, clientConfiguration: clientConfiguration) { client, _, _ in
            // The server refuses a request over its limit.
            _ = await expectRPCError(.resourceExhausted) {
                _ = try await client.unary(path: RawMethods.echo, request: [UInt8](repeating: 1, count: 2000), context: RPCContext())
            }
            // The client refuses to send over its own limit.
            _ = await expectRPCError(.resourceExhausted) {
                _ = try await client.unary(path: RawMethods.echo, request: [UInt8](repeating: 1, count: 5000), context: RPCContext())
            }
            // The connection is still fine afterwards.
            let response = try await client.unary(path: RawMethods.echo, request: [1], context: RPCContext())
            #expect(response.message == [1])
        }
    }

    @Test func clientRefusesAResponseOverItsLimit() async throws {
        var clientConfiguration = HTTP2ClientTransport.Configuration()
        clientConfiguration.maxMessageSize = 100
        try await withServer(clientConfiguration: clientConfiguration) { client, _, _ in
            let error = await expectRPCError(.resourceExhausted) {
                _ = try await client.unary(path: RawMethods.big, request: [], context: RPCContext())
            }
            #expect(error?.message.contains("1000 bytes") == true)
            // The stream was reset, the connection survives.
            let echoed = try await client.unary(path: RawMethods.echo, request: [5], context: RPCContext())
            #expect(echoed.message == [5])
        }
    }

    @Test func manyConcurrentCallsShareOneConnection() async throws {
        try await withServer { client, _, _ in
            try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<300 {
                    group.addTask {
                        let payload = [UInt8(index % 256), UInt8(index / 256)]
                        return try await client.unary(path: RawMethods.echo, request: payload, context: RPCContext()).message == payload
                    }
                }
                var ok = 0
                for try await matched in group where matched { ok += 1 }
                #expect(ok == 300)
            }
        }
    }

    @Test func clientReconnectsAfterServerRestart() async throws {
        let registry = RawMethods.registry(cancellations: NIOLockedValueBox(0))
        let first = RPCServer(configuration: RPCServer.Configuration(), registry: registry)
        let port = try await first.start()
        let client = HTTP2ClientTransport(host: "127.0.0.1", port: port)
        #expect(try await client.unary(path: RawMethods.echo, request: [1], context: RPCContext()).message == [1])
        await first.shutdown(gracePeriod: .seconds(1))

        _ = await expectRPCError(.unavailable) {
            _ = try await client.unary(path: RawMethods.echo, request: [2], context: RPCContext())
        }

        let second = RPCServer(configuration: RPCServer.Configuration(port: port), registry: registry)
        try await second.start()
        #expect(try await client.unary(path: RawMethods.echo, request: [3], context: RPCContext()).message == [3])
        await client.close()
        await second.shutdown(gracePeriod: .seconds(1))
    }

    @Test func gracefulShutdownLetsCallsInFlightFinish() async throws {
        let slowRegistry = ServiceRegistry([
            // Long enough that a poll on a loaded machine cannot miss the call while it runs.
            ServerMethod(path: "/test.Raw/SleepThreeSeconds") { request, _ in
                try await Task.sleep(for: .seconds(3))
                return request
            }
        ])
        let server = RPCServer(configuration: RPCServer.Configuration(), registry: slowRegistry)
        let port = try await server.start()
        let client = HTTP2ClientTransport(host: "127.0.0.1", port: port)
        let inFlight = Task { try await client.unary(path: "/test.Raw/SleepThreeSeconds", request: [42], context: RPCContext()) }
        try await waitUntil { server.callsInFlight == 1 }
        await server.shutdown(gracePeriod: .seconds(30))
        #expect(try await inFlight.value.message == [42])
        _ = await expectRPCError(.unavailable) {
            _ = try await client.unary(path: "/test.Raw/SleepThreeSeconds", request: [1], context: RPCContext())
        }
        await client.close()
    }

    @Test func unreachableServerIsUnavailable() async throws {
        let client = HTTP2ClientTransport(host: "127.0.0.1", port: 1)
        _ = await expectRPCError(.unavailable) {
            _ = try await client.unary(path: RawMethods.echo, request: [], context: RPCContext())
        }
        await client.close()
    }
}

/// Polls `condition` every 10 ms for up to 20 s (generous: CI machines are shared).
func waitUntil(_ condition: @Sendable () -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(20)
    while !condition() {
        if ContinuousClock.now > deadline {
            Issue.record("condition not met within 20 s")
            return
        }
        try await Task.sleep(for: .milliseconds(10))
    }
}
