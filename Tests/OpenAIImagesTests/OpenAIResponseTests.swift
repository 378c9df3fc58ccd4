@testable import OpenAIImages
import RPCCore
import ServiceConfig
import Testing

/// Pure parts: answer classification, Retry-After, backoff, messages, configuration.
@Suite struct OpenAIResponseTests {
    static func errorJSON(code: String?, type: String = "invalid_request_error", message: String = "OpenAI says no") -> [UInt8] {
        let codeText = code.map { "\"\($0)\"" } ?? "null"
        return Array(#"{"error": {"message": "\#(message)", "type": "\#(type)", "param": null, "code": \#(codeText)}}"#.utf8)
    }

    enum Expected: Sendable, CustomStringConvertible {
        case fail(OpenAIError.Kind, StatusCode)
        case retry(OpenAIError.Kind)
        var description: String {
            switch self {
            case .fail(let kind, let code): "fail \(kind) \(code)"
            case .retry(let kind): "retry \(kind)"
            }
        }
    }

    @Test(arguments: [
        (400, errorJSON(code: "content_policy_violation"), Expected.fail(.contentPolicy, .invalidArgument)),
        (400, errorJSON(code: "moderation_blocked", type: "image_generation_user_error"), .fail(.contentPolicy, .invalidArgument)),
        (400, errorJSON(code: nil), .fail(.invalidRequest, .invalidArgument)),
        (400, Array("<html>bad</html>".utf8), .fail(.invalidRequest, .invalidArgument)),
        (413, Array("<html>413 Request Entity Too Large</html>".utf8), .fail(.invalidRequest, .invalidArgument)),
        (401, errorJSON(code: "invalid_api_key"), .fail(.misconfigured, .internalError)),
        (403, errorJSON(code: "unsupported_country_region_territory"), .fail(.misconfigured, .internalError)),
        (404, errorJSON(code: "model_not_found"), .fail(.misconfigured, .internalError)),
        (409, errorJSON(code: nil), .fail(.misconfigured, .internalError)),
        (429, errorJSON(code: "insufficient_quota", type: "insufficient_quota"), .fail(.quotaExhausted, .unavailable)),
        (429, errorJSON(code: "rate_limit_exceeded", type: "requests"), .retry(.rateLimited)),
        (429, [], .retry(.rateLimited)),
        (500, errorJSON(code: nil, type: "server_error"), .retry(.unavailable)),
        (502, Array("<html>Bad gateway</html>".utf8), .retry(.unavailable)),
        (503, errorJSON(code: nil, type: "server_error"), .retry(.unavailable)),
        (200, Array("{\"data\": [".utf8), .fail(.badResponse, .internalError)),
        (200, Array("{\"data\": []}".utf8), .fail(.badResponse, .internalError)),
        (200, Array("{\"data\": [{\"b64_json\": \"!!!\"}]}".utf8), .fail(.badResponse, .internalError)),
        (200, Array("{\"data\": [{\"url\": \"file:///etc/passwd\"}]}".utf8), .fail(.badResponse, .internalError)),
        (301, [], .fail(.misconfigured, .internalError)),
    ])
    func classification(status: Int, body: [UInt8], expected: Expected) {
        let outcome = OpenAIResponse.classify(status: status, body: body, retryAfter: nil)
        switch (outcome, expected) {
        case (.fail(let error), .fail(let kind, let code)):
            #expect(error.kind == kind)
            #expect(error.rpcError.code == code)
            #expect(error.httpStatus == status)
        case (.retry(let error, _), .retry(let kind)):
            #expect(error.kind == kind)
        default:
            Issue.record("HTTP \(status): got \(outcome), expected \(expected)")
        }
    }

    @Test func invalidRequestCarriesOpenAIsMessage() throws {
        guard case .fail(let error) = OpenAIResponse.classify(status: 400, body: Self.errorJSON(code: "invalid_value", message: "Invalid value: '300x300'."), retryAfter: nil) else {
            Issue.record("not a failure")
            return
        }
        #expect(error.rpcError == RPCError(code: .invalidArgument, message: "Invalid value: '300x300'."))
    }

    @Test func authenticationFailureKeepsNeitherMessageNorKey() throws {
        let body = Self.errorJSON(code: "invalid_api_key", message: "Incorrect API key provided: sk-ab**********wxyz.")
        guard case .fail(let error) = OpenAIResponse.classify(status: 401, body: body, retryAfter: nil) else {
            Issue.record("not a failure")
            return
        }
        #expect(!error.description.contains("sk-ab") && !error.description.contains("wxyz"))
        #expect(error.description.contains("invalid_api_key"))
    }

    @Test func retryAfterIsPassedOnForRetries() {
        guard case .retry(_, let after) = OpenAIResponse.classify(status: 429, body: [], retryAfter: .seconds(2)) else {
            Issue.record("not a retry")
            return
        }
        #expect(after == .seconds(2))
    }

    @Test func successWithB64JSONAndWithURL() {
        guard case .image(let bytes) = OpenAIResponse.classify(status: 200, body: Array(#"{"created": 1, "data": [{"b64_json": "iVBORw0KGgo="}]}"#.utf8), retryAfter: nil) else {
            Issue.record("not an image")
            return
        }
        #expect(bytes == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        guard case .download(let url) = OpenAIResponse.classify(status: 200, body: Array(#"{"data": [{"url": "https://x.test/a.png"}]}"#.utf8), retryAfter: nil) else {
            Issue.record("not a download")
            return
        }
        #expect(url == "https://x.test/a.png")
    }

    @Test(arguments: [
        (nil, nil, nil),
        (nil, "2", Duration.seconds(2)),
        (nil, "0", .zero),
        (nil, "1.5", .milliseconds(1500)),
        ("250", "7", .milliseconds(250)),
        ("12.2", nil, .milliseconds(13)),
        (nil, "Wed, 21 Oct 2015 07:28:00 GMT", nil),
        (nil, "-3", nil),
        ("abc", nil, nil),
    ] as [(String?, String?, Duration?)])
    func retryAfterHeaders(milliseconds: String?, seconds: String?, expected: Duration?) {
        #expect(OpenAIResponse.retryAfter(milliseconds: milliseconds, seconds: seconds) == expected)
    }

    @Test(arguments: [
        (2, 1.0, Duration.milliseconds(100)),
        (3, 1.0, .milliseconds(200)),
        (4, 1.0, .milliseconds(400)),
        (5, 1.0, .milliseconds(500)),
        (40, 1.0, .milliseconds(500)),
        (3, 0.5, .milliseconds(100)),
        (3, 0.1, .milliseconds(100)),
    ])
    func backoffDoublesUpToTheCapWithJitter(attempt: Int, jitter: Double, expected: Duration) {
        #expect(Backoff.delay(beforeAttempt: attempt, initial: .milliseconds(100), maximum: .milliseconds(500), jitter: jitter) == expected)
    }

    @Test func randomJitterStaysInRange() {
        for _ in 0..<1000 { #expect((0.5...1.0).contains(Backoff.randomJitter())) }
    }

    @Test func clientMessageIsCleanedAndCapped() {
        #expect(OpenAIResponse.clientMessage("bad\nimage\u{7}") == "bad image")
        let long = OpenAIResponse.clientMessage(String(repeating: "x", count: 2000))
        #expect(long.count == OpenAIResponse.maxClientMessageLength && long.hasSuffix("…"))
    }

    @Test(arguments: OpenAIError.Kind.allKinds)
    func everyKindHasAFixedCallerMessageExceptInvalidRequest(kind: OpenAIError.Kind) {
        let error = OpenAIError(kind: kind, httpStatus: 418, code: "secret_code", message: "detail with sk-secret")
        if kind == .invalidRequest {
            #expect(error.rpcError.message == "detail with sk-secret")
        } else {
            #expect(!error.rpcError.message.contains("sk-secret") && !error.rpcError.message.contains("secret_code"))
        }
    }

    @Test func configurationFromEnvironment() throws {
        #expect(try OpenAIConfiguration(ConfigEnvironment([:])) == nil)
        #expect(try OpenAIConfiguration(ConfigEnvironment(["OPENAI_API_KEY": ""])) == nil)
        let defaults = try #require(try OpenAIConfiguration(ConfigEnvironment(["OPENAI_API_KEY": "sk-live"])))
        #expect(defaults.apiKey == "sk-live" && defaults.baseURL == "https://api.openai.com/v1" && defaults.model == "dall-e-2")
        #expect(defaults.editsURL == "https://api.openai.com/v1/images/edits")
        #expect(defaults.modelTakesResponseFormat)
        let custom = try #require(try OpenAIConfiguration(ConfigEnvironment([
            "OPENAI_API_KEY": "sk-live", "OPENAI_BASE_URL": "http://127.0.0.1:9/v1/", "OPENAI_IMAGE_MODEL": "gpt-image-1",
        ])))
        #expect(custom.editsURL == "http://127.0.0.1:9/v1/images/edits")
        #expect(!custom.modelTakesResponseFormat)
        #expect(!"\(custom)".contains("sk-live"))
    }

    @Test(arguments: [
        (["OPENAI_API_KEY": "k", "OPENAI_BASE_URL": "api.openai.com/v1"], "OPENAI_BASE_URL"),
        (["OPENAI_API_KEY": "k", "OPENAI_BASE_URL": "ftp://x"], "OPENAI_BASE_URL"),
        (["OPENAI_API_KEY": "k", "OPENAI_IMAGE_MODEL": "  "], "OPENAI_IMAGE_MODEL"),
    ])
    func badConfigurationNamesTheVariable(values: [String: String], variable: String) {
        #expect(throws: ConfigError.self) { try OpenAIConfiguration(ConfigEnvironment(values)) }
        do {
            _ = try OpenAIConfiguration(ConfigEnvironment(values))
        } catch {
            #expect(error.variable == variable)
        }
    }
}

extension OpenAIError.Kind {
    static let allKinds: [OpenAIError.Kind] = [
        .contentPolicy, .invalidRequest, .misconfigured, .rateLimited, .quotaExhausted, .unavailable, .deadlineExceeded,
        .badResponse, .cancelled,
    ]
}
