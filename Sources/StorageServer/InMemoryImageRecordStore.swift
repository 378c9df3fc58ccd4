import Synchronization

/// An ``ImageRecordStore`` in memory, for tests and database-free runs.
public final class InMemoryImageRecordStore: ImageRecordStore {
    private struct State {
        var records: [Int64: ImageRecord] = [:]
        var outbox: [String: Int64] = [:]
        var nextID: Int64 = 1
        var clock: Int64 = 1_700_000_000
    }

    private let state = Mutex(State())

    public init() {}

    /// The outbox, for tests.
    public var outbox: [String: Int64] { state.withLock { $0.outbox } }
    /// Every record, for tests.
    public var allRecords: [ImageRecord] { state.withLock { Array($0.records.values) } }

    public func scheduleCollection(keys: [String], notBefore: Int64, deadline: ContinuousClock.Instant?) async throws {
        state.withLock { state in for key in keys { state.outbox[key] = notBefore } }
    }

    public func cancelCollection(keys: [String], deadline: ContinuousClock.Instant?) async throws {
        state.withLock { state in for key in keys { state.outbox[key] = nil } }
    }

    public func insert(_ record: ImageRecord, releasing keys: [String], deadline: ContinuousClock.Instant?) async throws -> ImageRecord {
        state.withLock { state in
            var record = record
            record.id = state.nextID
            state.nextID += 1
            // A strictly increasing clock keeps "newest first" deterministic in tests.
            state.clock += 1
            record.createdAt = state.clock
            record.editedAt = state.clock
            state.records[record.id] = record
            for key in keys { state.outbox[key] = nil }
            return record
        }
    }

    public func list(userID: Int64, limit: Int, offset: Int, deadline: ContinuousClock.Instant?) async throws -> (records: [ImageRecord], total: Int) {
        state.withLock { state in
            let mine = state.records.values.filter { $0.userID == userID }.sorted { ($0.createdAt, $0.id) > ($1.createdAt, $1.id) }
            return (Array(mine.dropFirst(offset).prefix(limit)), mine.count)
        }
    }

    public func get(id: Int64, userID: Int64, deadline: ContinuousClock.Instant?) async throws -> ImageRecord? {
        state.withLock { $0.records[id].flatMap { $0.userID == userID ? $0 : nil } }
    }

    public func update(_ record: ImageRecord, releasing: [String], collecting: [String], deadline: ContinuousClock.Instant?) async throws -> ImageRecord? {
        state.withLock { state in
            guard let existing = state.records[record.id], existing.userID == record.userID else { return nil }
            var updated = record
            state.clock += 1
            updated.createdAt = existing.createdAt
            updated.editedAt = state.clock
            state.records[record.id] = updated
            for key in releasing { state.outbox[key] = nil }
            for key in collecting { state.outbox[key] = 0 }
            return updated
        }
    }

    public func delete(id: Int64, userID: Int64, deadline: ContinuousClock.Instant?) async throws -> ImageRecord? {
        state.withLock { state in
            guard let existing = state.records[id], existing.userID == userID else { return nil }
            state.records[id] = nil
            for key in existing.keys { state.outbox[key] = 0 }
            return existing
        }
    }

    public func dueCollections(now: Int64, limit: Int, deadline: ContinuousClock.Instant?) async throws -> [String] {
        state.withLock { state in Array(state.outbox.filter { $0.value <= now }.keys.sorted().prefix(limit)) }
    }

    public func checkReachable(deadline: ContinuousClock.Instant?) async throws {}
}
