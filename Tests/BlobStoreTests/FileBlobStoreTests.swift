@testable import BlobStore
import Foundation
import Testing

/// A fresh folder under the system's temporary directory, removed at the end of the test.
struct TemporaryFolder: ~Copyable {
    let path: String
    init() {
        path = NSTemporaryDirectory() + "blobstore-tests-" + UUID().uuidString
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}

@Suite struct FileBlobStoreTests {
    let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0]

    @Test func putGetExistsListDeleteRoundTrip() async throws {
        let folder = TemporaryFolder()
        let store = FileBlobStore(root: folder.path + "/nested/blobs/")
        let key = "images/7/3f9e/original.png"
        #expect(try await store.exists(key: key, deadline: nil) == false)
        try await store.put(key: key, bytes: png, contentType: "image/png", deadline: nil)
        try await store.put(key: "images/7/3f9e/edited.png", bytes: [1], contentType: "image/png", deadline: nil)
        try await store.put(key: "images/70/x", bytes: [], contentType: "application/octet-stream", deadline: nil)
        try await store.put(key: "other", bytes: [2], contentType: "text/plain", deadline: nil)
        #expect(try await store.get(key: key, deadline: nil) == png)
        #expect(try await store.get(key: "images/70/x", deadline: nil) == [])
        #expect(try await store.exists(key: key, deadline: nil))
        #expect(try await store.list(prefix: "", deadline: nil)
            == ["images/7/3f9e/edited.png", "images/7/3f9e/original.png", "images/70/x", "other"])
        #expect(try await store.list(prefix: "images/7/", deadline: nil) == ["images/7/3f9e/edited.png", "images/7/3f9e/original.png"])
        #expect(try await store.list(prefix: "images/7", deadline: nil).count == 3)
        #expect(try await store.list(prefix: "images/7/3f9e/o", deadline: nil) == [key])
        #expect(try await store.list(prefix: "nothing/", deadline: nil) == [])
        // Replacing an object replaces it whole.
        try await store.put(key: key, bytes: [9, 9], contentType: "image/png", deadline: nil)
        #expect(try await store.get(key: key, deadline: nil) == [9, 9])

