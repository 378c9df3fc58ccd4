import GRPCHealth
import InteropAPI
import OpenSSLCrypto
import RPCCore
import RPCNIO

/// `rpc-interop client`: the interop checks, run from our client against any server.
///
/// The same battery as Tests/interop/battery.py runs with grpcio against our server. Prints
/// `PASS name` or `FAIL name: why` per check, then `N passed, N failed`; returns 0 only when
/// every check passed.
struct ClientBattery {
    static let serviceName = InteropServiceMethods.serviceName
    static let mebibyte = 1024 * 1024
    /// Unicode from several planes, and a '%' that must survive percent-encoding.
    static let unicodeText = "héllo wörld ✓ — 日本語 🚀 100% sure"
    /// Our client's default receive limit (GRPCFraming.defaultMaxMessageSize).
    static let clientMaxMessageSize = GRPCFraming.defaultMaxMessageSize

    let host: String
    let port: Int
    /// A client TLS context: dial with TLS and verify the server (nil: cleartext h2c).
    var tls: TLSContext?

    func run() async -> Int32 {
        var configuration = HTTP2ClientTransport.Configuration()
        configuration.tls = tls
        let transport = HTTP2ClientTransport(host: host, port: port, configuration: configuration)
        let results = Results()
        await checks(transport: transport, results: results)
        await transport.close()
        let (passed, failed) = await results.counts
        emit("\(passed) passed, \(failed) failed")
        return failed == 0 && passed > 0 ? 0 : 1
    }

    private func checks(transport: HTTP2ClientTransport, results: Results) async {
        let interop = InteropServiceClient(transport: transport)
        let health = HealthClient(transport: transport)
        let timeout: Duration = .seconds(10)

        // Health.
        for (label, service) in [("server", ""), ("interop-service", Self.serviceName)] {
            await results.check("health check \(label) is SERVING") {
                var request = HealthCheckRequest()
                request.service = service
                let response = try await health.check(request, context: .timeout(timeout))
                try expect(response.status == .serving, "status \(response.status)")
            }
        }
        await results.check("health check of an unknown service is NOT_FOUND") {
            var request = HealthCheckRequest()
            request.service = "no.such.Service"
            try await expectError(.notFound) { _ = try await health.check(request, context: .timeout(timeout)) }
        }

        // Echo.
        let echoCases: [(String, [UInt8], String)] = [
            ("small", Array("hello".utf8), "small"),
            ("empty", [], ""),
            ("unicode", [], Self.unicodeText),
            ("all-bytes", (0...255).map { UInt8($0) }, Self.unicodeText),
        ]
        for (label, payload, text) in echoCases {
            await results.check("echo \(label)") {
                var request = EchoRequest()
                request.payload = payload
                request.text = text
                let response = try await interop.echo(request, context: .timeout(timeout))
                try expect(response.payload == payload, "payload differs (\(response.payload.count) bytes back)")
                try expect(response.text == text, "text \(response.text.debugDescription)")
            }
        }
        await results.check("50 concurrent echoes on one connection") {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<50 {
                    group.addTask {
                        var request = EchoRequest()
                        request.payload = [UInt8](repeating: UInt8(index), count: index + 1)
                        request.text = "call \(index)"
                        let response = try await interop.echo(request, context: .timeout(.seconds(30)))
                        try expect(response.payload == request.payload && response.text == request.text,
                                   "call \(index) got another call's answer")
                    }
                }
                try await group.waitForAll()
            }
        }

        // Fail: every non-OK code, with a Unicode message.
        for code in StatusCode.allCases where code != .ok {
            await results.check("fail \(code.name) round-trips code and message") {
                var request = FailRequest()
                request.code = Int32(code.rawValue)
                request.message = "\(code.name): \(Self.unicodeText)"
                do {
                    _ = try await interop.fail(request, context: .timeout(timeout))
                    throw CheckFailure("expected \(code.name), got OK")
                } catch let error as RPCError {
                    try expect(error.code == code, "got \(error.code.name)")
                    try expect(error.message == request.message, "message \(error.message.debugDescription)")
                }
            }
        }
        await results.check("fail with code 0 answers OK") {
            var request = FailRequest()
            request.code = 0
            _ = try await interop.fail(request, context: .timeout(timeout))
        }

        // Slow, deadlines and cancellation.
        await results.check("slow answers after its delay") {
            var request = SlowRequest()
            request.delayMs = 50
            let response = try await interop.slow(request, context: .timeout(timeout))
            try expect(!response.cancelled, "cancelled = true")
        }
        await results.check("deadline exceeded, and the server's handler saw it") {
            let before = try await cancellations(interop)
            var request = SlowRequest()
            request.delayMs = 5_000
            try await expectError(.deadlineExceeded) {
                _ = try await interop.slow(request, context: .timeout(.milliseconds(300)))
            }
            try await expectCancellationsToExceed(before, interop)
        }
        await results.check("client cancellation is CANCELLED, and the server's handler saw it") {
            let before = try await cancellations(interop)
            var request = SlowRequest()
            request.delayMs = 5_000
            let call = Task { try await interop.slow(request, context: .timeout(.seconds(30))) }
            // Give the request time to reach the handler; a cancel before that may never be seen.
            try await Task.sleep(for: .milliseconds(500))
            call.cancel()
            try await expectError(.cancelled) { _ = try await call.value }
            try await expectCancellationsToExceed(before, interop)
        }

