internal import CCurl
import NIOPosix

/// One HTTP request for ``CurlHTTPClient``.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// Whole-request time limit; the call fails with ``HTTPClientError/timedOut`` past it.
    public var timeout: Duration

    public init(method: String = "GET", url: String, headers: [(name: String, value: String)] = [], body: [UInt8] = [], timeout: Duration = .seconds(30)) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }
}

/// A response: status, headers (names lower-cased) and the whole body.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    /// The first value of header `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        let name = name.lowercased()
        return headers.first { $0.name == name }?.value
    }

    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// Transport failures: no HTTP status was received.
public enum HTTPClientError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Could not connect (refused, DNS, unreachable).
    case cannotConnect(String)
    /// The time limit passed.
    case timedOut
    /// The response was larger than the client's limit.
    case responseTooLarge(limit: Int)
    /// Anything else libcurl reported.
    case transport(String)

    public var description: String {
        switch self {
        case .cannotConnect(let detail): "cannot connect: \(detail)"
        case .timedOut: "timed out"
        case .responseTooLarge(let limit): "response larger than \(limit) bytes"
        case .transport(let detail): "transport error: \(detail)"
        }
    }
}

/// An HTTP/1.1 client on libcurl. Each request runs on one of the client's own threads (curl's
/// easy interface blocks), so callers on event loops or the Swift task pool are never blocked;
/// `threads` bounds how many requests run at once. Thread-safe.
public final class CurlHTTPClient: Sendable {
    /// Where requests run (internal: the multipart extension uses it too).
    let threads: NIOThreadPool
    /// Largest response body accepted.
    public let maxResponseBytes: Int

    public init(threads: Int = 8, maxResponseBytes: Int = 64 * 1024 * 1024) {
        Self.initialiseCurl
        self.threads = NIOThreadPool(numberOfThreads: max(1, threads))
        self.threads.start()
        self.maxResponseBytes = maxResponseBytes
    }

    private static let initialiseCurl: Void = {
        curl_global_init(Int(CURL_GLOBAL_DEFAULT))
    }()

