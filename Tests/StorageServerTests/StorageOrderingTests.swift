import AuthTokens
import BlobStore
import Foundation
import OpenSSLCrypto
import Postgres
import RPCCore
import StorageAPI
@testable import StorageServer
import Synchronization
import Testing
import TestSupport

/// Wraps a record store and fails chosen steps, as a database outage mid-request would.
final class FailingRecordStore: ImageRecordStore {
    struct Switches: Sendable {
        var schedule = false, insert = false, update = false, delete = false, cancel = false
    }
    let inner: any ImageRecordStore
    let switches = Mutex(Switches())
    init(_ inner: any ImageRecordStore) { self.inner = inner }

    private func check(_ failing: Bool) throws {
        if failing { throw PostgresError(kind: .connection, message: "injected database failure") }
    }
    func scheduleCollection(keys: [String], notBefore: Int64, deadline: ContinuousClock.Instant?) async throws {
        try check(switches.withLock { $0.schedule })
        try await inner.scheduleCollection(keys: keys, notBefore: notBefore, deadline: deadline)
    }
    func cancelCollection(keys: [String], deadline: ContinuousClock.Instant?) async throws {
        try check(switches.withLock { $0.cancel })
        try await inner.cancelCollection(keys: keys, deadline: deadline)
    }
    func insert(_ record: ImageRecord, releasing keys: [String], deadline: ContinuousClock.Instant?) async throws -> ImageRecord {
        try check(switches.withLock { $0.insert })
        return try await inner.insert(record, releasing: keys, deadline: deadline)
    }
    func list(userID: Int64, limit: Int, offset: Int, deadline: ContinuousClock.Instant?) async throws -> (records: [ImageRecord], total: Int) {
        try await inner.list(userID: userID, limit: limit, offset: offset, deadline: deadline)
    }
    func get(id: Int64, userID: Int64, deadline: ContinuousClock.Instant?) async throws -> ImageRecord? {
        try await inner.get(id: id, userID: userID, deadline: deadline)
    }
    func update(_ record: ImageRecord, releasing: [String], collecting: [String], deadline: ContinuousClock.Instant?) async throws -> ImageRecord? {
        try check(switches.withLock { $0.update })
        return try await inner.update(record, releasing: releasing, collecting: collecting, deadline: deadline)
    }
    func delete(id: Int64, userID: Int64, deadline: ContinuousClock.Instant?) async throws -> ImageRecord? {
        try check(switches.withLock { $0.delete })
        return try await inner.delete(id: id, userID: userID, deadline: deadline)
    }
    func dueCollections(now: Int64, limit: Int, deadline: ContinuousClock.Instant?) async throws -> [String] {
        try await inner.dueCollections(now: now, limit: limit, deadline: deadline)
    }
    func checkReachable(deadline: ContinuousClock.Instant?) async throws {}
}

/// A storage service over in-memory stores, with tokens for two users.
struct Fixture {
    let records = InMemoryImageRecordStore()
    let failing: FailingRecordStore
    let blobs = InMemoryBlobStore()
    let service: StorageServiceProvider
    let signer: TokenSigner
    let urlSigner: URLSigner

    init() throws {
        failing = FailingRecordStore(records)
        signer = TokenSigner(key: try Ed25519.PrivateKey())
        urlSigner = try URLSigner(secret: Crypto.randomBytes(32))
        service = StorageServiceProvider(
            records: failing, blobs: blobs, authenticator: AccessAuthenticator(verifier: TokenVerifier(keys: [signer.verificationKey])),
            urlSigner: urlSigner)
    }

    func context(user: Int64) throws -> RPCContext {
        let token = try signer.sign(TokenClaims(tokenType: "access", exp: unixNow() + 600, iat: unixNow(), jti: "t\(user)", userID: user))
        var metadata = Metadata()
        metadata.add("authorization", "Bearer \(token)")
        return RPCContext(metadata: metadata)
    }

    func create(user: Int64 = 1, prompt: String = "invert") async throws -> Image {
        let response = try await service.createImage(
            CreateImageRequest(original: content([1, 2, 3], "image/jpeg"), edited: content([4, 5, 6], "image/png"), prompt: prompt,
                               backend: "local", model: "local", appliedOperations: ["invert"]),
            context: try context(user: user))
        return try #require(response.image)
    }

