public import HTTPClient
public import Logging

/// Edits images through OpenAI's `POST /images/edits`.
///
/// Each edit is one multipart request sent through libcurl (``CurlHTTPClient/send(_:multipart:)``)
/// with parts `image` (`image.png`, `image/png`), `mask` (`mask.png`) when given, `prompt`,
/// `model` (always), `n=1`, `size` when given, and `response_format=b64_json` when the model
/// takes it (``OpenAIConfiguration/modelTakesResponseFormat``). An answer carrying a `url`
/// instead is downloaded with a plain GET (no API key: the URL is pre-signed and may be on
/// another host) within the same deadline. The result must be a PNG.
///
/// Retries: 429 (except `insufficient_quota`), 5xx and connection failures are retried up to
/// ``OpenAIConfiguration/maxAttempts`` times, waiting by exponential backoff with jitter or by
/// OpenAI's `Retry-After`, but never past the deadline: when the next wait would end after
/// it, the last failure is thrown at once. Other 4xx answers are never retried.
///
/// Concurrency: thread-safe; many edits may run at once. Each attempt occupies one of the
/// ``CurlHTTPClient``'s threads for up to the time left before the deadline (libcurl's easy
/// interface blocks), so give that client at least as many threads as edits you expect in
/// flight (``recommendedHTTPThreads``); beyond that, edits queue for a thread while their
/// deadline keeps running.
public final class OpenAIImageEditor: Sendable {
    /// A thread count for the ``CurlHTTPClient`` of an edit service: edits in flight at once.
    public static let recommendedHTTPThreads = 16

    public let configuration: OpenAIConfiguration
    private let http: CurlHTTPClient
    private let logger: Logger
    private let metrics: BackendMetrics

    /// - Parameters:
    ///   - http: shared, not owned: the caller shuts it down.
    ///   - logger: failures and retries are logged here (never the key, image or prompt).
    ///   - metrics: every attempt is counted and timed here (backend `openai`, operations
    ///     `edit` and `download`).
    public init(configuration: OpenAIConfiguration, http: CurlHTTPClient, logger: Logger = Logger(label: "imageedit.openai"),
                metrics: BackendMetrics = BackendMetrics(backend: "openai")) {
        self.configuration = configuration
        self.http = http
        self.logger = logger
        self.metrics = metrics
    }

    /// Edits `request.image` and returns the edited image's bytes (a PNG).
    ///
    /// - Parameter deadline: when the edit must be done, retries and download included; an
    ///   attempt still running then is cut off (libcurl's timeout is the time left).
    /// - Throws: ``OpenAIError`` only (it converts to an `RPCError`; see its table).
    ///   Cancelling the task stops waits between attempts, not an attempt under way.
    public func edit(_ request: ImageEditRequest, deadline: ContinuousClock.Instant) async throws -> [UInt8] {
        do {
            return try await attempts(request, deadline: deadline)
        } catch let failure {
            let level: Logger.Level = switch failure.kind {
            case .contentPolicy, .invalidRequest, .cancelled: .info
            case .misconfigured, .badResponse, .quotaExhausted: .error
            case .rateLimited, .unavailable, .deadlineExceeded: .warning
            }
            logger.log(level: level, "OpenAI image edit failed", metadata: ["error": "\(failure)", "model": "\(configuration.model)"])
            throw failure
        }
    }

