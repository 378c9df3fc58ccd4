/// One stored image's metadata, as the storage service keeps it.
public struct ImageRecord: Sendable, Hashable {
    public var id: Int64
    public var userID: Int64
    public var prompt: String
    public var originalKey: String
    public var editedKey: String
    public var originalContentType: String
    public var editedContentType: String
    public var width: Int
    public var height: Int
    public var editedWidth: Int
    public var editedHeight: Int
    public var originalSizeBytes: Int
    public var editedSizeBytes: Int
    public var backend: String
    public var model: String
    public var appliedOperations: [String]
    /// Seconds since the epoch.
    public var createdAt: Int64
    public var editedAt: Int64

    public init(id: Int64 = 0, userID: Int64, prompt: String, originalKey: String, editedKey: String,
                originalContentType: String, editedContentType: String, width: Int, height: Int,
                editedWidth: Int, editedHeight: Int, originalSizeBytes: Int, editedSizeBytes: Int,
                backend: String, model: String, appliedOperations: [String], createdAt: Int64 = 0, editedAt: Int64 = 0) {
        self.id = id
        self.userID = userID
        self.prompt = prompt
        self.originalKey = originalKey
        self.editedKey = editedKey
        self.originalContentType = originalContentType
        self.editedContentType = editedContentType
        self.width = width
        self.height = height
        self.editedWidth = editedWidth
        self.editedHeight = editedHeight
        self.originalSizeBytes = originalSizeBytes
        self.editedSizeBytes = editedSizeBytes
        self.backend = backend
        self.model = model
        self.appliedOperations = appliedOperations
        self.createdAt = createdAt
        self.editedAt = editedAt
    }

    /// Both object keys.
    public var keys: [String] { [originalKey, editedKey] }
}

/// Image metadata and the object-collection outbox, kept together so that a record and the
/// bookkeeping of its objects change in one transaction.
///
/// The outbox (`storage_object_gc` in PostgreSQL) lists object keys that may exist without a
/// record pointing at them: keys about to be written (collected only after `notBefore`, which
/// covers the upload), and keys whose record is gone (collected at once). The storage service
/// removes a key from the outbox only after the record that owns it has committed, or after
/// deleting the object. So no object can be orphaned for good: at worst it waits for the
/// collector. See ``StorageServiceProvider`` for the order of every write.
public protocol ImageRecordStore: Sendable {
    /// Adds keys to the outbox, collectable from `notBefore` (seconds since the epoch).
    func scheduleCollection(keys: [String], notBefore: Int64, deadline: ContinuousClock.Instant?) async throws
    /// Removes keys from the outbox (their objects are deleted, or owned by a committed record).
    func cancelCollection(keys: [String], deadline: ContinuousClock.Instant?) async throws
    /// In one transaction: inserts the record and releases `keys` from the outbox.
    func insert(_ record: ImageRecord, releasing keys: [String], deadline: ContinuousClock.Instant?) async throws -> ImageRecord
    /// The user's records, newest first, and how many there are in all.
    func list(userID: Int64, limit: Int, offset: Int, deadline: ContinuousClock.Instant?) async throws -> (records: [ImageRecord], total: Int)
    /// The record if it exists and belongs to `userID`.
    func get(id: Int64, userID: Int64, deadline: ContinuousClock.Instant?) async throws -> ImageRecord?
    /// In one transaction: replaces the record (matched by id and user), releases `releasing`
    /// from the outbox, and schedules `collecting` (the replaced objects) for collection now.
    /// Returns nil when the record does not exist for this user.
    func update(_ record: ImageRecord, releasing: [String], collecting: [String], deadline: ContinuousClock.Instant?) async throws -> ImageRecord?
    /// In one transaction: deletes the record and schedules its objects for collection now.
    /// Returns the deleted record, or nil when it does not exist for this user.
    func delete(id: Int64, userID: Int64, deadline: ContinuousClock.Instant?) async throws -> ImageRecord?
    /// Outbox keys due for collection at `now`.
    func dueCollections(now: Int64, limit: Int, deadline: ContinuousClock.Instant?) async throws -> [String]
    /// Cheap reachability check for readiness.
    func checkReachable(deadline: ContinuousClock.Instant?) async throws
}
