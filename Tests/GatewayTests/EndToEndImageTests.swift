import BlobStore
import Foundation
import HTTPClient
import ImageEditServices
import Logging
import ServiceConfig
import Testing
import TestSupport

let environment = ProcessInfo.processInfo.environment
let s3Configured = environment["TEST_S3_ENDPOINT"] != nil

func imageFixture(_ name: String) throws -> [UInt8] {
    Array(try Data(contentsOf: URL(fileURLWithPath: repositoryRoot + "/Tests/ImagingTests/Fixtures/" + name)))
}

/// A multipart/form-data body.
struct Multipart {
    static let boundary = "----imageedit-test-boundary-7MA4YWxkTrZu0gW"
    var body: [UInt8] = []

    mutating func file(_ name: String, _ data: [UInt8], filename: String = "upload.png", type: String = "image/png") {
        body += Array("--\(Self.boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"; filename=\"\(filename)\"\r\nContent-Type: \(type)\r\n\r\n".utf8)
        body += data + Array("\r\n".utf8)
    }

    mutating func field(_ name: String, _ value: String) {
        body += Array("--\(Self.boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8)
    }

    var finished: [UInt8] { body + Array("--\(Self.boundary)--\r\n".utf8) }
    static let header = ("Content-Type", "multipart/form-data; boundary=\(boundary)")
}

/// Where a stack keeps its objects and edits its images.
enum StackMode: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case localStoreLocalEngine = "local store + local engine"
    case s3AndOpenAI = "moto S3 + fake OpenAI"
    var testDescription: String { rawValue }
    static var available: [StackMode] { s3Configured ? [.localStoreLocalEngine, .s3AndOpenAI] : [.localStoreLocalEngine] }
}

/// All four services over real sockets, in this process.
final class LiveImageStack: @unchecked Sendable {
    let mode: StackMode
    let auth: RunningAuthService
    let storage: RunningStorageService
    let edit: RunningEditService
    let gateway: RunningApp
    let http: HTTPTestClient
    let blobs: any BlobStore
    let fake: FakeOpenAIServer?

    init(mode: StackMode, auth: RunningAuthService, storage: RunningStorageService, edit: RunningEditService, gateway: RunningApp,
         blobs: any BlobStore, fake: FakeOpenAIServer?) {
        self.mode = mode
        self.auth = auth
        self.storage = storage
        self.edit = edit
        self.gateway = gateway
        self.http = HTTPTestClient(port: gateway.port)
        self.blobs = blobs
        self.fake = fake
    }

