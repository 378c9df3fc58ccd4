public import BlobStore
import Synchronization

/// A ``BlobStore`` in memory, with switches to make each operation fail, so the storage
/// service's ordering can be tested step by step.
public final class InMemoryBlobStore: BlobStore {
    public struct Failures: Sendable {
        /// Fail the Nth put from now (1 = the next one); 0 = never.
        public var failPutNumber = 0
        public var failDeletes = false
        public var failGets = false
        public init() {}
    }

    private struct State {
        var objects: [String: (bytes: [UInt8], contentType: String)] = [:]
        var failures = Failures()
        var puts = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// Every key stored.
    public var keys: Set<String> { state.withLock { Set($0.objects.keys) } }

    public func setFailures(_ failures: Failures) {
        state.withLock {
            $0.failures = failures
            $0.puts = 0
        }
    }

    public func put(key: String, bytes: [UInt8], contentType: String, deadline: ContinuousClock.Instant?) async throws {
        try BlobKey.validate(key)
        try state.withLock { state throws(BlobStoreError) in
            state.puts += 1
            if state.failures.failPutNumber == state.puts { throw BlobStoreError(.unavailable, detail: "injected put failure") }
            state.objects[key] = (bytes, contentType)
        }
    }

    public func get(key: String, deadline: ContinuousClock.Instant?) async throws -> [UInt8] {
        try state.withLock { state throws(BlobStoreError) in
            if state.failures.failGets { throw BlobStoreError(.unavailable, detail: "injected get failure") }
            guard let object = state.objects[key] else { throw BlobStoreError(.notFound, detail: key) }
            return object.bytes
        }
    }

    public func delete(key: String, deadline: ContinuousClock.Instant?) async throws {
        try state.withLock { state throws(BlobStoreError) in
            if state.failures.failDeletes { throw BlobStoreError(.unavailable, detail: "injected delete failure") }
            state.objects[key] = nil
        }
    }

    public func exists(key: String, deadline: ContinuousClock.Instant?) async throws -> Bool {
        state.withLock { $0.objects[key] != nil }
    }

    public func list(prefix: String, deadline: ContinuousClock.Instant?) async throws -> [String] {
        state.withLock { $0.objects.keys.filter { $0.hasPrefix(prefix) }.sorted() }
    }

    public func presignedGetURL(key: String, expiresIn: Duration) throws -> String? { nil }

    public func checkReachable(deadline: ContinuousClock.Instant?) async throws {}
}
