#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import NIOPosix
import OpenSSLCrypto

/// A ``BlobStore`` in a folder of the local disk (`STORAGE_DIR`, by default `.data/blobs`): the
/// object `images/u/1/original.png` is the file `<root>/images/u/1/original.png`.
///
/// Writes are atomic and durable: the bytes go to a temporary file (`.tmp-<random>`) in the
/// object's folder, which is fsynced, renamed over the object, and the folder fsynced. A crash
/// leaves the old object or the new one, plus at worst a stale temporary file, which no read or
/// listing ever shows (no key may have a segment starting with `.`). Keys pass
/// ``BlobKey/validate(_:)``, so no key can name a path outside the root. Objects are plain
/// files; the last path component is never followed as a symbolic link.
///
/// Blocking file calls run on NIO's shared thread pool, never on the caller's task. Deadlines are
/// checked before each call starts. `presignedGetURL` returns nil: the gateway signs its own
/// URLs for this store (``URLSigner``). Thread-safe.
public struct FileBlobStore: BlobStore {
    /// The root folder, without a trailing `/`.
    public let root: String

    /// A store under `root` (relative to the working directory, or absolute). The folder is
    /// created on the first write or readiness check.
    public init(root: String) {
        var root = root.isEmpty ? "." : root
        while root.count > 1 && root.hasSuffix("/") { root.removeLast() }
        self.root = root
    }

    // MARK: BlobStore

    public func put(key: String, bytes: [UInt8], contentType: String, deadline: ContinuousClock.Instant?) async throws {
        try BlobKey.validate(key)
        try await run("put", key: key, deadline: deadline) { () throws(SystemCallError) in
            let temporary = try writeTemporary(key: key, bytes: bytes)
            try commit(temporary: temporary, key: key)
        }
    }

    public func get(key: String, deadline: ContinuousClock.Instant?) async throws -> [UInt8] {
        try BlobKey.validate(key)
        return try await run("get", key: key, deadline: deadline) { () throws(SystemCallError) in
            try POSIXFile.readAll(path(of: key), display: key)
        }
    }

    public func delete(key: String, deadline: ContinuousClock.Instant?) async throws {
        try BlobKey.validate(key)
        try await run("delete", key: key, deadline: deadline) { () throws(SystemCallError) in
            do throws(SystemCallError) {
                try posix("unlink", key) { unlink(path(of: key)) }
            } catch where [ENOENT, ENOTDIR, EISDIR].contains(error.code) {
                return
            }
            pruneEmptyFolders(above: key)
        }
    }

    public func exists(key: String, deadline: ContinuousClock.Instant?) async throws -> Bool {
        try BlobKey.validate(key)
        return try await run("exists", key: key, deadline: deadline) { () throws(SystemCallError) in
            try POSIXFile.fileType(path(of: key), display: key) == S_IFREG
        }
    }

    public func list(prefix: String, deadline: ContinuousClock.Instant?) async throws -> [String] {
        try BlobKey.validatePrefix(prefix)
        return try await run("list", key: prefix, deadline: deadline) { () throws(SystemCallError) in
            // Walk only the deepest folder the prefix names in full.
            let folder = prefix.lastIndex(of: "/").map { String(prefix[..<$0]) } ?? ""
            var keys: [String] = []
            try collect(folder: folder, prefix: prefix, into: &keys)
            return keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        }
    }

    /// Always nil: local objects are served by the gateway under URLs it signs itself.
    public func presignedGetURL(key: String, expiresIn: Duration) throws -> String? {
        try BlobKey.validate(key)
        return nil
    }

    /// Creates the root when missing and checks it is a folder this process can write.
    public func checkReachable(deadline: ContinuousClock.Instant?) async throws {
        try await run("check", key: "", deadline: deadline) { () throws(SystemCallError) in
            try makeRoot()
            guard try POSIXFile.fileType(root, display: "") == S_IFDIR else {
                throw SystemCallError(call: "stat", path: "", code: ENOTDIR)
            }
            try posix("access", "") { access(root, W_OK | X_OK) }
        }
    }

    // MARK: Steps (internal so tests can stop between them, as a crash would)

    /// The file that holds `key`.
    func path(of key: String) -> String { root + "/" + key }

