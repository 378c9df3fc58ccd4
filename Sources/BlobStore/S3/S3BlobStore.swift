public import HTTPClient

/// A ``BlobStore`` on S3 or an S3-compatible server: SigV4-signed requests sent with libcurl.
///
/// Every call is retried on 5xx answers and connection failures with backoff and jitter
/// (``S3RetryPolicy``), never past its deadline, then fails with
/// ``BlobStoreError/Kind/unavailable``; 4xx answers are not retried. S3's error codes map to
/// ``BlobStoreError`` kinds (`NoSuchKey` → notFound; `AccessDenied`, `SignatureDoesNotMatch`,
/// `InvalidAccessKeyId` → denied; `NoSuchBucket` → unavailable). Objects are read whole, so one
/// larger than the HTTP client's `maxResponseBytes` fails with ``BlobStoreError/Kind/internal``.
/// Thread-safe. The HTTP client is the caller's: it must outlive the store, and the caller shuts
/// it down.
public struct S3BlobStore: BlobStore {
    /// Where requests go: scheme, `Host` header value, and the path before the key.
    struct Endpoint: Sendable, Equatable {
        var scheme: String
        var host: String
        /// `""` (virtual-hosted) or `/<base>/<bucket>` (path-style).
        var bucketPath: String
    }

    public let configuration: S3Configuration
    let endpoint: Endpoint
    private let signer: SigV4Signer
    private let http: CurlHTTPClient
    private let metrics: BackendMetrics

    /// Throws ``BlobStoreError/Kind/invalidArgument`` when the bucket name or endpoint URL is malformed.
    /// Every attempt is counted and timed in `metrics` (backend `s3`, operation = HTTP method).
    public init(configuration: S3Configuration, httpClient: CurlHTTPClient,
                metrics: BackendMetrics = BackendMetrics(backend: "s3")) throws(BlobStoreError) {
        self.configuration = configuration
        self.endpoint = try Self.endpoint(for: configuration)
        self.signer = SigV4Signer(
            credentials: SigV4Credentials(accessKeyID: configuration.accessKeyID, secretAccessKey: configuration.secretAccessKey,
                                          sessionToken: configuration.sessionToken),
            region: configuration.region)
        self.http = httpClient
        self.metrics = metrics
    }

