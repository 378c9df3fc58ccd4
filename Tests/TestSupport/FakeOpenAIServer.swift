import Foundation
import HTTPClient

/// `Tests/fakes/fake_openai.py` (a fake of OpenAI's `POST /v1/images/edits`) running as a
/// subprocess for one test. Start one per test: its script and request log are its own.
///
/// Use ``with(apiKey:_:)``, which stops it when the test body ends. The process also stops when
/// this object is released and when the test process exits (it watches its stdin pipe). Needs `python3` on `PATH` (or `PYTHON`).
public final class FakeOpenAIServer: @unchecked Sendable {  // Process is thread-safe for terminate/isRunning.
    public static let defaultAPIKey = "sk-fake-test-key"

    public let port: Int
    public let apiKey: String
    private let process: Process
    private let stdin: Pipe
    private let http = CurlHTTPClient(threads: 1)

    /// The `OPENAI_BASE_URL` to point a client at.
    public var baseURL: String { "http://127.0.0.1:\(port)/v1" }

    private init(port: Int, apiKey: String, process: Process, stdin: Pipe) {
        self.port = port
        self.apiKey = apiKey
        self.process = process
        self.stdin = stdin
    }

    deinit { stopProcess() }

    /// Starts a fake, runs `body` with it, and stops it however `body` ends.
    public static func with<T: Sendable>(apiKey: String = defaultAPIKey, _ body: (FakeOpenAIServer) async throws -> T) async throws -> T {
        let fake = try await start(apiKey: apiKey)
        do {
            let result = try await body(fake)
            await fake.stop()
            return result
        } catch {
            await fake.stop()
            throw error
        }
    }

    /// The fake's script, found from this file's path.
    public static var scriptPath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("fakes/fake_openai.py").path
    }

    /// Starts the fake on a free port and waits for its `PORT <n>` line.
    public static func start(apiKey: String = defaultAPIKey) async throws -> FakeOpenAIServer {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        let python = ProcessInfo.processInfo.environment["PYTHON"] ?? "python3"
        process.arguments = [python, scriptPath, "0", "--api-key", apiKey, "--exit-on-stdin-eof"]
        let stdin = Pipe(), stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        try process.run()
        let reader = stdout.fileHandleForReading
        let line: String = await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                var bytes: [UInt8] = []
                while !bytes.contains(UInt8(ascii: "\n")) {
                    let chunk = reader.availableData
                    if chunk.isEmpty { break }
                    bytes += chunk
                }
                continuation.resume(returning: String(decoding: bytes, as: UTF8.self))
            }
        }
        guard line.hasPrefix("PORT "), let port = Int(line.dropFirst(5).prefix { $0.isNumber }) else {
            process.terminate()
            throw FakeError("fake_openai.py did not start (first line: \(line.debugDescription))")
        }
        return FakeOpenAIServer(port: port, apiKey: apiKey, process: process, stdin: stdin)
    }

    /// Stops the fake and the HTTP client that talks to its admin routes. Idempotent.
    public func stop() async {
        stopProcess()
        await http.shutdown()
    }

    private func stopProcess() {
        try? stdin.fileHandleForWriting.close()
        if process.isRunning { process.terminate() }
    }

    /// One scripted answer for ``script(_:)``.
    public enum Answer: Sendable {
        /// An OpenAI error JSON answer with `status`, error `code` and `type`, and extra headers.
        case error(status: Int, code: String?, type: String = "invalid_request_error", message: String = "scripted error",
                   headers: [String: String] = [:])
        /// Handle the request normally, after `delayMilliseconds`.
        case pass(delayMilliseconds: Int = 0)
        /// A raw answer: status and body text, sent as `application/json`.
        case raw(status: Int, body: String)

        var json: [String: Any] {
            switch self {
            case let .error(status, code, type, message, headers):
                ["status": status, "headers": headers,
                 "error": ["message": message, "type": type, "code": code.map { $0 as Any } ?? NSNull()]]
            case let .pass(delay): ["pass": true, "delay_ms": delay]
            case let .raw(status, body): ["status": status, "body": body]
            }
        }
    }

    /// Queues answers for the next edit requests (`POST /_fake/next`).
    public func script(_ answers: [Answer]) async throws {
        let body = try JSONSerialization.data(withJSONObject: ["responses": answers.map(\.json)])
        let response = try await http.send(HTTPRequest(
            method: "POST", url: "http://127.0.0.1:\(port)/_fake/next",
            headers: [(name: "Content-Type", value: "application/json")], body: Array(body), timeout: .seconds(10)))
        guard response.status == 200 else { throw FakeError("/_fake/next answered \(response.status)") }
    }

    /// An edit request the fake received (its image bytes are not kept).
    public struct RecordedRequest: Sendable, Decodable {
        public struct File: Sendable, Decodable {
            public struct PNGHeader: Sendable, Decodable {
                public let width: Int
                public let height: Int
                public let mode: String
            }
            public let filename: String
            public let contentType: String?
            public let size: Int
            public let png: PNGHeader?

            enum CodingKeys: String, CodingKey {
                case filename, size, png
                case contentType = "content_type"
            }
        }
        /// Whether the bearer key matched.
        public let keyOK: Bool
        public let contentType: String
        /// Text parts by name.
        public let fields: [String: String]
        /// File parts by name.
        public let files: [String: File]
        /// The status the fake answered.
        public let status: Int?

        enum CodingKeys: String, CodingKey {
            case fields, files, status
            case keyOK = "key_ok"
            case contentType = "content_type"
        }
    }

    /// Every edit request received so far, oldest first (`GET /_fake/requests`).
    public func requests() async throws -> [RecordedRequest] {
        let response = try await http.send(HTTPRequest(url: "http://127.0.0.1:\(port)/_fake/requests", timeout: .seconds(10)))
        guard response.status == 200 else { throw FakeError("/_fake/requests answered \(response.status)") }
        return try JSONDecoder().decode([RecordedRequest].self, from: Data(response.body))
    }

    struct FakeError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}