    /// Writes `bytes` to a new temporary file beside `key`'s file, fsynced; returns its path.
    func writeTemporary(key: String, bytes: [UInt8]) throws(SystemCallError) -> String {
        let target = path(of: key)
        let folder = String(target[..<target.lastIndex(of: "/")!])
        let temporary = folder + "/.tmp-" + Crypto.hex(Crypto.randomBytes(12))
        try makeRoot()
        for attempt in 1...3 {
            try POSIXFile.makeDirectories(folder, root: root, display: key)
            do {
                try POSIXFile.writeNew(temporary, bytes, display: key)
                return temporary
            } catch where error.code == ENOENT && attempt < 3 {
                // A concurrent delete pruned the folder between mkdir and open: make it again.
                continue
            } catch {
                unlink(temporary)
                throw error
            }
        }
        throw SystemCallError(call: "open", path: key, code: ENOENT)
    }

    /// Renames the temporary file over `key`'s file and syncs the folder.
    func commit(temporary: String, key: String) throws(SystemCallError) {
        let target = path(of: key)
        do {
            try posix("rename", key) { rename(temporary, target) }
        } catch {
            unlink(temporary)
            throw error
        }
        try POSIXFile.syncDirectory(String(target[..<target.lastIndex(of: "/")!]), display: key)
    }

    private func makeRoot() throws(SystemCallError) {
        if try POSIXFile.fileType(root, display: "") == S_IFDIR { return }
        // The root's own parents may be missing too (".data/blobs" on a fresh checkout).
        var partial = root.hasPrefix("/") ? "" : "."
        for component in root.split(separator: "/") {
            partial += "/" + component
            if try POSIXFile.fileType(partial, display: "") == S_IFDIR { continue }
            do {
                try posix("mkdir", "") { mkdir(partial, POSIXFile.directoryMode) }
            } catch where error.code == EEXIST {
                continue
            }
        }
    }

    /// Removes the folders of `key` that are now empty, deepest first, stopping at the root or at
    /// the first folder that is not empty. Best effort.
    private func pruneEmptyFolders(above key: String) {
        var folder = key
        while let slash = folder.lastIndex(of: "/") {
            folder = String(folder[..<slash])
            if rmdir(path(of: folder)) != 0 { return }
        }
    }

    private func collect(folder: String, prefix: String, into keys: inout [String]) throws(SystemCallError) {
        let absolute = folder.isEmpty ? root : path(of: folder)
        let names: [String]
        do {
            names = try POSIXFile.entries(absolute, display: folder)
        } catch where [ENOENT, ENOTDIR].contains(error.code) {
            return
        }
        for name in names where !name.hasPrefix(".") {
            let key = folder.isEmpty ? name : folder + "/" + name
            // Descend only where keys that match the prefix can be.
            guard key.hasPrefix(prefix) || prefix.hasPrefix(key + "/") else { continue }
            switch try POSIXFile.fileType(path(of: key), display: key) {
            case S_IFREG?:
                if key.hasPrefix(prefix), (try? BlobKey.validate(key)) != nil { keys.append(key) }
            case S_IFDIR?:
                try collect(folder: key, prefix: prefix, into: &keys)
            default:
                continue
            }
        }
    }

    /// Runs `body` on the thread pool after checking the deadline; maps system errors.
    private func run<T: Sendable>(_ operation: String, key: String, deadline: ContinuousClock.Instant?,
                                  _ body: @escaping @Sendable () throws(SystemCallError) -> T) async throws(BlobStoreError) -> T {
        if let deadline, deadline <= .now {
            throw BlobStoreError(.unavailable, detail: "local \(operation) \(key): deadline passed")
        }
        do {
            return try await NIOThreadPool.singleton.runIfActive {
                do throws(SystemCallError) {
                    return try body()
                } catch {
                    throw Self.map(error, operation: operation)
                }
            }
        } catch let error as BlobStoreError {
            throw error
        } catch {
            throw BlobStoreError(.unavailable, detail: "local \(operation) \(key): \(error)")
        }
    }

    static func map(_ error: SystemCallError, operation: String) -> BlobStoreError {
        let detail = "local \(operation): \(error)"
        if operation == "check" { return BlobStoreError(.unavailable, detail: detail) }
        switch error.code {
        case ENOENT where operation == "get", ENOTDIR where operation == "get", ELOOP where operation == "get", EISDIR where operation == "get":
            return BlobStoreError(.notFound, detail: detail)
        case ENOTDIR, EISDIR:
            return BlobStoreError(.invalidKey, detail: detail + " (the key collides with another object's folder)")
        case EACCES, EPERM, EROFS, ENOSPC, EDQUOT, ENOENT:
            return BlobStoreError(.unavailable, detail: detail)
        default:
            return BlobStoreError(.internal, detail: detail)
        }
    }
}
