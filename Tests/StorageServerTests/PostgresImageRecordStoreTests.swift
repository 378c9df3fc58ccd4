import Foundation
import Postgres
@testable import StorageServer
import Testing

let testDatabaseURL = ProcessInfo.processInfo.environment["TEST_DATABASE_URL"]

@Suite(.enabled(if: testDatabaseURL != nil, "needs TEST_DATABASE_URL (run `make test`)"))
struct PostgresImageRecordStoreTests {
    func store() async throws -> PostgresImageRecordStore {
        let store = PostgresImageRecordStore(pool: PostgresPool(url: testDatabaseURL!, size: 2))
        try await store.migrate()
        return store
    }

    func record(user: Int64, tag: String) -> ImageRecord {
        ImageRecord(userID: user, prompt: "p \(tag)", originalKey: "images/\(user)/\(tag)/original.png", editedKey: "images/\(user)/\(tag)/edited.png",
                    originalContentType: "image/png", editedContentType: "image/png", width: 3, height: 2, editedWidth: 3, editedHeight: 2,
                    originalSizeBytes: 10, editedSizeBytes: 11, backend: "local", model: "local", appliedOperations: ["invert", "rotate:90"])
    }

    @Test func recordsAndTheOutboxChangeTogether() async throws {
        let store = try await store()
        let user = Int64.random(in: 1_000_000...9_000_000)
        let tag = UUID().uuidString.lowercased()
        let new = record(user: user, tag: tag)
        let farFuture = Int64(Date().timeIntervalSince1970) + 3600
        try await store.scheduleCollection(keys: new.keys, notBefore: farFuture, deadline: nil)
        #expect(try await store.dueCollections(now: farFuture, limit: 1000, deadline: nil).contains(new.originalKey))
        #expect(!(try await store.dueCollections(now: farFuture - 7200, limit: 1000, deadline: nil).contains(new.originalKey)))

        var inserted = try await store.insert(new, releasing: new.keys, deadline: nil)
        #expect(inserted.id > 0)
        #expect(inserted.appliedOperations == ["invert", "rotate:90"])
        #expect(!(try await store.dueCollections(now: farFuture, limit: 1000, deadline: nil).contains(new.originalKey)))
        #expect(try await store.get(id: inserted.id, userID: user, deadline: nil) == inserted)
        #expect(try await store.get(id: inserted.id, userID: user + 1, deadline: nil) == nil)

        let oldEdited = inserted.editedKey
        inserted.editedKey = "images/\(user)/\(tag)/edited-2.png"
        inserted.prompt = "changed"
        let updated = try #require(try await store.update(inserted, releasing: [inserted.editedKey], collecting: [oldEdited], deadline: nil))
        #expect(updated.prompt == "changed")
        #expect(try await store.dueCollections(now: Int64(Date().timeIntervalSince1970) + 1, limit: 1000, deadline: nil).contains(oldEdited))
        #expect(try await store.update(record(user: user + 1, tag: "x"), releasing: [], collecting: [], deadline: nil) == nil)

        let page = try await store.list(userID: user, limit: 10, offset: 0, deadline: nil)
        #expect(page.total == 1)

        #expect(try await store.delete(id: inserted.id, userID: user + 1, deadline: nil) == nil)
        let deleted = try #require(try await store.delete(id: inserted.id, userID: user, deadline: nil))
        let due = try await store.dueCollections(now: Int64(Date().timeIntervalSince1970) + 1, limit: 1000, deadline: nil)
        #expect(Set(deleted.keys).isSubset(of: Set(due)))
        try await store.cancelCollection(keys: deleted.keys + [oldEdited], deadline: nil)
        #expect(try await store.get(id: inserted.id, userID: user, deadline: nil) == nil)
    }

    @Test func listIsNewestFirst() async throws {
        let store = try await store()
        let user = Int64.random(in: 1_000_000...9_000_000)
        var ids: [Int64] = []
        for index in 0..<3 { ids.append(try await store.insert(record(user: user, tag: "n\(index)-\(UUID().uuidString)"), releasing: [], deadline: nil).id) }
        let page = try await store.list(userID: user, limit: 2, offset: 0, deadline: nil)
        #expect(page.records.map(\.id) == [ids[2], ids[1]])
        #expect(page.total == 3)
        let last = try await store.list(userID: user, limit: 2, offset: 2, deadline: nil)
        #expect(last.records.map(\.id) == [ids[0]])
        #expect(last.total == 3)
        // Past the end there is no row to carry the total; it is still counted.
        let past = try await store.list(userID: user, limit: 2, offset: 4, deadline: nil)
        #expect(past.records.isEmpty && past.total == 3)
        let nobody = try await store.list(userID: user + 9_000_000, limit: 2, offset: 0, deadline: nil)
        #expect(nobody.records.isEmpty && nobody.total == 0)
    }
}
