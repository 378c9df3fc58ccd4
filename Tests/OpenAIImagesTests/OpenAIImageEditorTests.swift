import Foundation
import HTTPClient
import OpenAIImages
import RPCCore
import Testing
import TestSupport

/// The editor against `Tests/fakes/fake_openai.py`, over real sockets: one fake per test.
@Suite struct OpenAIImageEditorTests {
    static let image = TestPNG.make(width: 64, height: 64)

    /// An editor for `fake` with quick backoff; its HTTP client is shut down afterwards.
    func withEditor<T: Sendable>(
        _ fake: FakeOpenAIServer, apiKey: String? = nil, model: String = "dall-e-2", maxAttempts: Int = 3, threads: Int = 4,
        _ body: (OpenAIImageEditor) async throws -> T
    ) async throws -> T {
        let http = CurlHTTPClient(threads: threads)
        let configuration = OpenAIConfiguration(
            apiKey: apiKey ?? fake.apiKey, baseURL: fake.baseURL, model: model, maxAttempts: maxAttempts,
            initialBackoff: .milliseconds(10), maxBackoff: .milliseconds(50))
        let editor = OpenAIImageEditor(configuration: configuration, http: http)
        do {
            let result = try await body(editor)
            await http.shutdown()
            return result
        } catch {
            await http.shutdown()
            throw error
        }
    }

    func request(_ prompt: String = "make it pop", size: String? = "256x256", image: [UInt8] = Self.image, mask: [UInt8]? = nil) -> ImageEditRequest {
        ImageEditRequest(image: image, mask: mask, prompt: prompt, size: size)
    }

    static func soon(_ seconds: Double = 10) -> ContinuousClock.Instant { .now + .milliseconds(Int64(seconds * 1000)) }

    @Test func editReturnsTheEditedPNGFromB64JSON() async throws {
        try await FakeOpenAIServer.with { fake async throws in
            let edited = try await withEditor(fake) { try await $0.edit(request(), deadline: Self.soon()) }
            #expect(TestPNG.dimensions(edited)! == (256, 256))
            #expect(edited != Self.image)

            let recorded = try await fake.requests()
            #expect(recorded.count == 1)
            let sent = try #require(recorded.first)
            #expect(sent.keyOK)
            #expect(sent.contentType.hasPrefix("multipart/form-data; boundary="))
            #expect(sent.fields == ["prompt": "make it pop", "model": "dall-e-2", "n": "1", "size": "256x256", "response_format": "b64_json"])
            let image = try #require(sent.files["image"])
            #expect(image.filename == "image.png" && image.contentType == "image/png" && image.size == Self.image.count)
            #expect(image.png?.width == 64 && image.png?.mode == "RGBA")
            #expect(sent.files["mask"] == nil)
        }
    }

    @Test func maskIsSentAsASecondPNGPart() async throws {
        try await FakeOpenAIServer.with { fake async throws in
            let mask = TestPNG.make(width: 64, height: 64, rgba: [0, 0, 0, 0])
            let edited = try await withEditor(fake) { try await $0.edit(request(mask: mask), deadline: Self.soon()) }
            #expect(TestPNG.dimensions(edited)! == (256, 256))
            let sent = try #require(try await fake.requests().first)
            let part = try #require(sent.files["mask"])
            #expect(part.filename == "mask.png" && part.contentType == "image/png" && part.size == mask.count)
        }
    }

    @Test func urlAnswerIsDownloaded() async throws {
        try await FakeOpenAIServer.with { fake async throws in
            // FAKE_URL makes the fake answer {"url": ...} although b64_json was asked for.
            let edited = try await withEditor(fake) { try await $0.edit(request("FAKE_URL please"), deadline: Self.soon()) }
            #expect(TestPNG.dimensions(edited)! == (256, 256))
            #expect(try await fake.requests().count == 1)
        }
    }

