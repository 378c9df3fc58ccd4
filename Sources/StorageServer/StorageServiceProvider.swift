public import AuthTokens
public import BlobStore
import Foundation
public import Logging
import OpenSSLCrypto
public import RPCCore
public import StorageAPI

/// Storage settings (see README, Configuration).
public struct StorageSettings: Sendable {
    /// How long response URLs stay valid. At least an hour, as the contract promises.
    public var urlTTLSeconds: Int64 = 2 * 3600
    /// Largest stored object.
    public var maxObjectBytes = 20 * 1024 * 1024
    /// How long a key written but not yet owned by a record is left alone by the collector.
    public var uploadGraceSeconds: Int64 = 15 * 60
    /// Path prefix of gateway-served local-store URLs.
    public var localURLPrefix = "/blobs/"

    public init() {}
}

/// The storage service's logic, behind the generated ``StorageService`` protocol.
///
/// ## Order of writes
/// Objects and records live in two systems with no shared transaction, so every change is
/// ordered to keep two invariants, whatever step fails:
/// 1. no record ever points at an object that does not exist;
/// 2. every object that no record points at is listed in the collection outbox, so the
///    collector (``collectGarbage(now:limit:)``) removes it eventually.
///
/// - **Create**: (1) list the new keys in the outbox, collectable after a grace period;
///   (2) write the objects; (3) in one transaction insert the record and release the keys.
///   A failure at (2) or (3) deletes what was written at once when it can; what it cannot is
///   in the outbox. A failure at (1) writes nothing.
/// - **Update**: like create for the new objects; the transaction at (3) also lists the
///   replaced objects in the outbox, collectable now; then they are deleted and released.
/// - **Delete**: (1) in one transaction delete the record and list its objects in the outbox;
///   (2) delete the objects; (3) release the keys. A failure after (1) leaves keys for the
///   collector; the record is gone either way, so nothing points at a missing object.
public final class StorageServiceProvider: StorageService {
    private let records: any ImageRecordStore
    private let blobs: any BlobStore
    private let authenticator: AccessAuthenticator
    private let urlSigner: URLSigner
    private let settings: StorageSettings
    private let logger: Logger

    public init(records: any ImageRecordStore, blobs: any BlobStore, authenticator: AccessAuthenticator,
                urlSigner: URLSigner, settings: StorageSettings = StorageSettings(), logger: Logger = Logger(label: "storage")) {
        self.records = records
        self.blobs = blobs
        self.authenticator = authenticator
        self.urlSigner = urlSigner
        self.settings = settings
        self.logger = logger
    }

    static let notFound = RPCError(code: .notFound, message: "Image not found")
    static let allowedTypes: [String: String] = ["image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"]

    // MARK: StorageService

    public func createImage(_ request: CreateImageRequest, context: RPCContext) async throws -> CreateImageResponse {
        let user = try await authenticator.authenticate(context)
        let original = try validated(request.original, field: "original")
        let edited = try validated(request.edited, field: "edited")
        try validatePrompt(request.prompt)
        let folder = "images/\(user.id)/\(UUID().uuidString.lowercased())"
        let originalKey = objectKey(folder: folder, kind: "original", contentType: original.contentType)
        let editedKey = objectKey(folder: folder, kind: "edited", contentType: edited.contentType)
        let keys = [originalKey, editedKey]

        try await records.scheduleCollection(keys: keys, notBefore: unixNow() + settings.uploadGraceSeconds, deadline: context.deadline)
        let record: ImageRecord
        do {
            try await putBoth((originalKey, original), (editedKey, edited), deadline: context.deadline)
            record = try await records.insert(
                ImageRecord(userID: user.id, prompt: request.prompt, originalKey: originalKey, editedKey: editedKey,
                            originalContentType: original.contentType, editedContentType: edited.contentType,
                            width: Int(original.width), height: Int(original.height),
                            editedWidth: Int(edited.width), editedHeight: Int(edited.height),
                            originalSizeBytes: original.data.count, editedSizeBytes: edited.data.count,
                            backend: request.backend, model: request.model, appliedOperations: request.appliedOperations),
                releasing: keys, deadline: context.deadline)
        } catch {
            await discard(keys)
            throw error
        }
        return CreateImageResponse(image: try image(record))
    }

    public func listImages(_ request: ListImagesRequest, context: RPCContext) async throws -> ListImagesResponse {
        let user = try await authenticator.authenticate(context)
        let pageSize = request.pageSize == 0 ? 10 : Int(request.pageSize)
        guard (1...100).contains(pageSize) else { throw RPCError(code: .invalidArgument, message: "page_size must be between 1 and 100") }
        let page = try await records.list(userID: user.id, limit: pageSize, offset: Int(request.offset), deadline: context.deadline)
        return ListImagesResponse(images: try page.records.map(image), totalCount: UInt64(page.total))
    }

