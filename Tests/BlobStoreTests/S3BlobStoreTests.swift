@testable import BlobStore
import Foundation
import HTTPClient
import Testing

/// The S3 server `make test` starts (scripts/moto.sh: moto with authentication on, presigned URLs
/// checked). Without it these tests are skipped locally, and fail under CI, where skipping would
/// hide a broken set-up.
enum MotoS3 {
    static let environment = ProcessInfo.processInfo.environment
    static let endpoint = environment["TEST_S3_ENDPOINT"]

    static func configuration(accessKeyID: String? = nil, secretAccessKey: String? = nil, bucket: String? = nil,
                              retry: S3RetryPolicy = S3RetryPolicy()) -> S3Configuration {
        S3Configuration(
            bucket: bucket ?? environment["TEST_S3_BUCKET"] ?? "imageedit-test",
            region: environment["TEST_S3_REGION"] ?? "us-east-1",
            accessKeyID: accessKeyID ?? environment["TEST_S3_ACCESS_KEY_ID"] ?? "",
            secretAccessKey: secretAccessKey ?? environment["TEST_S3_SECRET_ACCESS_KEY"] ?? "",
            endpointURL: endpoint, retry: retry)
    }

    static func store(_ configuration: S3Configuration = configuration()) throws -> S3BlobStore {
        try S3BlobStore(configuration: configuration, httpClient: SharedHTTP.client)
    }

    /// A key prefix no other test uses.
    static func prefix() -> String { "t/\(UUID().uuidString.lowercased())/" }
}

/// A plain GET with no credentials, as a browser would fetch a presigned URL.
func plainGET(_ url: String) async throws -> HTTPResponse {
    try await SharedHTTP.client.send(HTTPRequest(method: "GET", url: url, timeout: .seconds(10)))
}

@Suite(.enabled(if: MotoS3.endpoint != nil, "needs TEST_S3_ENDPOINT (run `make test`)"))
struct S3BlobStoreTests {
    @Test func putGetExistsListDeleteRoundTrip() async throws {
        let store = try MotoS3.store()
        let prefix = MotoS3.prefix()
        let key = prefix + "images/42/original.png"
        let bytes = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        #expect(try await store.exists(key: key, deadline: nil) == false)
        try await store.put(key: key, bytes: bytes, contentType: "image/png", deadline: .now + .seconds(10))
        try await store.put(key: prefix + "images/42/edited.png", bytes: [1, 2, 3], contentType: "image/png", deadline: nil)
        try await store.put(key: prefix + "empty", bytes: [], contentType: "application/octet-stream", deadline: nil)
        #expect(try await store.get(key: key, deadline: nil) == bytes)
        #expect(try await store.get(key: prefix + "empty", deadline: nil) == [])
        #expect(try await store.exists(key: key, deadline: nil))
        #expect(try await store.list(prefix: prefix, deadline: nil)
            == [prefix + "empty", prefix + "images/42/edited.png", prefix + "images/42/original.png"])
        #expect(try await store.list(prefix: prefix + "images/", deadline: nil).count == 2)

