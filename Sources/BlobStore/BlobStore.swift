/// Where image bytes live. Keys are made by the server (e.g. `images/<user>/<uuid>/original.png`),
/// never by clients, and must pass ``BlobKey/validate(_:)``: `A-Z a-z 0-9 . _ - /`, no leading
/// `/`, no empty segment, no segment starting with `.`, at most 1024 bytes.
///
/// Implementations: ``S3BlobStore`` (S3 or an S3-compatible server) and ``FileBlobStore`` (a
/// folder on local disk). Every method throws only ``BlobStoreError``. A `deadline` bounds the
/// whole call, retries included; `nil` means the store's own default time limits. All methods
/// are safe to call concurrently.
public protocol BlobStore: Sendable {
    /// Stores `bytes` under `key`, replacing any object there. Readers see the old object or the
    /// new one, never a part.
    func put(key: String, bytes: [UInt8], contentType: String, deadline: ContinuousClock.Instant?) async throws
    /// The object's bytes; ``BlobStoreError/Kind/notFound`` when there is none.
    func get(key: String, deadline: ContinuousClock.Instant?) async throws -> [UInt8]
    /// Removes the object. Idempotent: a missing object is success.
    func delete(key: String, deadline: ContinuousClock.Instant?) async throws
    /// Whether an object exists under `key`.
    func exists(key: String, deadline: ContinuousClock.Instant?) async throws -> Bool
    /// Every key starting with `prefix` (plain string prefix, as S3 means it), sorted; for
    /// orphan sweeps and tests.
    func list(prefix: String, deadline: ContinuousClock.Instant?) async throws -> [String]
    /// A URL a plain GET can fetch without credentials until `expiresIn` passes, or nil when this
    /// store cannot make one (the local store: the gateway signs its own URLs, see ``URLSigner``).
    func presignedGetURL(key: String, expiresIn: Duration) throws -> String?
    /// Cheap reachability check for readiness: throws ``BlobStoreError`` when the store cannot
    /// serve requests.
    func checkReachable(deadline: ContinuousClock.Instant?) async throws
}
