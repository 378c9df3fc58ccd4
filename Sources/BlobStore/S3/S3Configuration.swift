/// Where and how ``S3BlobStore`` reaches its bucket. `description` hides the secret.
public struct S3Configuration: Sendable, CustomStringConvertible {
    public static let defaultRegion = "us-east-1"

    public var bucket: String
    public var region: String
    public var accessKeyID: String
    /// Secret: never log it.
    public var secretAccessKey: String
    /// For temporary (STS) credentials; presigned URLs then stop working when the token expires.
    public var sessionToken: String?
    /// An S3-compatible server (`http://127.0.0.1:9000`, MinIO, moto), addressed path-style
    /// (`<endpoint>/<bucket>/<key>`). `nil`: AWS, virtual-hosted style
    /// (`https://<bucket>.s3.<region>.amazonaws.com/<key>`; path-style when the bucket name has
    /// a dot, which TLS certificates for `*.s3...` do not cover).
    public var endpointURL: String?
    /// Retries of 5xx answers and connection failures.
    public var retry: S3RetryPolicy
    /// Time limit of one attempt when the caller gives no deadline (or a later one).
    public var attemptTimeout: Duration

    public init(bucket: String, region: String = S3Configuration.defaultRegion, accessKeyID: String, secretAccessKey: String,
                sessionToken: String? = nil, endpointURL: String? = nil, retry: S3RetryPolicy = S3RetryPolicy(),
                attemptTimeout: Duration = .seconds(30)) {
        self.bucket = bucket
        self.region = region
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.endpointURL = endpointURL
        self.retry = retry
        self.attemptTimeout = attemptTimeout
    }

    public var description: String {
        "S3Configuration(bucket: \(bucket), region: \(region), endpoint: \(endpointURL ?? "AWS"), accessKeyID: \(accessKeyID), secret: <redacted>)"
    }
}

/// Exponential backoff with jitter: attempt `n` (from 1) waits between half and all of
/// `min(maxDelay, baseDelay * 2^(n-1))` before attempt `n + 1`. Only 5xx answers and connection
/// failures are retried (every S3 call the store makes is idempotent); never past the deadline.
public struct S3RetryPolicy: Sendable, Hashable {
    /// Attempts in all, the first included (1 disables retries).
    public var maxAttempts: Int
    public var baseDelay: Duration
    public var maxDelay: Duration

    public init(maxAttempts: Int = 4, baseDelay: Duration = .milliseconds(100), maxDelay: Duration = .seconds(2)) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// The wait after failed attempt `attempt` (1-based).
    func delay(after attempt: Int) -> Duration {
        var ceiling = baseDelay
        for _ in 1..<max(1, attempt) where ceiling < maxDelay { ceiling *= 2 }
        ceiling = min(ceiling, maxDelay)
        let half = ceiling / 2
        let nanos = max(0, Int64(((ceiling - half) / .nanoseconds(1)).rounded(.down)))
        return half + .nanoseconds(Int64.random(in: 0...nanos))
    }
}