        try await store.delete(key: key, deadline: nil)
        try await store.delete(key: key, deadline: nil)  // idempotent
        #expect(try await store.exists(key: key, deadline: nil) == false)
        await expectBlobError(.notFound) { try await store.get(key: key, deadline: nil) }
        #expect(try await store.list(prefix: prefix, deadline: nil) == [prefix + "empty", prefix + "images/42/edited.png"])
        try await store.checkReachable(deadline: .now + .seconds(5))
    }

    @Test func listFollowsContinuationTokens() async throws {
        let store = try MotoS3.store()
        let prefix = MotoS3.prefix()
        let keys = (0..<23).map { prefix + "k\(String(format: "%03d", $0))" }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for key in keys {
                group.addTask { try await store.put(key: key, bytes: Array(key.utf8), contentType: "text/plain", deadline: nil) }
            }
            try await group.waitForAll()
        }
        #expect(try await store.list(prefix: prefix, pageSize: 5, deadline: nil) == keys)
        #expect(try await store.list(prefix: prefix, pageSize: 1, deadline: nil) == keys)
        #expect(try await store.list(prefix: prefix, pageSize: 23, deadline: nil) == keys)
        #expect(try await store.list(prefix: prefix, deadline: nil) == keys)
        #expect(try await store.list(prefix: prefix + "k01", pageSize: 4, deadline: nil) == Array(keys[10..<20]))
        await expectBlobError(.invalidArgument) { try await store.list(prefix: prefix, pageSize: 0, deadline: nil) }
    }

    @Test func presignedURLWorksWithAPlainGETThenExpires() async throws {
        let store = try MotoS3.store()
        let key = MotoS3.prefix() + "images/shared.webp"
        let bytes: [UInt8] = Array("RIFF....WEBPVP8 ".utf8)
        try await store.put(key: key, bytes: bytes, contentType: "image/webp", deadline: nil)
        let url = try #require(try store.presignedGetURL(key: key, expiresIn: .seconds(2)))
        let response = try await plainGET(url)
        #expect(response.status == 200)
        #expect(response.body == bytes)
        #expect(response.header("content-type") == "image/webp")
        // Tampering with the URL breaks the signature.
        let tampered = try await plainGET(url.replacingOccurrences(of: "X-Amz-Expires=2", with: "X-Amz-Expires=3"))
        #expect(tampered.status == 403)
        #expect(tampered.text.contains("SignatureDoesNotMatch"))
        try await Task.sleep(for: .milliseconds(3_200))
        let expired = try await plainGET(url)
        #expect(expired.status == 403)
        #expect(expired.text.contains("expired"))
    }

    @Test func presignedURLOfAMissingObjectIsNotFound() async throws {
        let url = try #require(try MotoS3.store().presignedGetURL(key: MotoS3.prefix() + "none", expiresIn: .seconds(60)))
        #expect(try await plainGET(url).status == 404)
    }

    /// Wrong secret, unknown key id, and a user without s3 permissions.
    @Test(arguments: ["wrong-secret", "unknown-key", "no-permission"])
    func wrongCredentialsAreDenied(case name: String) async throws {
        let environment = MotoS3.environment
        let configuration = switch name {
        case "wrong-secret": MotoS3.configuration(secretAccessKey: "not-the-secret")
        case "unknown-key": MotoS3.configuration(accessKeyID: "AKIAUNKNOWNUNKNOWN00")
        default: MotoS3.configuration(accessKeyID: environment["TEST_S3_NO_ACCESS_KEY_ID"],
                                      secretAccessKey: environment["TEST_S3_NO_ACCESS_SECRET_ACCESS_KEY"])
        }
        let store = try MotoS3.store(configuration)
        let started = ContinuousClock.now
        let error = await expectBlobError(.denied) {
            try await store.put(key: MotoS3.prefix() + "x", bytes: [1], contentType: "x", deadline: nil)
        }
        await expectBlobError(.denied) { try await store.get(key: MotoS3.prefix() + "x", deadline: nil) }
        await expectBlobError(.denied) { try await store.list(prefix: "t/", deadline: nil) }
        #expect(ContinuousClock.now - started < .seconds(20), "4xx answers must not be retried")
        #expect(error?.rpcError.code == .internalError)
        #expect(error?.rpcError.message == "Internal error")
        #expect(error.map { !"\($0)".contains("not-the-secret") } ?? true)
    }

    @Test func missingBucketIsUnavailable() async throws {
        let store = try MotoS3.store(MotoS3.configuration(bucket: "no-such-bucket-\(UInt32.random(in: 0...UInt32.max))"))
        let error = await expectBlobError(.unavailable) { try await store.get(key: "a", deadline: nil) }
        #expect(error?.detail.contains("NoSuchBucket") == true)
        await expectBlobError(.unavailable) { try await store.checkReachable(deadline: nil) }
    }

    @Test func invalidKeysNeverReachTheServer() async throws {
        let store = try MotoS3.store()
        await expectBlobError(.invalidKey) { try await store.put(key: "../x", bytes: [1], contentType: "x", deadline: nil) }
        await expectBlobError(.invalidKey) { try await store.get(key: "a//b", deadline: nil) }
    }
}

/// Failure paths that need no S3 at all: a closed port and a server answering 5xx.
@Suite struct S3FailureTests {
    static func store(endpoint: String, retry: S3RetryPolicy) throws -> S3BlobStore {
        try S3BlobStore(configuration: S3Configuration(bucket: "bucket-1", accessKeyID: "AKIA", secretAccessKey: "secret",
                                                       endpointURL: endpoint, retry: retry),
                        // A client of its own: these tests time retries against deadlines, so their
                        // requests must not queue behind the other suites' on a shared pool.
                        httpClient: CurlHTTPClient(threads: 2))
    }