        // Large messages.
        await results.check("large 8 MiB both directions") {
            let size = 8 * Self.mebibyte
            var request = LargeRequest()
            request.sizeBytes = UInt32(size)
            request.payload = ReferenceInteropService.pattern(count: size).reversed()
            let response = try await interop.large(request, context: .timeout(.seconds(60)))
            try expect(response.receivedBytes == UInt64(size), "server received \(response.receivedBytes) bytes")
            try expect(response.receivedChecksum == ReferenceInteropService.checksum(request.payload),
                       "server's checksum \(response.receivedChecksum) differs")
            try expect(response.payload == ReferenceInteropService.pattern(count: size),
                       "response payload differs (\(response.payload.count) bytes)")
        }
        await results.check("response over our client's limit is RESOURCE_EXHAUSTED") {
            var request = LargeRequest()
            request.sizeBytes = UInt32(Self.clientMaxMessageSize + Self.mebibyte)
            try await expectError(.resourceExhausted) {
                _ = try await interop.large(request, context: .timeout(.seconds(60)))
            }
        }
        await results.check("the connection still works after an oversized message") {
            var request = EchoRequest()
            request.text = "still here"
            let response = try await interop.echo(request, context: .timeout(timeout))
            try expect(response.text == "still here", "text \(response.text.debugDescription)")
        }

        // Metadata.
        await results.check("echo metadata, text and -bin") {
            var metadata = Metadata()
            metadata.add("x-text", "hello, world")
            metadata.add("x-bytes-bin", binary: [0x00, 0x01, 0x7F, 0x80, 0xFE, 0xFF])
            metadata.add("x-repeated", "first")
            metadata.add("x-repeated", "second")
            metadata.add("x-empty-bin", binary: [])
            metadata.add("other-key", "not echoed: no x- prefix")
            let response = try await interop.echoMetadata(
                EchoMetadataRequest(), context: RPCContext(metadata: metadata, deadline: .now + timeout))
            let received = response.entries.map { "\($0.key)=\($0.value)" }
            let expected = [
                "x-text=\(Array("hello, world".utf8))",
                "x-bytes-bin=\([0x00, 0x01, 0x7F, 0x80, 0xFE, 0xFF] as [UInt8])",
                "x-repeated=\(Array("first".utf8))",
                "x-repeated=\(Array("second".utf8))",
                "x-empty-bin=\([] as [UInt8])",
            ]
            try expect(received == expected, "received \(received)")
        }

        // Protocol errors.
        for (label, path) in [("method", "/\(Self.serviceName)/Nope"), ("service", "/no.such.v1.Service/Echo")] {
            await results.check("unknown \(label) is UNIMPLEMENTED") {
                try await expectError(.unimplemented) {
                    _ = try await transport.unary(path: path, request: [], context: .timeout(timeout))
                }
            }
        }
    }

    private func cancellations(_ interop: InteropServiceClient) async throws -> UInt64 {
        try await interop.getCancellations(GetCancellationsRequest(), context: .timeout(.seconds(5))).cancelledCalls
    }

    /// Polls GetCancellations for up to five seconds until it exceeds `before`.
    private func expectCancellationsToExceed(_ before: UInt64, _ interop: InteropServiceClient) async throws {
        let end = ContinuousClock.now + .seconds(5)
        var now = try await cancellations(interop)
        while now <= before && ContinuousClock.now < end {
            try await Task.sleep(for: .milliseconds(50))
            now = try await cancellations(interop)
        }
        try expect(now > before, "GetCancellations stayed at \(now): the server never saw the cancellation")
    }
}

/// Why a check failed.
struct CheckFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

func expect(_ condition: Bool, _ message: @autoclosure () -> String) throws {
    if !condition { throw CheckFailure(message()) }
}

/// Runs `body` and requires it to throw an RPCError with `code`.
func expectError(_ code: StatusCode, _ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as RPCError {
        try expect(error.code == code, "expected \(code.name), got \(error)")
        return
    } catch let error as CheckFailure {
        throw error
    } catch {
        throw CheckFailure("expected \(code.name), got a non-RPC error: \(error)")
    }
    throw CheckFailure("expected \(code.name), got OK")
}

/// Runs checks one at a time and tallies them.
actor Results {
    private var passed = 0
    private var failed = 0

    var counts: (passed: Int, failed: Int) { (passed, failed) }

    func check(_ name: String, _ body: @Sendable () async throws -> Void) async {
        let start = ContinuousClock.now
        do {
            try await body()
            passed += 1
            emit("PASS \(name) (\(milliseconds(since: start)) ms)")
        } catch {
            failed += 1
            emit("FAIL \(name): \(error)")
        }
    }

    private func milliseconds(since start: ContinuousClock.Instant) -> Int64 {
        let elapsed = ContinuousClock.now - start
        return elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000
    }
}