    static func start(_ mode: StackMode, storageOverrides: [String: String] = [:], metrics: StackMetrics = StackMetrics()) async throws -> LiveImageStack {
        var logger = Logger(label: "e2e-images")
        logger.logLevel = .error
        let data = NSTemporaryDirectory() + "imageedit-e2e-\(UUID().uuidString)"
        let auth = try await startAuthService(
            ConfigEnvironment(["DATABASE_URL": testDatabaseURL!, "PASSWORD_HASH_ITERATIONS": "1000", "DATA_DIR": data, "DATABASE_POOL_SIZE": "4"]),
            port: 0, logger: logger, metrics: metrics.auth)
        var storageEnvironment = ["DATABASE_URL": testDatabaseURL!, "AUTH_ADDRESS": "127.0.0.1:\(auth.port)", "DATA_DIR": data,
                                  "STORAGE_DIR": data + "/blobs", "DATABASE_POOL_SIZE": "4"]
        var editEnvironment = ["AUTH_ADDRESS": "127.0.0.1:\(auth.port)"]
        var fake: FakeOpenAIServer?
        let blobs: any BlobStore
        switch mode {
        case .localStoreLocalEngine:
            blobs = FileBlobStore(root: data + "/blobs")
        case .s3AndOpenAI:
            let s3 = ["AWS_STORAGE_BUCKET_NAME": environment["TEST_S3_BUCKET"]!, "AWS_ACCESS_KEY_ID": environment["TEST_S3_ACCESS_KEY_ID"]!,
                      "AWS_SECRET_ACCESS_KEY": environment["TEST_S3_SECRET_ACCESS_KEY"]!, "AWS_ENDPOINT_URL": environment["TEST_S3_ENDPOINT"]!,
                      "AWS_S3_REGION_NAME": environment["TEST_S3_REGION"] ?? "us-east-1"]
            storageEnvironment.merge(s3) { $1 }
            guard case .s3(let configuration) = try BlobStoreConfiguration(ConfigEnvironment(s3)) else { throw CancellationError() }
            blobs = try S3BlobStore(configuration: configuration, httpClient: CurlHTTPClient(threads: 2))
            let server = try await FakeOpenAIServer.start()
            fake = server
            editEnvironment["OPENAI_API_KEY"] = server.apiKey
            editEnvironment["OPENAI_BASE_URL"] = server.baseURL
        }
        storageEnvironment.merge(storageOverrides) { $1 }
        let storage = try await startStorageService(ConfigEnvironment(storageEnvironment), port: 0, logger: logger, metrics: metrics.storage)
        let edit = try await startEditService(ConfigEnvironment(editEnvironment), port: 0, logger: logger, metrics: metrics.edit)
        let gatewayEnvironment = ConfigEnvironment([
            "AUTH_ADDRESS": "127.0.0.1:\(auth.port)", "STORAGE_ADDRESS": "127.0.0.1:\(storage.port)", "EDIT_ADDRESS": "127.0.0.1:\(edit.port)",
            "MAX_UPLOAD_BYTES": String(3 * 1024 * 1024), "EDIT_TIMEOUT_MS": "4000", "RPC_TIMEOUT_MS": "5000",
        ])
        let gateway = try await RunningApp.start { onRunning in
            try makeGateway(gatewayEnvironment, port: 0, logger: logger, metrics: metrics.gateway, onRunning: onRunning)
        }
        return LiveImageStack(mode: mode, auth: auth, storage: storage, edit: edit, gateway: gateway, blobs: blobs, fake: fake)
    }

    func stop() async {
        await gateway.stop()
        await edit.shutdown(gracePeriod: .seconds(1))
        await storage.shutdown(gracePeriod: .seconds(1))
        await auth.shutdown(gracePeriod: .seconds(1))
        await fake?.stop()
    }