    @Test func serverDownIsUnavailableWithinTheDeadline() async throws {
        // Port 1 on loopback: connection refused at once, every attempt.
        let store = try Self.store(endpoint: "http://127.0.0.1:1", retry: S3RetryPolicy(maxAttempts: 500, baseDelay: .milliseconds(50), maxDelay: .milliseconds(200)))
        let started = ContinuousClock.now
        let error = await expectBlobError(.unavailable) { try await store.get(key: "a", deadline: .now + .milliseconds(1_500)) }
        let elapsed = ContinuousClock.now - started
        // Slack for a loaded machine: no attempt starts after the deadline, none outlives it.
        #expect(elapsed < .seconds(8), "took \(elapsed): the retries should stop at the 1.5 s deadline, not run 500 attempts (over a minute)")
        #expect(elapsed > .milliseconds(600), "gave up after \(elapsed): retries should fill most of the deadline")
        #expect(error?.detail.contains("cannot connect") == true)
        #expect(error?.rpcError.code == .unavailable)
    }

    @Test func serverDownWithoutDeadlineStopsAfterMaxAttempts() async throws {
        let store = try Self.store(endpoint: "http://127.0.0.1:1", retry: S3RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(20)))
        let error = await expectBlobError(.unavailable) { try await store.checkReachable(deadline: nil) }
        #expect(error?.detail.contains("after 3 attempts") == true)
    }

    @Test(arguments: [(500, "InternalError"), (503, "SlowDown")])
    func fiveHundredsAreRetriedThenUnavailable(status: Int, code: String) async throws {
        let server = try StatusServer(status: status, code: code)
        defer { server.stop() }
        let store = try Self.store(endpoint: server.url, retry: S3RetryPolicy(maxAttempts: 4, baseDelay: .milliseconds(10)))
        let error = await expectBlobError(.unavailable) {
            try await store.put(key: "a/b", bytes: [1, 2], contentType: "x", deadline: .now + .seconds(30))
        }
        #expect(error?.detail.contains(code) == true)
        #expect(try await server.requestCount() == 4)
    }

    @Test(arguments: [(404, "NoSuchKey", BlobStoreError.Kind.notFound), (403, "AccessDenied", .denied), (400, "InvalidRequest", .internal)])
    func fourHundredsAreNotRetried(status: Int, code: String, kind: BlobStoreError.Kind) async throws {
        let server = try StatusServer(status: status, code: code)
        defer { server.stop() }
        let store = try Self.store(endpoint: server.url, retry: S3RetryPolicy(maxAttempts: 4, baseDelay: .milliseconds(10)))
        await expectBlobError(kind) { try await store.get(key: "a/b", deadline: nil) }
        #expect(try await server.requestCount() == 1)
    }

    @Test func retriesStopWhenTheDeadlineLeavesNoTime() async throws {
        let server = try StatusServer(status: 500, code: "InternalError")
        defer { server.stop() }
        let store = try Self.store(endpoint: server.url, retry: S3RetryPolicy(maxAttempts: 100, baseDelay: .milliseconds(400), maxDelay: .seconds(5)))
        let started = ContinuousClock.now
        let error = await expectBlobError(.unavailable) { try await store.get(key: "a", deadline: .now + .milliseconds(1_000)) }
        // It gives up when the next wait would cross the deadline (or, on a loaded machine, when
        // the deadline has passed), not after 100 attempts; the detail keeps the last failure:
        // the server's 500, or the deadline cutting off the last attempt (seen in CI on a
        // loaded machine: "timed out (no time left to retry after 3 attempts)").
        #expect(ContinuousClock.now - started < .seconds(8), "100 attempts with 400 ms+ waits would take far longer")
        let detail = error?.detail ?? ""
        #expect(detail.contains("InternalError") || detail.contains("timed out"), "\(String(describing: error))")
        let count = try await server.requestCount()
        #expect((1...4).contains(count), "\(count) attempts")
    }
}

/// Tests/BlobStoreTests/Fixtures/status_server.py, started for one test.
final class StatusServer: Sendable {
    let process: Process
    let input: Pipe
    let url: String

    init(status: Int, code: String) throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/status_server.py")
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, String(status), code]
        input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        var line: [UInt8] = []
        while let byte = try output.fileHandleForReading.read(upToCount: 1)?.first, byte != 0x0A { line.append(byte) }
        guard let port = Int(String(decoding: line, as: UTF8.self)) else { throw CocoaError(.fileReadCorruptFile) }
        url = "http://127.0.0.1:\(port)"
    }

    func requestCount() async throws -> Int {
        Int(try await SharedHTTP.client.send(HTTPRequest(url: url + "/__count")).text) ?? -1
    }

    func stop() {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }
}

@Test func s3IsConfiguredUnderCI() {
    if ProcessInfo.processInfo.environment["CI"] != nil {
        #expect(MotoS3.endpoint != nil, "CI must run the S3 tests: make test sets TEST_S3_ENDPOINT (scripts/moto.sh)")
    }
}
