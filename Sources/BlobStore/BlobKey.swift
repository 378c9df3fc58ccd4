/// The rules every object key and list prefix follows, shared by all stores so a key valid for
/// one is valid for all, and no key can name a path outside a ``FileBlobStore``'s root.
public enum BlobKey {
    /// The longest key S3 accepts, in bytes.
    public static let maxLength = 1024

    /// Throws ``BlobStoreError/Kind/invalidKey`` unless `key` is 1 to 1024 bytes of
    /// `A-Z a-z 0-9 . _ - /`, without a leading or trailing `/`, an empty segment (`//`) or a
    /// segment starting with `.` (which rules out `.` and `..`, and the store's temporary files).
    public static func validate(_ key: String) throws(BlobStoreError) {
        guard !key.isEmpty else { throw BlobStoreError(.invalidKey, detail: "empty key") }
        try validateCharacters(key, what: "key")
        // One pass over the bytes, looking at the first byte of every segment (and at the end,
        // which is the start of an empty last segment when the key ends with "/").
        var atSegmentStart = true
        for byte in key.utf8 {
            if atSegmentStart {
                guard byte != UInt8(ascii: "/") else {
                    throw BlobStoreError(.invalidKey, detail: "key has an empty segment: \(key)")
                }
                guard byte != UInt8(ascii: ".") else {
                    throw BlobStoreError(.invalidKey, detail: "key has a segment starting with '.': \(key)")
                }
            }
            atSegmentStart = byte == UInt8(ascii: "/")
        }
        guard !atSegmentStart else {
            throw BlobStoreError(.invalidKey, detail: "key has an empty segment: \(key)")
        }
    }

    /// Throws ``BlobStoreError/Kind/invalidKey`` unless `prefix` is empty or the start of a
    /// possible key: the same characters, no leading `/`, no empty segment, no segment starting
    /// with `.`; it may end with `/` or in the middle of a segment.
    public static func validatePrefix(_ prefix: String) throws(BlobStoreError) {
        guard !prefix.isEmpty else { return }
        try validateCharacters(prefix, what: "prefix")
        let segments = prefix.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        for (index, segment) in segments.enumerated() {
            // Only the part after a trailing "/" may be empty.
            guard let first = segment.first else {
                if index == segments.count - 1 && index > 0 { continue }
                throw BlobStoreError(.invalidKey, detail: "prefix has an empty segment: \(prefix)")
            }
            guard first != UInt8(ascii: ".") else {
                throw BlobStoreError(.invalidKey, detail: "prefix has a segment starting with '.': \(prefix)")
            }
        }
    }

    private static func validateCharacters(_ text: String, what: String) throws(BlobStoreError) {
        guard text.utf8.count <= maxLength else {
            throw BlobStoreError(.invalidKey, detail: "\(what) longer than \(maxLength) bytes")
        }
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "/"):
                continue
            default:
                // Never echo the raw bytes: they may be control characters.
                throw BlobStoreError(.invalidKey, detail: "\(what) has a character outside [A-Za-z0-9._/-] (byte 0x\(String(byte, radix: 16)))")
            }
        }
    }
}