    /// Registers and logs in a fresh user; returns (access token, user id).
    func newUser() async throws -> (token: String, id: Int) {
        let name = "img\(UInt32.random(in: 0...UInt32.max))"
        _ = try await http.send("POST", "/api/register/", json: ["username": name, "email": "\(name)@example.com", "password": "pictures please"])
        let login = try await http.send("POST", "/api/login/", json: ["username": name, "password": "pictures please"])
        let user = login.json["user"] as? [String: Any]
        return (try #require(login.json["access"] as? String), try #require(user?["id"] as? Int))
    }

    func upload(_ token: String, image: [UInt8]?, prompt: String? = nil, field: String = "image", filename: String = "photo.png",
                method: String = "POST", path: String = "/api/images/images/") async throws -> HTTPResponse {
        var form = Multipart()
        if let image { form.file(field, image, filename: filename) }
        if let prompt { form.field("prompt", prompt) }
        return try await http.send(method, path, body: form.finished, headers: [Multipart.header], bearer: token)
    }

    /// Object keys stored for a user, straight from the bucket or the folder.
    func objects(user: Int) async throws -> [String] {
        try await blobs.list(prefix: "images/\(user)/", deadline: .now + .seconds(10))
    }

    func count(_ token: String) async throws -> Int {
        try #require(try await http.send("GET", "/api/images/images/", bearer: token).json["count"] as? Int)
    }
}

@Suite(.enabled(if: testDatabaseURL != nil, "needs TEST_DATABASE_URL (run `make test`)"), .serialized)
struct EndToEndImageTests {
    @Test(arguments: StackMode.available)
    func createListGetDownloadPatchPutDelete(mode: StackMode) async throws {
        let stack = try await LiveImageStack.start(mode)
        let http = stack.http
        let (token, user) = try await stack.newUser()
        let png = try imageFixture("gradient-64x48.png")

        let created = try await stack.upload(token, image: png, prompt: "make it grayscale and mirror it")
        #expect(created.status == 201, "\(created.text)")
        let data = try #require(created.json["image_data"] as? [String: Any])
        let id = try #require(data["id"] as? Int)
        #expect(data["user"] as? Int == user)
        #expect(data["width"] as? Int == 64 && data["height"] as? Int == 48)
        #expect(data["content_type"] as? String == "image/png")
        #expect(created.json["prompt"] as? String == "make it grayscale and mirror it")
        for field in ["uploaded_at", "edited_at", "s3_image_url", "edited_image_url"] { #expect(data[field] is String, "\(field)") }
        if mode == .localStoreLocalEngine { #expect(data["applied_operations"] as? [String] == ["grayscale", "mirror"]) }
        #expect(try await stack.objects(user: user).count == 2)

        // The URLs work for a plain GET with no token.
        let originalURL = try #require(created.json["original_image_url"] as? String)
        let editedURL = try #require(created.json["dalle_edited_image_url"] as? String)
        let plain = CurlHTTPClient(threads: 1)
        let fetchedOriginal = try await plain.send(HTTPRequest(url: originalURL))
        #expect(fetchedOriginal.status == 200)
        #expect(fetchedOriginal.body == png)
        let fetchedEdited = try await plain.send(HTTPRequest(url: editedURL))
        #expect(fetchedEdited.status == 200)
        #expect(fetchedEdited.body.starts(with: TestPNG.signature))

        // Default prompt, JPEG upload, newest first.
        let second = try await stack.upload(token, image: try imageFixture("gradient-64x48.jpg"))
        #expect(second.status == 201)
        #expect(second.json["prompt"] as? String == "Generate an image based on this uploaded image")
        let list = try await http.send("GET", "/api/images/images/?page_size=1", bearer: token)
        #expect(list.json["count"] as? Int == 2)
        #expect(((list.json["results"] as? [[String: Any]])?.first?["id"] as? Int) == (second.json["image_data"] as? [String: Any])?["id"] as? Int)
        #expect(list.json["next"] is String)
        #expect(list.json["previous"] is NSNull)

        let shown = try await http.send("GET", "/api/images/images/\(id)/", bearer: token)
        #expect(shown.json["id"] as? Int == id)
        let original = try await http.send("GET", "/api/images/images/\(id)/original", bearer: token)
        #expect(original.status == 200 && original.body == png && original.header("content-type") == "image/png")
        let edited = try await http.send("GET", "/api/images/images/\(id)/edited", bearer: token)
        #expect(edited.status == 200 && edited.body.starts(with: TestPNG.signature))

        // PATCH: prompt only, image only, both; PUT likewise.
        let byPrompt = try await stack.upload(token, image: nil, prompt: "invert", method: "PATCH", path: "/api/images/images/\(id)/")
        #expect(byPrompt.status == 200, "\(byPrompt.text)")
        #expect(byPrompt.json["prompt"] as? String == "invert")
        let byImage = try await stack.upload(token, image: try imageFixture("gradient-32x32-lossy.webp"), method: "PATCH", path: "/api/images/images/\(id)/")
        #expect(byImage.status == 200)
        #expect((byImage.json["image_data"] as? [String: Any])?["content_type"] as? String == "image/webp")
        #expect(byImage.json["prompt"] as? String == "invert")
        let both = try await stack.upload(token, image: png, prompt: "rotate left", method: "PUT", path: "/api/images/images/\(id)/")
        #expect(both.status == 200)
        #expect(both.json["prompt"] as? String == "rotate left")
        #expect(try await http.send("GET", "/api/images/images/\(id)/original", bearer: token).body == png)
        #expect(try await stack.objects(user: user).count == 4, "replaced objects are removed")

        // Another user sees none of it: 404 on every route.
        let (other, _) = try await stack.newUser()
        for (method, path) in [("GET", "/api/images/images/\(id)/"), ("GET", "/api/images/images/\(id)/original"),
                               ("GET", "/api/images/images/\(id)/edited"), ("DELETE", "/api/images/images/\(id)/")] {
            #expect(try await http.send(method, path, bearer: other).status == 404, "\(method) \(path)")
        }
        #expect(try await stack.upload(other, image: png, method: "PATCH", path: "/api/images/images/\(id)/").status == 404)
        #expect(try await stack.count(other) == 0)
        #expect(try await http.send("GET", "/api/images/images/", bearer: nil).status == 401)

        // DELETE removes the record and every object.
        #expect(try await http.send("DELETE", "/api/images/images/\(id)/", bearer: token).status == 204)
        #expect(try await http.send("GET", "/api/images/images/\(id)/", bearer: token).status == 404)
        #expect(try await http.send("DELETE", "/api/images/images/\(id)/", bearer: token).status == 404)
        #expect(try await stack.objects(user: user).count == 2)
        let secondID = try #require((second.json["image_data"] as? [String: Any])?["id"] as? Int)
        #expect(try await http.send("DELETE", "/api/images/images/\(secondID)", bearer: token).status == 204)
        #expect(try await stack.objects(user: user).isEmpty)
        await stack.stop()
    }

    @Test(arguments: StackMode.available)
    func badInputsAreRefusedAndLeaveNothingBehind(mode: StackMode) async throws {
        let stack = try await LiveImageStack.start(mode)
        let (token, user) = try await stack.newUser()
        let bomb = try imageFixture("bomb-100000x100000.png")
        let cases: [(String, [UInt8]?, String?, String, Int)] = [
            ("no image part", nil, "invert", "image", 400),
            ("a text file named .png", try imageFixture("text-named.png"), nil, "image", 400),
            ("a truncated PNG", try imageFixture("truncated.png"), nil, "image", 400),
            ("a 0-byte file", [], nil, "image", 400),
            ("a 100000x100000 header", bomb, nil, "image", 400),
            ("a prompt over 1000 characters", try imageFixture("gradient-64x48.png"), String(repeating: "a", count: 1001), "image", 400),
            ("a wrong field name", try imageFixture("gradient-64x48.png"), nil, "file", 400),
            ("an oversized body", [UInt8](repeating: 0x89, count: 4 * 1024 * 1024), nil, "image", 413),
        ]
        for (what, image, prompt, field, status) in cases {
            let response = try await stack.upload(token, image: image, prompt: prompt, field: field)
            #expect(response.status == status, "\(what): \(response.text)")
            #expect((response.json["error"] as? String)?.isEmpty == false, "\(what)")
        }
        let missingType = try await stack.http.send("POST", "/api/images/images/", body: Array("x".utf8), bearer: token)
        #expect(missingType.status == 415)
        #expect(try await stack.count(token) == 0)
        #expect(try await stack.objects(user: user).isEmpty)
        await stack.stop()
    }

    @Test(.enabled(if: s3Configured, "needs moto (TEST_S3_ENDPOINT) and the fake OpenAI"))
    func backendFailuresLeaveNothingBehind() async throws {
        let stack = try await LiveImageStack.start(.s3AndOpenAI)
        let (token, user) = try await stack.newUser()
        let png = try imageFixture("gradient-64x48.png")
        for (prompt, status) in [("FAKE_CONTENT_POLICY please", 400), ("FAKE_RATE_LIMIT", 503), ("FAKE_SERVER_ERROR", 503), ("FAKE_SLOW:10000", 504)] {
            let response = try await stack.upload(token, image: png, prompt: prompt)
            #expect(response.status == status, "\(prompt): \(response.text)")
        }
        #expect(try await stack.count(token) == 0)
        #expect(try await stack.objects(user: user).isEmpty)
        await stack.stop()
    }

    @Test func blobStoreDownAndStorageDownLeaveNothingBehind() async throws {
        // S3 that cannot be reached: the storage service answers UNAVAILABLE, no record is made.
        let unreachable = ["AWS_STORAGE_BUCKET_NAME": "nowhere", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y",
                           "AWS_ENDPOINT_URL": "http://127.0.0.1:1"]
        let stack = try await LiveImageStack.start(.localStoreLocalEngine, storageOverrides: unreachable)
        let (token, _) = try await stack.newUser()
        let png = try imageFixture("gradient-64x48.png")
        let down = try await stack.upload(token, image: png)
        #expect(down.status == 503, "\(down.text)")
        #expect(try await stack.count(token) == 0)

        // The storage service itself stopped: 503, and readiness says which.
        await stack.storage.shutdown(gracePeriod: .seconds(1))
        #expect(try await stack.upload(token, image: png).status == 503)
        let ready = try await stack.http.send("GET", "/readyz")
        #expect(ready.status == 503)
        #expect((ready.json["checks"] as? [String: String])?["storage"] == "unavailable")
        await stack.stop()
    }
}
