/// UTF-8 validation for `string` fields.
@usableFromInline
enum UTF8Validation {
    /// True when `string`'s UTF-8 is exactly the `count` bytes at `start`: decoding `start`
    /// with `String(decoding:as:)` changed nothing, so the bytes were valid UTF-8 (invalid
    /// sequences are replaced with U+FFFD, which changes the bytes).
    @usableFromInline
    static func isSame(_ string: String, _ start: UnsafeRawPointer, count: Int) -> Bool {
        let utf8 = string.utf8
        guard utf8.count == count else { return false }
        if let same = utf8.withContiguousStorageIfAvailable({ decoded in
            decoded.baseAddress.map { memoryEqual($0, start, count) } ?? (count == 0)
        }) {
            return same
        }
        var index = 0
        for byte in utf8 {
            if byte != start.load(fromByteOffset: index, as: UInt8.self) { return false }
            index += 1
        }
        return true
    }

    private static func memoryEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafeRawPointer, _ count: Int) -> Bool {
        var index = 0
        while index + 8 <= count {
            if UnsafeRawPointer(a).loadUnaligned(fromByteOffset: index, as: UInt64.self)
                != b.loadUnaligned(fromByteOffset: index, as: UInt64.self) { return false }
            index += 8
        }
        while index < count {
            if a[index] != b.load(fromByteOffset: index, as: UInt8.self) { return false }
            index += 1
        }
        return true
    }
}