    public func getImage(_ request: GetImageRequest, context: RPCContext) async throws -> GetImageResponse {
        let user = try await authenticator.authenticate(context)
        guard let record = try await records.get(id: request.id, userID: user.id, deadline: context.deadline) else { throw Self.notFound }
        return GetImageResponse(image: try image(record))
    }

    public func getImageContent(_ request: GetImageContentRequest, context: RPCContext) async throws -> GetImageContentResponse {
        let user = try await authenticator.authenticate(context)
        guard let record = try await records.get(id: request.id, userID: user.id, deadline: context.deadline) else { throw Self.notFound }
        let content: ImageContent
        switch request.version {
        case .original:
            content = ImageContent(data: try await blobs.get(key: record.originalKey, deadline: context.deadline),
                                   contentType: record.originalContentType, width: UInt32(record.width), height: UInt32(record.height))
        case .edited:
            content = ImageContent(data: try await blobs.get(key: record.editedKey, deadline: context.deadline),
                                   contentType: record.editedContentType, width: UInt32(record.editedWidth), height: UInt32(record.editedHeight))
        default:
            throw RPCError(code: .invalidArgument, message: "version must be ORIGINAL or EDITED")
        }
        return GetImageContentResponse(content: content)
    }

    public func updateImage(_ request: UpdateImageRequest, context: RPCContext) async throws -> UpdateImageResponse {
        let user = try await authenticator.authenticate(context)
        let edited = try validated(request.edited, field: "edited")
        let original = try request.original.map { try validated($0, field: "original") }
        if let prompt = request.prompt { try validatePrompt(prompt) }
        guard var record = try await records.get(id: request.id, userID: user.id, deadline: context.deadline) else { throw Self.notFound }

        let folder = String(record.editedKey.split(separator: "/").dropLast().joined(separator: "/"))
        let editedKey = objectKey(folder: folder, kind: "edited", contentType: edited.contentType)
        var newKeys = [editedKey]
        var replaced = [record.editedKey]
        var originalKey: String?
        if let original {
            let key = objectKey(folder: folder, kind: "original", contentType: original.contentType)
            originalKey = key
            newKeys.append(key)
            replaced.append(record.originalKey)
        }

        try await records.scheduleCollection(keys: newKeys, notBefore: unixNow() + settings.uploadGraceSeconds, deadline: context.deadline)
        let updated: ImageRecord
        do {
            if let original, let originalKey {
                try await putBoth((editedKey, edited), (originalKey, original), deadline: context.deadline)
                record.originalKey = originalKey
                record.originalContentType = original.contentType
                record.width = Int(original.width)
                record.height = Int(original.height)
                record.originalSizeBytes = original.data.count
            } else {
                try await blobs.put(key: editedKey, bytes: edited.data, contentType: edited.contentType, deadline: context.deadline)
            }
            record.editedKey = editedKey
            record.editedContentType = edited.contentType
            record.editedWidth = Int(edited.width)
            record.editedHeight = Int(edited.height)
            record.editedSizeBytes = edited.data.count
            if let prompt = request.prompt { record.prompt = prompt }
            record.backend = request.backend
            record.model = request.model
            record.appliedOperations = request.appliedOperations
            guard let result = try await records.update(record, releasing: newKeys, collecting: replaced, deadline: context.deadline) else {
                throw Self.notFound  // deleted meanwhile
            }
            updated = result
        } catch {
            await discard(newKeys)
            throw error
        }
        await discard(replaced)
        return UpdateImageResponse(image: try image(updated))
    }

    public func deleteImage(_ request: DeleteImageRequest, context: RPCContext) async throws -> DeleteImageResponse {
        let user = try await authenticator.authenticate(context)
        guard let deleted = try await records.delete(id: request.id, userID: user.id, deadline: context.deadline) else { throw Self.notFound }
        await discard(deleted.keys)
        return DeleteImageResponse()
    }

    public func getSignedBlob(_ request: GetSignedBlobRequest, context: RPCContext) async throws -> GetSignedBlobResponse {
        guard urlSigner.verify(key: request.key, expires: String(request.expires), signature: request.signature, now: Int(unixNow())) else {
            throw RPCError(code: .permissionDenied, message: "The link is invalid or has expired")
        }
        let data = try await blobs.get(key: request.key, deadline: context.deadline)
        return GetSignedBlobResponse(data: data, contentType: Self.contentType(forKey: request.key))
    }

    // MARK: Collection