    /// Sends `request` and returns the response, whatever its status. Throws
    /// ``HTTPClientError`` when no response arrived. Cancelling the task does not stop a request
    /// already running; its time limit does.
    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let limit = maxResponseBytes
        return try await withinTimeLimit(request) { request in try Self.perform(request, maxResponseBytes: limit) }
    }

    /// Runs `perform` on one of the client's threads within the request's time limit, counted
    /// from now: time spent queued behind other requests (all threads busy) counts too. When
    /// the limit passes while the request is still queued, the caller gets ``HTTPClientError/timedOut``
    /// at once, and the queued job does nothing when its turn comes.
    func withinTimeLimit(_ request: HTTPRequest, _ perform: @escaping @Sendable (HTTPRequest) throws -> HTTPResponse) async throws -> HTTPResponse {
        let deadline = ContinuousClock.now + request.timeout
        let threads = self.threads
        return try await withThrowingTaskGroup(of: HTTPResponse?.self) { group in
            group.addTask {
                try await threads.runIfActive { () throws -> HTTPResponse? in
                    let left = deadline - ContinuousClock.now
                    guard left > .milliseconds(1) else { return nil }
                    var limited = request
                    limited.timeout = left
                    return try perform(limited)
                }
            }
            group.addTask {
                try? await Task.sleep(until: deadline + .milliseconds(250), clock: .continuous)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let response = first else { throw HTTPClientError.timedOut }
            return response
        }
    }

    public func shutdown() async {
        try? await threads.shutdownGracefully()
    }

    /// What the write and header callbacks fill in.
    private final class Sink {
        var body: [UInt8] = []
        var headers: [(name: String, value: String)] = []
        var limit: Int
        var overflowed = false
        init(limit: Int) { self.limit = limit }
    }

    /// Runs `request` on the calling thread. With `multipart`, the body is those parts
    /// (curl's MIME API) and `request.body` is ignored.
    static func perform(_ request: HTTPRequest, multipart: [HTTPMultipartPart]? = nil, maxResponseBytes: Int) throws -> HTTPResponse {
        guard let handle = curl_easy_init() else { throw HTTPClientError.transport("curl_easy_init failed") }
        defer { curl_easy_cleanup(handle) }
        let mime = try multipart.map { try makeMIME(handle, parts: $0) }
        defer { curl_mime_free(mime) }
        let sink = Sink(limit: maxResponseBytes)
        let sinkPointer = Unmanaged.passUnretained(sink).toOpaque()
        var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)

        var headerList: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headerList) }
        // curl adds "Expect: 100-continue" to large bodies; servers here answer directly.
        for line in request.headers.map({ "\($0.name): \($0.value)" }) + ["Expect:"] {
            headerList = curl_slist_append(headerList, line)
        }

        let result: CURLcode = request.url.withCString { url in
            request.method.withCString { method in
                errorBuffer.withUnsafeMutableBufferPointer { errors in
                    request.body.withUnsafeBufferPointer { body in
                        _ = imageedit_curl_setopt_ptr(handle, CURLOPT_URL, url)
                        _ = imageedit_curl_setopt_ptr(handle, CURLOPT_CUSTOMREQUEST, method)
                        _ = imageedit_curl_setopt_ptr(handle, CURLOPT_ERRORBUFFER, errors.baseAddress)
                        _ = imageedit_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
                        _ = imageedit_curl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 0)
                        let millis = request.timeout.components.seconds * 1000 + request.timeout.components.attoseconds / 1_000_000_000_000_000
                        _ = imageedit_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, max(1, Int(millis)))
                        _ = imageedit_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, max(1, min(Int(millis), 10_000)))
                        _ = imageedit_curl_setopt_ptr(handle, CURLOPT_HTTPHEADER, headerList)
                        if request.method == "HEAD" {
                            _ = imageedit_curl_setopt_long(handle, CURLOPT_NOBODY, 1)
                        }
                        if let mime {
                            _ = imageedit_curl_setopt_ptr(handle, CURLOPT_MIMEPOST, UnsafeRawPointer(mime))
                        } else if !request.body.isEmpty || ["POST", "PUT", "PATCH"].contains(request.method) {
                            _ = imageedit_curl_setopt_ptr(handle, CURLOPT_POSTFIELDS, body.baseAddress ?? UnsafePointer(bitPattern: 1))
                            _ = imageedit_curl_setopt_off(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
                        }
                        _ = imageedit_curl_setopt_ptr(handle, CURLOPT_WRITEDATA, sinkPointer)
                        _ = imageedit_curl_setopt_ptr(handle, CURLOPT_HEADERDATA, sinkPointer)
                        imageedit_curl_set_write_function(handle) { data, size, count, userData in
                            let sink = Unmanaged<Sink>.fromOpaque(userData!).takeUnretainedValue()
                            let total = size * count
                            if sink.body.count + total > sink.limit {
                                sink.overflowed = true
                                return 0
                            }
                            sink.body.append(contentsOf: UnsafeRawBufferPointer(start: data, count: total))
                            return total
                        }
                        imageedit_curl_set_header_function(handle) { data, size, count, userData in
                            let sink = Unmanaged<Sink>.fromOpaque(userData!).takeUnretainedValue()
                            let total = size * count
                            var bytes = Array(UnsafeRawBufferPointer(start: data, count: total))
                            while let last = bytes.last, last == 0x0D || last == 0x0A || last == 0x20 { bytes.removeLast() }
                            if bytes.starts(with: Array("HTTP/".utf8)) {
                                sink.headers.removeAll()  // a new response (after a 1xx) starts
                            } else if let colon = bytes.firstIndex(of: UInt8(ascii: ":")) {
                                var valueStart = colon + 1
                                while valueStart < bytes.count, bytes[valueStart] == 0x20 || bytes[valueStart] == 0x09 { valueStart += 1 }
                                let name = String(decoding: bytes[..<colon], as: UTF8.self).lowercased()
                                sink.headers.append((name, String(decoding: bytes[valueStart...], as: UTF8.self)))
                            }
                            return total
                        }
                        return curl_easy_perform(handle)
                    }
                }
            }
        }
        if sink.overflowed { throw HTTPClientError.responseTooLarge(limit: maxResponseBytes) }
        guard result == CURLE_OK else {
            let buffered = String(decoding: errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let detail = buffered.isEmpty ? String(cString: curl_easy_strerror(result)) : buffered
            switch result {
            case CURLE_OPERATION_TIMEDOUT: throw HTTPClientError.timedOut
            case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY: throw HTTPClientError.cannotConnect(detail)
            default: throw HTTPClientError.transport(detail)
            }
        }
        var status = 0
        _ = imageedit_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return HTTPResponse(status: status, headers: sink.headers, body: sink.body)
    }
}