    static func endpoint(for configuration: S3Configuration) throws(BlobStoreError) -> Endpoint {
        let bucket = configuration.bucket
        guard (3...63).contains(bucket.utf8.count),
              bucket.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2E || $0 == 0x2D })
        else { throw BlobStoreError(.invalidArgument, detail: "bucket name must be 3-63 characters of a-z 0-9 . -") }
        guard let url = configuration.endpointURL else {
            let regional = "s3.\(configuration.region).amazonaws.com"
            return bucket.contains(".")
                ? Endpoint(scheme: "https", host: regional, bucketPath: "/\(bucket)")
                : Endpoint(scheme: "https", host: "\(bucket).\(regional)", bucketPath: "")
        }
        let parts = url.split(separator: "://", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0] == "http" || parts[0] == "https" else {
            throw BlobStoreError(.invalidArgument, detail: "endpoint URL must start with http:// or https://")
        }
        let rest = parts[1]
        let authority = rest.prefix { $0 != "/" }
        var base = String(rest.dropFirst(authority.count))
        while base.hasSuffix("/") { base.removeLast() }
        guard !authority.isEmpty, !authority.contains("@"), !authority.contains("?"), !base.contains("?"), !base.contains("#") else {
            throw BlobStoreError(.invalidArgument, detail: "endpoint URL must be scheme://host[:port][/path]")
        }
        return Endpoint(scheme: String(parts[0]), host: String(authority), bucketPath: "\(base)/\(bucket)")
    }

    // MARK: BlobStore

    public func put(key: String, bytes: [UInt8], contentType: String, deadline: ContinuousClock.Instant?) async throws {
        try BlobKey.validate(key)
        let response = try await send("PUT", key: key, headers: [(name: "content-type", value: contentType)], body: bytes, deadline: deadline)
        guard (200..<300).contains(response.status) else {
            throw S3ErrorMapping.error(status: response.status, body: response.body, what: "PUT \(key)")
        }
    }

    public func get(key: String, deadline: ContinuousClock.Instant?) async throws -> [UInt8] {
        try BlobKey.validate(key)
        let response = try await send("GET", key: key, deadline: deadline)
        guard response.status == 200 else {
            throw S3ErrorMapping.error(status: response.status, body: response.body, what: "GET \(key)")
        }
        return response.body
    }

    public func delete(key: String, deadline: ContinuousClock.Instant?) async throws {
        try BlobKey.validate(key)
        let response = try await send("DELETE", key: key, deadline: deadline)
        guard (200..<300).contains(response.status) else {
            let error = S3ErrorMapping.error(status: response.status, body: response.body, what: "DELETE \(key)")
            // S3 answers 204 for a missing key; some compatible servers answer NoSuchKey.
            if error.kind == .notFound { return }
            throw error
        }
    }

    /// A HEAD request. Its 404 has no body, so a missing bucket also reads as `false` here;
    /// ``checkReachable(deadline:)`` tells the two apart.
    public func exists(key: String, deadline: ContinuousClock.Instant?) async throws -> Bool {
        try BlobKey.validate(key)
        let response = try await send("HEAD", key: key, deadline: deadline)
        switch response.status {
        case 200..<300: return true
        case 404: return false
        default: throw S3ErrorMapping.error(status: response.status, body: response.body, what: "HEAD \(key)")
        }
    }

    public func list(prefix: String, deadline: ContinuousClock.Instant?) async throws -> [String] {
        try await list(prefix: prefix, pageSize: 1000, deadline: deadline)
    }

    /// ``list(prefix:deadline:)`` asking for at most `pageSize` (1...1000) keys a page, following
    /// continuation tokens to the end.
    public func list(prefix: String, pageSize: Int, deadline: ContinuousClock.Instant?) async throws(BlobStoreError) -> [String] {
        try BlobKey.validatePrefix(prefix)
        guard (1...1000).contains(pageSize) else { throw BlobStoreError(.invalidArgument, detail: "page size must be 1...1000") }
        var keys: [String] = []
        var token: String?
        repeat {
            var query = [(name: "list-type", value: "2"), (name: "max-keys", value: String(pageSize))]
            if !prefix.isEmpty { query.append((name: "prefix", value: prefix)) }
            if let token { query.append((name: "continuation-token", value: token)) }
            let response = try await send("GET", key: nil, query: query, deadline: deadline)
            guard response.status == 200 else {
                throw S3ErrorMapping.error(status: response.status, body: response.body, what: "LIST \(prefix)")
            }
            let page = try ListPage(response.body)
            keys += page.keys
            token = page.nextToken
        } while token != nil
        return keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }

    public func presignedGetURL(key: String, expiresIn: Duration) throws -> String? {
        try BlobKey.validate(key)
        let components = expiresIn.components
        let seconds = components.seconds + (components.attoseconds > 0 ? 1 : 0)
        guard (1...Int64(SigV4Signer.maxPresignedExpiry)).contains(seconds) else {
            throw BlobStoreError(.invalidArgument, detail: "presigned URL lifetime must be 1 s to 7 days")
        }
        let path = "\(endpoint.bucketPath)/\(key)"
        let presigned = signer.presign(SigV4Request(method: "GET", host: endpoint.host, path: path),
                                       expiresInSeconds: Int(seconds), at: .now)
        return "\(endpoint.scheme)://\(endpoint.host)\(SigV4Signer.encodePath(path))?\(presigned.query)"
    }

    /// HEAD on the bucket: fine when it exists and our credentials may use it.
    public func checkReachable(deadline: ContinuousClock.Instant?) async throws {
        let response = try await send("HEAD", key: nil, deadline: deadline)
        switch response.status {
        case 200..<300: return
        case 404: throw BlobStoreError(.unavailable, detail: "S3 bucket \(configuration.bucket) does not exist")
        default: throw S3ErrorMapping.error(status: response.status, body: response.body, what: "HEAD bucket \(configuration.bucket)")
        }
    }

    // MARK: Requests

    /// Signs and sends one request, retrying 5xx and connection failures; returns any other answer.
    func send(_ method: String, key: String?, query: [(name: String, value: String)] = [],
              headers: [(name: String, value: String)] = [], body: [UInt8] = [],
              deadline: ContinuousClock.Instant?) async throws(BlobStoreError) -> HTTPResponse {
        let path = key.map { "\(endpoint.bucketPath)/\($0)" } ?? (endpoint.bucketPath.isEmpty ? "/" : endpoint.bucketPath)
        let what = "\(method) \(key ?? "bucket \(configuration.bucket)")"
        var url = "\(endpoint.scheme)://\(endpoint.host)\(SigV4Signer.encodePath(path))"
        if !query.isEmpty { url += "?" + SigV4Signer.canonicalQuery(query) }
        let payloadHash = SigV4Signer.payloadHash(body)
        let policy = configuration.retry
        var attempt = 0
        var lastFailure: String?
        while true {
            attempt += 1
            var timeout = configuration.attemptTimeout
            if let deadline {
                let left = deadline - .now
                guard left > .milliseconds(1) else {
                    throw BlobStoreError(.unavailable, detail: (lastFailure.map { "\($0); " } ?? "S3 \(what): ")
                        + "deadline passed before attempt \(attempt)")
                }
                timeout = min(timeout, left)
            }
            let signed = signer.sign(
                SigV4Request(method: method, host: endpoint.host, path: path, query: query, headers: headers, payloadHash: payloadHash),
                at: .now)
            let failure: String
            let started = ContinuousClock.now
            do {
                let response = try await http.send(HTTPRequest(method: method, url: url, headers: signed.headers, body: body, timeout: timeout))
                metrics.record(operation: method, status: response.status, duration: .now - started)
                guard response.status >= 500 else { return response }
                failure = S3ErrorMapping.error(status: response.status, body: response.body, what: what).detail
            } catch let error as HTTPClientError {
                metrics.record(operation: method, status: nil, duration: .now - started)
                if case .responseTooLarge = error {
                    throw BlobStoreError(.internal, detail: "S3 \(what): \(S3ErrorMapping.describe(error))")
                }
                failure = "S3 \(what): \(S3ErrorMapping.describe(error))"
            } catch {
                throw BlobStoreError(.unavailable, detail: "S3 \(what): \(error)")
            }
            lastFailure = failure
            guard attempt < policy.maxAttempts else {
                throw BlobStoreError(.unavailable, detail: "\(failure) (gave up after \(attempt) attempts)")
            }
            let pause = policy.delay(after: attempt)
            if let deadline, ContinuousClock.now + pause >= deadline {
                throw BlobStoreError(.unavailable, detail: "\(failure) (no time left to retry after \(attempt) attempts)")
            }
            do {
                try await Task.sleep(for: pause)
            } catch {
                throw BlobStoreError(.unavailable, detail: "\(failure) (cancelled while waiting to retry)")
            }
        }
    }
}

/// One page of a ListObjectsV2 answer.
struct ListPage: Equatable {
    var keys: [String]
    /// Set when `IsTruncated` is true.
    var nextToken: String?

    init(keys: [String], nextToken: String?) {
        self.keys = keys
        self.nextToken = nextToken
    }

    init(_ body: [UInt8]) throws(BlobStoreError) {
        guard let root = XMLElement.parse(body), root.name == "ListBucketResult" else {
            throw BlobStoreError(.internal, detail: "S3 LIST: unreadable ListBucketResult")
        }
        keys = root.children("Contents").compactMap { $0.child("Key")?.text }
        let truncated = root.child("IsTruncated")?.text == "true"
        nextToken = nil
        if truncated {
            guard let token = root.child("NextContinuationToken")?.text, !token.isEmpty else {
                throw BlobStoreError(.internal, detail: "S3 LIST: truncated page without NextContinuationToken")
            }
            nextToken = token
        }
    }
}
