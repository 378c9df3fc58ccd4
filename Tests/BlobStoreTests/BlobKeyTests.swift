import BlobStore
import Testing

@Suite struct BlobKeyTests {
    @Test(arguments: [
        "images/42/0b5e9c2a-1111-4222-8333-944445555666/original.png",
        "a", "a.b", "A-Z_0.9", "x/y/z", "a..b", "images/u/edited.webp",
    ])
    func validKeysPass(key: String) throws {
        try BlobKey.validate(key)
    }

    @Test(arguments: [
        "", "/etc/passwd", "../escape", "images/../../escape", "a/./b", ".", "..", "a/..", "a//b", "a/", "/",
        "a\\b", "..\\..\\x", "a\0b", "a b", "a%2Fb", "a?b", "ключ", "images/.tmp-123", ".hidden", "a/b\n",
        String(repeating: "a", count: 1025),
    ])
    func invalidKeysAreRefused(key: String) {
        #expect(throws: BlobStoreError.self) { try BlobKey.validate(key) }
        do {
            try BlobKey.validate(key)
        } catch {
            #expect(error.kind == .invalidKey)
            #expect(error.rpcError.code == .invalidArgument)
            #expect(!error.detail.contains("\0"))
        }
    }

    @Test(arguments: ["", "images/", "images/4", "images/42/", "a", "a.b/c-"])
    func validPrefixesPass(prefix: String) throws {
        try BlobKey.validatePrefix(prefix)
    }

    @Test(arguments: ["/", "/images", "../", "a/../", "a//", "a/.", ".", "a b", "a\\", "x\0"])
    func invalidPrefixesAreRefused(prefix: String) {
        #expect(throws: BlobStoreError.self) { try BlobKey.validatePrefix(prefix) }
    }

    @Test func maximumLengthIsAccepted() throws {
        try BlobKey.validate(String(repeating: "a", count: 1024))
    }
}