    func content(_ data: [UInt8], _ type: String) -> ImageContent {
        ImageContent(data: data, contentType: type, width: 10, height: 8)
    }

    /// The two invariants of the write order: no record points at a missing object, and every
    /// object no record owns is in the outbox.
    func expectInvariants(sourceLocation: SourceLocation = #_sourceLocation) {
        let owned = Set(records.allRecords.flatMap(\.keys))
        let stored = blobs.keys
        #expect(owned.isSubset(of: stored), "a record points at a missing object", sourceLocation: sourceLocation)
        let outbox = Set(records.outbox.keys)
        #expect(stored.subtracting(owned).isSubset(of: outbox), "an unowned object is not in the outbox", sourceLocation: sourceLocation)
    }

    /// Runs the collector as if the grace period were over, and checks the store is exact.
    func expectCleanAfterCollection(sourceLocation: SourceLocation = #_sourceLocation) async {
        await service.collectGarbage(now: unixNow() + 3600)
        #expect(blobs.keys == Set(records.allRecords.flatMap(\.keys)), sourceLocation: sourceLocation)
        #expect(records.outbox.isEmpty, sourceLocation: sourceLocation)
    }
}

func expectCode(_ code: StatusCode, sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Void) async {
    do {
        try await body()
        Issue.record("expected \(code)", sourceLocation: sourceLocation)
    } catch {
        #expect(RPCError(mapping: error).code == code, "\(error)", sourceLocation: sourceLocation)
    }
}

@Suite struct StorageOrderingTests {
    @Test func createStoresBothObjectsAndTheRecord() async throws {
        let fixture = try Fixture()
        let image = try await fixture.create()
        #expect(fixture.blobs.keys.count == 2)
        #expect(fixture.records.allRecords.count == 1)
        #expect(fixture.records.outbox.isEmpty)
        #expect(image.originalUrl.hasPrefix("/blobs/images/1/"))
        #expect(image.urlsExpireAt >= unixNow() + 3600)
        fixture.expectInvariants()
    }

    @Test(arguments: [1, 2])
    func aFailedObjectWriteLeavesNothing(failingPut: Int) async throws {
        let fixture = try Fixture()
        var failures = InMemoryBlobStore.Failures()
        failures.failPutNumber = failingPut
        fixture.blobs.setFailures(failures)
        await expectCode(.unavailable) { _ = try await fixture.create() }
        #expect(fixture.records.allRecords.isEmpty)
        #expect(fixture.blobs.keys.isEmpty)
        #expect(fixture.records.outbox.isEmpty)
    }

    @Test func aFailedRecordInsertDeletesTheObjects() async throws {
        let fixture = try Fixture()
        fixture.failing.switches.withLock { $0.insert = true }
        await expectCode(.unavailable) { _ = try await fixture.create() }
        #expect(fixture.records.allRecords.isEmpty)
        #expect(fixture.blobs.keys.isEmpty)
        #expect(fixture.records.outbox.isEmpty)
    }

    @Test func whenCleanupFailsTooTheOutboxKeepsTheOrphansUntilCollected() async throws {
        let fixture = try Fixture()
        fixture.failing.switches.withLock { $0.insert = true }
        var failures = InMemoryBlobStore.Failures()
        failures.failDeletes = true
        fixture.blobs.setFailures(failures)
        await expectCode(.unavailable) { _ = try await fixture.create() }
        #expect(fixture.blobs.keys.count == 2)
        fixture.expectInvariants()
        // Not collected during the upload grace period…
        #expect(await fixture.service.collectGarbage() == 0)
        // …then collected once the store works again and the grace period is over.
        fixture.blobs.setFailures(InMemoryBlobStore.Failures())
        await fixture.expectCleanAfterCollection()
    }

    @Test func aFailedOutboxWriteWritesNothing() async throws {
        let fixture = try Fixture()
        fixture.failing.switches.withLock { $0.schedule = true }
        await expectCode(.unavailable) { _ = try await fixture.create() }
        #expect(fixture.blobs.keys.isEmpty)
        #expect(fixture.records.allRecords.isEmpty)
    }