    private func attempts(_ request: ImageEditRequest, deadline: ContinuousClock.Instant) async throws(OpenAIError) -> [UInt8] {
        let parts = multipartParts(for: request)
        let headers = [(name: "Authorization", value: "Bearer \(configuration.apiKey)"), (name: "Accept", value: "application/json")]
        var attempt = 0
        while true {
            attempt += 1
            if Task.isCancelled { throw OpenAIError(kind: .cancelled) }
            let remaining = ContinuousClock.now.duration(to: deadline)
            guard remaining > .zero else {
                throw OpenAIError(kind: .deadlineExceeded, message: "deadline passed before attempt \(attempt)")
            }
            let outcome: EditOutcome
            let started = ContinuousClock.now
            do {
                let response = try await http.send(
                    HTTPRequest(method: "POST", url: configuration.editsURL, headers: headers, timeout: remaining), multipart: parts)
                metrics.record(operation: "edit", status: response.status, duration: .now - started)
                let retryAfter = OpenAIResponse.retryAfter(milliseconds: response.header("retry-after-ms"), seconds: response.header("retry-after"))
                outcome = OpenAIResponse.classify(status: response.status, body: response.body, retryAfter: retryAfter)
            } catch {
                metrics.record(operation: "edit", status: nil, duration: .now - started)
                outcome = Self.transportOutcome(error, deadline: deadline)
            }

            switch outcome {
            case .image(let bytes):
                return try Self.checkedPNG(bytes)
            case .download(let url):
                return try await download(url, deadline: deadline)
            case .fail(let failure):
                throw failure
            case .retry(let failure, let retryAfter):
                guard attempt < configuration.maxAttempts else {
                    throw OpenAIError(kind: failure.kind, httpStatus: failure.httpStatus, code: failure.code,
                                      message: "\(failure.message) (after \(attempt) attempts)")
                }
                let wait = retryAfter ?? Backoff.delay(beforeAttempt: attempt + 1, initial: configuration.initialBackoff,
                                                       maximum: configuration.maxBackoff, jitter: Backoff.randomJitter())
                let resumeAt = ContinuousClock.now + wait
                guard resumeAt < deadline else {
                    throw OpenAIError(kind: failure.kind, httpStatus: failure.httpStatus, code: failure.code,
                                      message: "\(failure.message) (attempt \(attempt); no time left to retry)")
                }
                logger.warning("OpenAI image edit attempt failed; retrying", metadata: [
                    "attempt": "\(attempt)", "error": "\(failure)", "wait_ms": "\(wait.milliseconds)",
                ])
                do {
                    try await Task.sleep(until: resumeAt, clock: .continuous)
                } catch {
                    throw OpenAIError(kind: .cancelled)
                }
            }
        }
    }

    /// The multipart form for one edit.
    func multipartParts(for request: ImageEditRequest) -> [HTTPMultipartPart] {
        var parts: [HTTPMultipartPart] = [.file("image", filename: "image.png", contentType: "image/png", body: request.image)]
        if let mask = request.mask {
            parts.append(.file("mask", filename: "mask.png", contentType: "image/png", body: mask))
        }
        parts.append(.field("prompt", request.prompt))
        parts.append(.field("model", configuration.model))
        parts.append(.field("n", "1"))
        if let size = request.size { parts.append(.field("size", size)) }
        if configuration.modelTakesResponseFormat { parts.append(.field("response_format", "b64_json")) }
        return parts
    }

    /// Fetches an edited image OpenAI answered with as a URL.
    private func download(_ url: String, deadline: ContinuousClock.Instant) async throws(OpenAIError) -> [UInt8] {
        let remaining = ContinuousClock.now.duration(to: deadline)
        guard remaining > .zero else { throw OpenAIError(kind: .deadlineExceeded, message: "deadline passed before the download") }
        let response: HTTPResponse
        let started = ContinuousClock.now
        do {
            response = try await http.send(HTTPRequest(method: "GET", url: url, timeout: remaining))
            metrics.record(operation: "download", status: response.status, duration: .now - started)
        } catch {
            metrics.record(operation: "download", status: nil, duration: .now - started)
            switch Self.transportOutcome(error, deadline: deadline) {
            case .fail(let failure), .retry(let failure, _): throw failure
            case .image, .download: throw OpenAIError(kind: .unavailable, message: "download failed")
            }
        }
        guard response.status == 200 else {
            throw OpenAIError(kind: .unavailable, httpStatus: response.status, message: "downloading the edited image failed")
        }
        return try Self.checkedPNG(response.body)
    }

    /// How a request that got no HTTP answer ends: the deadline, or a retryable connection failure.
    static func transportOutcome(_ error: any Error, deadline: ContinuousClock.Instant) -> EditOutcome {
        switch error {
        case HTTPClientError.timedOut where ContinuousClock.now + .milliseconds(50) >= deadline:
            return .fail(OpenAIError(kind: .deadlineExceeded, message: "no answer before the deadline"))
        case HTTPClientError.responseTooLarge(let limit):
            return .fail(OpenAIError(kind: .badResponse, message: "answer larger than \(limit) bytes"))
        case let error as HTTPClientError:
            // Includes a connect timeout (libcurl caps it at 10 s) well before the deadline.
            return .retry(OpenAIError(kind: .unavailable, message: "\(error)"), after: nil)
        default:
            return .fail(OpenAIError(kind: .unavailable, message: "HTTP client unavailable (\(type(of: error)))"))
        }
    }

    static func checkedPNG(_ bytes: [UInt8]) throws(OpenAIError) -> [UInt8] {
        guard OpenAIResponse.isPNG(bytes) else {
            throw OpenAIError(kind: .badResponse, httpStatus: 200, message: "the edited image is not a PNG (\(bytes.count) bytes)")
        }
        return bytes
    }
}

extension Duration {
    /// Whole milliseconds, rounded down.
    var milliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }
}