    @Test(arguments: [
        ("dall-e-2", "b64_json" as String?),
        ("gpt-image-1", nil),
    ])
    func modelIsAlwaysSentAndResponseFormatOnlyWhereTheModelTakesIt(model: String, responseFormat: String?) async throws {
        try await FakeOpenAIServer.with { fake async throws in
            // No size: the fake's defaults apply (1024x1024 for dall-e-2, the input's size for gpt-image-1 "auto").
            let edited = try await withEditor(fake, model: model) { try await $0.edit(request(size: nil), deadline: Self.soon()) }
            #expect(TestPNG.dimensions(edited) != nil)
            let sent = try #require(try await fake.requests().first)
            #expect(sent.fields["model"] == model)
            #expect(sent.fields["response_format"] == responseFormat)
            #expect(sent.fields["size"] == nil)
            #expect(sent.status == 200)
        }
    }

    @Test func contentPolicyRejectionIsInvalidArgumentAndNotRetried() async throws {
        try await FakeOpenAIServer.with { fake async throws in
            let error = await #expect(throws: OpenAIError.self) {
                try await withEditor(fake) { try await $0.edit(request("FAKE_CONTENT_POLICY"), deadline: Self.soon()) }
            }
            #expect(error?.kind == .contentPolicy)
            #expect(error?.rpcError == RPCError(code: .invalidArgument, message: "The prompt or image was rejected by the content policy"))
            #expect(try await fake.requests().count == 1)
        }
    }

    @Test func nonSquareImageIsInvalidArgumentWithOpenAIsMessage() async throws {
        try await FakeOpenAIServer.with { fake async throws in
            let error = await #expect(throws: OpenAIError.self) {
                try await withEditor(fake) {
                    try await $0.edit(request(image: TestPNG.make(width: 64, height: 32)), deadline: Self.soon())
                }
            }
            #expect(error?.rpcError == RPCError(code: .invalidArgument, message: "Uploaded image must be square."))
            #expect(try await fake.requests().count == 1)
        }
    }

    @Test func rgbImageIsInvalidArgumentForDallE2() async throws {
        try await FakeOpenAIServer.with { fake async throws in
            let error = await #expect(throws: OpenAIError.self) {
                try await withEditor(fake) {
                    try await $0.edit(request(image: TestPNG.make(width: 32, height: 32, colorType: .rgb)), deadline: Self.soon())
                }
            }
            #expect(error?.rpcError.code == .invalidArgument)
            #expect(error?.rpcError.message == "Invalid input image - format must be in ['RGBA', 'LA', 'L'], got RGB.")
        }
    }

    @Test func rateLimitedTwiceThenSuccessIsRetried() async throws {
        try await FakeOpenAIServer.with { fake async throws in
            try await fake.script([
                .error(status: 429, code: "rate_limit_exceeded", type: "requests", headers: ["Retry-After": "0"]),
                .error(status: 429, code: "rate_limit_exceeded", type: "requests"),
                .pass(),
            ])
            let edited = try await withEditor(fake) { try await $0.edit(request(), deadline: Self.soon()) }
            #expect(TestPNG.dimensions(edited)! == (256, 256))
            #expect(try await fake.requests().map(\.status) == [429, 429, 200])
        }
    }

    @Test func retryAfterIsHonoured() async throws {
        try await FakeOpenAIServer.with { fake async throws in
            try await fake.script([
                .error(status: 429, code: "rate_limit_exceeded", type: "requests", headers: ["retry-after-ms": "400"]),
                .pass(),
            ])
            let start = ContinuousClock.now
            _ = try await withEditor(fake) { try await $0.edit(request(), deadline: Self.soon()) }
            // The computed backoff is at most 50 ms here; only the header explains 400 ms.
            #expect(ContinuousClock.now - start >= .milliseconds(400))
        }
    }

    @Test func retryAfterBeyondTheDeadlineFailsAtOnce() async throws {
        try await FakeOpenAIServer.with { fake async throws in
            try await fake.script([.error(status: 429, code: "rate_limit_exceeded", type: "requests", headers: ["Retry-After": "30"])])
            let start = ContinuousClock.now
            let error = await #expect(throws: OpenAIError.self) {
                try await withEditor(fake) { try await $0.edit(request(), deadline: Self.soon(5)) }
            }
            #expect(ContinuousClock.now - start < .seconds(2))
            #expect(error?.kind == .rateLimited)
            #expect(error?.rpcError.code == .unavailable)
            #expect(try await fake.requests().count == 1)
        }
    }

    @Test func cancellingDuringABackoffWaitStopsAtOnce() async throws {
        try await FakeOpenAIServer.with { fake async throws in
            try await fake.script([.error(status: 503, code: nil, type: "server_error", headers: ["retry-after-ms": "5000"])])
            let start = ContinuousClock.now
            let error = try await withEditor(fake) { editor in
                let task = Task { try await editor.edit(request(), deadline: Self.soon(20)) }
                try await Task.sleep(for: .milliseconds(500))
                task.cancel()
                return await #expect(throws: OpenAIError.self) { try await task.value }
            }
            #expect(ContinuousClock.now - start < .seconds(3))
            #expect(error?.rpcError.code == .cancelled)
            #expect(try await fake.requests().count == 1)
        }
    }

    @Test(arguments: [500, 502, 503])
    func persistentServerErrorIsUnavailableAfterBoundedAttempts(status: Int) async throws {
        try await FakeOpenAIServer.with { fake async throws in
            try await fake.script(Array(repeating: .error(status: status, code: nil, type: "server_error"), count: 5))
            let error = await #expect(throws: OpenAIError.self) {
                try await withEditor(fake, maxAttempts: 3) { try await $0.edit(request(), deadline: Self.soon()) }
            }
            #expect(error?.kind == .unavailable)
            #expect(error?.rpcError == RPCError(code: .unavailable, message: "The image service is unavailable; try again later"))
            #expect(try await fake.requests().map(\.status) == [status, status, status])
        }
    }

    @Test func serverErrorMagicWordIsRetriedToo() async throws {
        try await FakeOpenAIServer.with { fake async throws in
            let error = await #expect(throws: OpenAIError.self) {
                try await withEditor(fake, maxAttempts: 2) { try await $0.edit(request("FAKE_SERVER_ERROR"), deadline: Self.soon()) }
            }
            #expect(error?.rpcError.code == .unavailable)
            #expect(try await fake.requests().count == 2)
        }
    }

    @Test func persistentRateLimitIsUnavailable() async throws {
        try await FakeOpenAIServer.with { fake async throws in
            let error = await #expect(throws: OpenAIError.self) {
                try await withEditor(fake, maxAttempts: 2) { try await $0.edit(request("FAKE_RATE_LIMIT"), deadline: Self.soon()) }
            }
            #expect(error?.rpcError == RPCError(code: .unavailable, message: "The image service is busy; try again later"))
            #expect(try await fake.requests().count == 2)
        }
    }

    @Test func insufficientQuotaIsNotRetried() async throws {
        try await FakeOpenAIServer.with { fake async throws in
            let error = await #expect(throws: OpenAIError.self) {
                try await withEditor(fake) { try await $0.edit(request("FAKE_QUOTA"), deadline: Self.soon()) }
            }
            #expect(error?.kind == .quotaExhausted)
            #expect(error?.rpcError.code == .unavailable)
            #expect(try await fake.requests().count == 1)
        }
    }

    @Test func slowBackendIsCutOffAtTheDeadline() async throws {
        try await FakeOpenAIServer.with { fake async throws in
            let start = ContinuousClock.now
            let error = await #expect(throws: OpenAIError.self) {
                try await withEditor(fake) { try await $0.edit(request("FAKE_SLOW:5000"), deadline: start + .milliseconds(500)) }
            }
            let elapsed = ContinuousClock.now - start
            #expect(error?.rpcError == RPCError(code: .deadlineExceeded, message: "The image service did not answer in time"))
            #expect(elapsed >= .milliseconds(450) && elapsed < .milliseconds(4500), "took \(elapsed): cut off well before the backend's 5 s")
        }
    }

    @Test func expiredDeadlineFailsWithoutCallingOpenAI() async throws {
        try await FakeOpenAIServer.with { fake async throws in
            let error = await #expect(throws: OpenAIError.self) {
                try await withEditor(fake) { try await $0.edit(request(), deadline: .now - .milliseconds(1)) }
            }
            #expect(error?.rpcError.code == .deadlineExceeded)
            #expect(try await fake.requests().isEmpty)
        }
    }

    @Test func wrongKeyIsInternalWithAGenericMessageAndNoKey() async throws {
        let wrongKey = "sk-wrong-0123456789abcdef"
        try await FakeOpenAIServer.with { fake async throws in
            let error = await #expect(throws: OpenAIError.self) {
                try await withEditor(fake, apiKey: wrongKey) { try await $0.edit(request(), deadline: Self.soon()) }
            }
            let failure = try #require(error)
            #expect(failure.kind == .misconfigured)
            #expect(failure.rpcError == RPCError(code: .internalError, message: "Internal error"))
            // Neither the caller's message nor the logged description carries the key or OpenAI's
            // message (which echoes part of it).
            for text in ["\(failure)", failure.rpcError.description] {
                #expect(!text.contains(wrongKey) && !text.contains("0123") && !text.contains("Incorrect API key"), "\(text)")
            }
            #expect("\(failure)".contains("invalid_api_key"))
            #expect(try await fake.requests().map(\.keyOK) == [false])
        }
    }

    @Test(arguments: ["FAKE_BAD_JSON", "FAKE_NOT_PNG"])
    func unusableSuccessIsInternal(word: String) async throws {
        try await FakeOpenAIServer.with { fake async throws in
            let error = await #expect(throws: OpenAIError.self) {
                try await withEditor(fake) { try await $0.edit(request(word), deadline: Self.soon()) }
            }
            #expect(error?.kind == .badResponse)
            #expect(error?.rpcError == RPCError(code: .internalError, message: "Internal error"))
            #expect(try await fake.requests().count == 1)
        }
    }

    @Test func unreachableBackendIsUnavailableAfterBoundedAttempts() async throws {
        let http = CurlHTTPClient(threads: 1)
        // Port 1 on loopback: nothing listens, the connection is refused at once.
        let configuration = OpenAIConfiguration(apiKey: "sk-x", baseURL: "http://127.0.0.1:1/v1", maxAttempts: 3,
                                                initialBackoff: .milliseconds(10), maxBackoff: .milliseconds(20))
        let error = await #expect(throws: OpenAIError.self) {
            try await OpenAIImageEditor(configuration: configuration, http: http).edit(request(), deadline: Self.soon())
        }
        await http.shutdown()
        #expect(error?.kind == .unavailable)
        #expect(error?.rpcError.code == .unavailable)
        #expect(error?.message.contains("attempt") == true)
    }

    @Test func concurrentEditsRunInParallel() async throws {
        try await FakeOpenAIServer.with { fake async throws in
            let start = ContinuousClock.now
            let sizes = try await withEditor(fake, threads: OpenAIImageEditor.recommendedHTTPThreads) { editor in
                try await withThrowingTaskGroup(of: Int?.self) { group in
                    for _ in 0..<8 {
                        group.addTask { TestPNG.dimensions(try await editor.edit(request("FAKE_SLOW:1000"), deadline: Self.soon()))?.width }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
            }
            let elapsed = ContinuousClock.now - start
            #expect(sizes == Array(repeating: 256, count: 8))
            // One slow edit takes 1 s; eight in series would take 8 s.
            #expect(elapsed < .seconds(6), "took \(elapsed)")
            #expect(try await fake.requests().count == 8)
        }
    }
}