        try await store.delete(key: key, deadline: nil)
        try await store.delete(key: key, deadline: nil)  // idempotent
        try await store.delete(key: "never/existed", deadline: nil)
        #expect(try await store.exists(key: key, deadline: nil) == false)
        await expectBlobError(.notFound) { try await store.get(key: key, deadline: nil) }
        // Emptied folders are pruned; folders still holding objects stay.
        try await store.delete(key: "images/7/3f9e/edited.png", deadline: nil)
        #expect(!FileManager.default.fileExists(atPath: store.root + "/images/7"))
        #expect(FileManager.default.fileExists(atPath: store.root + "/images/70/x"))
        #expect(try store.presignedGetURL(key: "images/70/x", expiresIn: .seconds(60)) == nil)
    }

    @Test func missingObjectsAndFoldersAreNotFound() async throws {
        let folder = TemporaryFolder()
        let store = FileBlobStore(root: folder.path)
        try await store.put(key: "a/b/c", bytes: [1], contentType: "x", deadline: nil)
        for key in ["a/b/d", "a/b", "a", "z/z"] {
            await expectBlobError(.notFound, "\(key)") { try await store.get(key: key, deadline: nil) }
            #expect(try await store.exists(key: key, deadline: nil) == false)
        }
        // A key whose folder is an object (or whose file is a folder) is refused, not corrupted.
        await expectBlobError(.invalidKey) { try await store.put(key: "a/b/c/d", bytes: [1], contentType: "x", deadline: nil) }
        await expectBlobError(.invalidKey) { try await store.put(key: "a/b", bytes: [1], contentType: "x", deadline: nil) }
        #expect(try await store.get(key: "a/b/c", deadline: nil) == [1])
    }

    @Test(arguments: ["../escape", "/etc/passwd", "a/../../escape", "a//b", "a\\..\\b", "a\0b", ".tmp-x", "a/.tmp-x", "", "a/", "./a"])
    func traversalAndMalformedKeysAreRefusedEverywhere(key: String) async throws {
        let folder = TemporaryFolder()
        let store = FileBlobStore(root: folder.path + "/root")
        try FileManager.default.createDirectory(atPath: folder.path + "/root", withIntermediateDirectories: true)
        try Data("outside".utf8).write(to: URL(fileURLWithPath: folder.path + "/escape"))
        func expectInvalid(_ body: () async throws -> Void) async {
            await expectBlobError(.invalidKey, "\(key.debugDescription)", body)
        }
        await expectInvalid { try await store.put(key: key, bytes: [1], contentType: "x", deadline: nil) }
        await expectInvalid { _ = try await store.get(key: key, deadline: nil) }
        await expectInvalid { try await store.delete(key: key, deadline: nil) }
        await expectInvalid { _ = try await store.exists(key: key, deadline: nil) }
        await expectInvalid { _ = try store.presignedGetURL(key: key, expiresIn: .seconds(1)) }
        #expect(try String(contentsOfFile: folder.path + "/escape", encoding: .utf8) == "outside")
        #expect(FileManager.default.subpaths(atPath: folder.path + "/root") == [])
    }

    @Test func listRefusesEscapingPrefixes() async {
        let store = FileBlobStore(root: TemporaryFolder().path)
        for prefix in ["../", "/", "a/../..", "a//"] {
            await expectBlobError(.invalidKey) { try await store.list(prefix: prefix, deadline: nil) }
        }
    }

    @Test func crashBetweenWriteAndRenameLeavesNoVisibleObject() async throws {
        let folder = TemporaryFolder()
        let store = FileBlobStore(root: folder.path)
        let key = "images/1/new.png"
        try await store.put(key: "images/1/old.png", bytes: [1], contentType: "image/png", deadline: nil)
        // The first step of a put, then the "crash": the rename never happens.
        let temporary = try store.writeTemporary(key: key, bytes: png)
        #expect(FileManager.default.fileExists(atPath: temporary))
        #expect(temporary.hasPrefix(store.root + "/images/1/.tmp-"))
        #expect(try await store.exists(key: key, deadline: nil) == false)
        await expectBlobError(.notFound) { try await store.get(key: key, deadline: nil) }
        #expect(try await store.list(prefix: "", deadline: nil) == ["images/1/old.png"])
        // A later put of the same key is unaffected by the leftover.
        try await store.put(key: key, bytes: [7], contentType: "image/png", deadline: nil)
        #expect(try await store.get(key: key, deadline: nil) == [7])
        // The same crash over an existing object leaves the old object whole.
        _ = try store.writeTemporary(key: key, bytes: Array(repeating: 0xAA, count: 100_000))
        #expect(try await store.get(key: key, deadline: nil) == [7])
    }

    @Test func concurrentPutsOfOneKeyLeaveOneWholeObject() async throws {
        let folder = TemporaryFolder()
        let store = FileBlobStore(root: folder.path)
        let key = "images/race/object.bin"
        // Different lengths and fill bytes, so a torn or mixed write cannot pass for a whole one.
        let versions = (0..<24).map { index in [UInt8](repeating: UInt8(index), count: 50_000 + index * 7_919) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for bytes in versions {
                group.addTask { try await store.put(key: key, bytes: bytes, contentType: "application/octet-stream", deadline: nil) }
            }
            // Readers during the race see whole versions only.
            for _ in 0..<24 {
                group.addTask {
                    if let read = try? await store.get(key: key, deadline: nil) {
                        #expect(versions.contains(read), "a reader saw a partial object of \(read.count) bytes")
                    }
                }
            }
            try await group.waitForAll()
        }
        let final = try await store.get(key: key, deadline: nil)
        #expect(versions.contains(final))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: store.root + "/images/race")
        #expect(leftovers == ["object.bin"])
    }

    @Test func concurrentDeletesAndPutsInOneFolderDoNotFail() async throws {
        let folder = TemporaryFolder()
        let store = FileBlobStore(root: folder.path)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<40 {
                group.addTask {
                    let key = "images/shared/\(index % 2)"
                    try await store.put(key: key, bytes: [UInt8(index)], contentType: "x", deadline: nil)
                    try await store.delete(key: key, deadline: nil)
                }
            }
            try await group.waitForAll()
        }
        #expect(try await store.list(prefix: "", deadline: nil) == [])
    }

    @Test func passedDeadlineIsUnavailable() async {
        let store = FileBlobStore(root: TemporaryFolder().path)
        await expectBlobError(.unavailable) { try await store.put(key: "a", bytes: [1], contentType: "x", deadline: .now - .seconds(1)) }
    }

    @Test func readinessCreatesTheRootAndRefusesAFile() async throws {
        let folder = TemporaryFolder()
        try await FileBlobStore(root: folder.path + "/a/b").checkReachable(deadline: nil)
        var isFolder: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: folder.path + "/a/b", isDirectory: &isFolder) && isFolder.boolValue)
        try Data("x".utf8).write(to: URL(fileURLWithPath: folder.path + "/file"))
        await expectBlobError(.unavailable) { try await FileBlobStore(root: folder.path + "/file").checkReachable(deadline: nil) }
        await expectBlobError(.unavailable) { try await FileBlobStore(root: folder.path + "/file/sub").checkReachable(deadline: nil) }
    }

    @Test func symbolicLinksAreNotFollowedForObjects() async throws {
        let folder = TemporaryFolder()
        let store = FileBlobStore(root: folder.path + "/root")
        try await store.put(key: "images/real", bytes: [1], contentType: "x", deadline: nil)
        try Data("secret".utf8).write(to: URL(fileURLWithPath: folder.path + "/secret"))
        try FileManager.default.createSymbolicLink(atPath: store.root + "/images/link", withDestinationPath: folder.path + "/secret")
        await expectBlobError(.notFound) { try await store.get(key: "images/link", deadline: nil) }
        #expect(try await store.exists(key: "images/link", deadline: nil) == false)
        #expect(try await store.list(prefix: "", deadline: nil) == ["images/real"])
    }
}