    @Test func deleteRemovesEveryObjectAndTheRecord() async throws {
        let fixture = try Fixture()
        let image = try await fixture.create()
        _ = try await fixture.service.deleteImage(DeleteImageRequest(id: image.id), context: try fixture.context(user: 1))
        #expect(fixture.records.allRecords.isEmpty)
        #expect(fixture.blobs.keys.isEmpty)
        #expect(fixture.records.outbox.isEmpty)
        await expectCode(.notFound) { _ = try await fixture.service.deleteImage(DeleteImageRequest(id: image.id), context: try fixture.context(user: 1)) }
    }

    @Test func aDeleteWhoseObjectRemovalFailsLeavesThemToTheCollector() async throws {
        let fixture = try Fixture()
        let image = try await fixture.create()
        var failures = InMemoryBlobStore.Failures()
        failures.failDeletes = true
        fixture.blobs.setFailures(failures)
        _ = try await fixture.service.deleteImage(DeleteImageRequest(id: image.id), context: try fixture.context(user: 1))
        #expect(fixture.records.allRecords.isEmpty)
        fixture.expectInvariants()
        #expect(fixture.records.outbox.count == 2)
        fixture.blobs.setFailures(InMemoryBlobStore.Failures())
        // Due at once: no grace period for objects whose record is gone.
        #expect(await fixture.service.collectGarbage() == 2)
        #expect(fixture.blobs.keys.isEmpty)
    }

    @Test func aDeleteWhoseRecordDeleteFailsChangesNothing() async throws {
        let fixture = try Fixture()
        let image = try await fixture.create()
        fixture.failing.switches.withLock { $0.delete = true }
        await expectCode(.unavailable) { _ = try await fixture.service.deleteImage(DeleteImageRequest(id: image.id), context: try fixture.context(user: 1)) }
        #expect(fixture.records.allRecords.count == 1)
        #expect(fixture.blobs.keys.count == 2)
        fixture.expectInvariants()
    }

    @Test func updateReplacesObjectsAndCollectsTheOldOnes() async throws {
        let fixture = try Fixture()
        let image = try await fixture.create()
        let before = fixture.blobs.keys
        let updated = try await fixture.service.updateImage(
            UpdateImageRequest(id: image.id, original: fixture.content([7], "image/png"), edited: fixture.content([8], "image/png"), prompt: "blur"),
            context: try fixture.context(user: 1))
        #expect(updated.image?.prompt == "blur")
        #expect(fixture.blobs.keys.count == 2)
        #expect(fixture.blobs.keys.isDisjoint(with: before))
        #expect(fixture.records.outbox.isEmpty)
        // Only the edited version replaced; the prompt kept.
        let again = try await fixture.service.updateImage(
            UpdateImageRequest(id: image.id, edited: fixture.content([9], "image/png")), context: try fixture.context(user: 1))
        #expect(again.image?.prompt == "blur")
        #expect(fixture.blobs.keys.count == 2)
        fixture.expectInvariants()
    }

    @Test func aFailedUpdateKeepsTheOldVersionIntact() async throws {
        let fixture = try Fixture()
        let image = try await fixture.create()
        let before = fixture.blobs.keys
        fixture.failing.switches.withLock { $0.update = true }
        await expectCode(.unavailable) {
            _ = try await fixture.service.updateImage(
                UpdateImageRequest(id: image.id, original: fixture.content([7], "image/png"), edited: fixture.content([8], "image/png")),
                context: try fixture.context(user: 1))
        }
        #expect(fixture.blobs.keys == before)
        #expect(fixture.records.allRecords.first?.keys.sorted() == before.sorted())
        fixture.failing.switches.withLock { $0.update = false }
        var failures = InMemoryBlobStore.Failures()
        failures.failPutNumber = 2
        fixture.blobs.setFailures(failures)
        await expectCode(.unavailable) {
            _ = try await fixture.service.updateImage(
                UpdateImageRequest(id: image.id, original: fixture.content([7], "image/png"), edited: fixture.content([8], "image/png")),
                context: try fixture.context(user: 1))
        }
        #expect(fixture.blobs.keys == before)
        fixture.expectInvariants()
    }