    /// Deletes objects whose outbox entry is due, then releases them. Returns how many were
    /// collected. Safe to run concurrently with requests and on several instances.
    @discardableResult
    public func collectGarbage(now: Int64 = unixNow(), limit: Int = 100) async -> Int {
        guard let due = try? await records.dueCollections(now: now, limit: limit, deadline: .now + .seconds(30)) else { return 0 }
        var collected: [String] = []
        for key in due {
            do {
                try await blobs.delete(key: key, deadline: .now + .seconds(30))
                collected.append(key)
            } catch {
                logger.warning("object collection failed; will retry", metadata: ["key": .string(key), "error": .string(String(describing: error))])
            }
        }
        try? await records.cancelCollection(keys: collected, deadline: .now + .seconds(30))
        return collected.count
    }

    /// Readiness: the database and the blob store answer.
    public func checkReady() async throws {
        try await records.checkReachable(deadline: .now + .seconds(2))
        try await blobs.checkReachable(deadline: .now + .seconds(2))
    }

    // MARK: Helpers

    /// Deletes objects that no record owns, then releases them from the outbox. Failures are
    /// left to the collector (the keys stay in the outbox).
    private func discard(_ keys: [String]) async {
        var deleted: [String] = []
        for key in keys {
            if (try? await blobs.delete(key: key, deadline: .now + .seconds(10))) != nil { deleted.append(key) }
        }
        try? await records.cancelCollection(keys: deleted, deadline: .now + .seconds(10))
    }

    private func putBoth(_ first: (String, ImageContent), _ second: (String, ImageContent), deadline: ContinuousClock.Instant?) async throws {
        let blobs = self.blobs
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (key, content) in [first, second] {
                group.addTask { try await blobs.put(key: key, bytes: content.data, contentType: content.contentType, deadline: deadline) }
            }
            try await group.waitForAll()
        }
    }

    private func validated(_ content: ImageContent?, field: String) throws(RPCError) -> ImageContent {
        guard let content, !content.data.isEmpty else { throw RPCError(code: .invalidArgument, message: "\(field) image is required") }
        guard content.data.count <= settings.maxObjectBytes else {
            throw RPCError(code: .invalidArgument, message: "\(field) image is larger than \(settings.maxObjectBytes / (1024 * 1024)) MiB")
        }
        guard Self.allowedTypes[content.contentType] != nil else {
            throw RPCError(code: .invalidArgument, message: "\(field) content_type must be image/png, image/jpeg or image/webp")
        }
        guard content.width > 0, content.height > 0 else { throw RPCError(code: .invalidArgument, message: "\(field) width and height are required") }
        return content
    }

    private func validatePrompt(_ prompt: String) throws(RPCError) {
        guard prompt.count <= 1000 else { throw RPCError(code: .invalidArgument, message: "prompt must be at most 1000 characters") }
        guard !prompt.utf8.contains(0) else { throw RPCError(code: .invalidArgument, message: "prompt must not contain NUL characters") }
    }

    private func objectKey(folder: String, kind: String, contentType: String) -> String {
        let suffix = Crypto.hex(Crypto.randomBytes(4))
        return "\(folder)/\(kind)-\(suffix).\(Self.allowedTypes[contentType] ?? "bin")"
    }

    static func contentType(forKey key: String) -> String {
        if key.hasSuffix(".png") { return "image/png" }
        if key.hasSuffix(".jpg") { return "image/jpeg" }
        if key.hasSuffix(".webp") { return "image/webp" }
        return "application/octet-stream"
    }

    private func url(for key: String, expiresAt: Int64) throws -> String {
        if let presigned = try blobs.presignedGetURL(key: key, expiresIn: .seconds(settings.urlTTLSeconds)) { return presigned }
        return urlSigner.sign(path: settings.localURLPrefix, key: key, expiresAt: Int(expiresAt))
    }

    private func image(_ record: ImageRecord) throws -> Image {
        let expiresAt = unixNow() + settings.urlTTLSeconds
        return Image(
            id: record.id, userId: record.userID, prompt: record.prompt,
            originalUrl: try url(for: record.originalKey, expiresAt: expiresAt), editedUrl: try url(for: record.editedKey, expiresAt: expiresAt),
            urlsExpireAt: expiresAt, originalContentType: record.originalContentType, editedContentType: record.editedContentType,
            width: UInt32(record.width), height: UInt32(record.height),
            originalSizeBytes: UInt64(record.originalSizeBytes), editedSizeBytes: UInt64(record.editedSizeBytes),
            createdAt: record.createdAt, editedAt: record.editedAt,
            editedWidth: UInt32(record.editedWidth), editedHeight: UInt32(record.editedHeight),
            backend: record.backend, model: record.model, appliedOperations: record.appliedOperations)
    }
}