    @Test func anotherUsersImageIsNotFoundEverywhere() async throws {
        let fixture = try Fixture()
        let image = try await fixture.create(user: 1)
        let other = try fixture.context(user: 2)
        await expectCode(.notFound) { _ = try await fixture.service.getImage(GetImageRequest(id: image.id), context: other) }
        await expectCode(.notFound) {
            _ = try await fixture.service.getImageContent(GetImageContentRequest(id: image.id, version: .original), context: other)
        }
        await expectCode(.notFound) {
            _ = try await fixture.service.updateImage(UpdateImageRequest(id: image.id, edited: fixture.content([1], "image/png")), context: other)
        }
        await expectCode(.notFound) { _ = try await fixture.service.deleteImage(DeleteImageRequest(id: image.id), context: other) }
        let list = try await fixture.service.listImages(ListImagesRequest(), context: other)
        #expect(list.totalCount == 0)
        #expect(fixture.records.allRecords.count == 1)
        #expect(fixture.blobs.keys.count == 2)
    }

    @Test func everyMethodNeedsAToken() async throws {
        let fixture = try Fixture()
        await expectCode(.unauthenticated) { _ = try await fixture.service.listImages(ListImagesRequest(), context: RPCContext()) }
        await expectCode(.unauthenticated) {
            _ = try await fixture.service.createImage(
                CreateImageRequest(original: fixture.content([1], "image/png"), edited: fixture.content([1], "image/png")), context: RPCContext())
        }
    }

    @Test func invalidInputIsInvalidArgument() async throws {
        let fixture = try Fixture()
        let context = try fixture.context(user: 1)
        for request in [
            CreateImageRequest(original: nil, edited: fixture.content([1], "image/png")),
            CreateImageRequest(original: fixture.content([], "image/png"), edited: fixture.content([1], "image/png")),
            CreateImageRequest(original: fixture.content([1], "text/plain"), edited: fixture.content([1], "image/png")),
            CreateImageRequest(original: fixture.content([1], "image/png"), edited: fixture.content([1], "image/png"), prompt: String(repeating: "p", count: 1001)),
        ] {
            await expectCode(.invalidArgument) { _ = try await fixture.service.createImage(request, context: context) }
        }
        await expectCode(.invalidArgument) { _ = try await fixture.service.listImages(ListImagesRequest(pageSize: 101), context: context) }
        #expect(fixture.blobs.keys.isEmpty)
    }

    @Test func listIsNewestFirstAndPaginated() async throws {
        let fixture = try Fixture()
        for index in 0..<5 { _ = try await fixture.create(prompt: "p\(index)") }
        let page = try await fixture.service.listImages(ListImagesRequest(pageSize: 2, offset: 1), context: try fixture.context(user: 1))
        #expect(page.totalCount == 5)
        #expect(page.images.map(\.prompt) == ["p3", "p2"])
    }

    @Test func signedLinksWorkUntilTheyExpireAndOnlyUnaltered() async throws {
        let fixture = try Fixture()
        let image = try await fixture.create()
        let url = try #require(URLComponents(string: image.editedUrl))
        let key = String(url.path.dropFirst("/blobs/".count))
        let expires = try #require(url.queryItems?.first { $0.name == "expires" }?.value.flatMap { Int64($0) })
        let signature = try #require(url.queryItems?.first { $0.name == "signature" }?.value)
        let blob = try await fixture.service.getSignedBlob(GetSignedBlobRequest(key: key, expires: expires, signature: signature), context: RPCContext())
        #expect(blob.data == [4, 5, 6])
        #expect(blob.contentType == "image/png")
        await expectCode(.permissionDenied) {
            _ = try await fixture.service.getSignedBlob(GetSignedBlobRequest(key: key, expires: expires + 1, signature: signature), context: RPCContext())
        }
        let otherKey = image.originalUrl.split(separator: "?")[0].dropFirst("/blobs/".count)
        await expectCode(.permissionDenied) {
            _ = try await fixture.service.getSignedBlob(GetSignedBlobRequest(key: String(otherKey), expires: expires, signature: signature), context: RPCContext())
        }
        let past = unixNow() - 1
        let stale = fixture.urlSigner.sign(key: key, expiresAt: Int(past)).split(separator: "=").last.map(String.init) ?? ""
        await expectCode(.permissionDenied) {
            _ = try await fixture.service.getSignedBlob(GetSignedBlobRequest(key: key, expires: past, signature: stale), context: RPCContext())
        }
    }
}
