/// Encoded sizes, for the generated `serializedSize()`. Each matches the ``ProtoWriter``
/// method of the same name byte for byte.
public enum ProtoSize {
    @inlinable
    public static func varint(_ value: UInt64) -> Int {
        let bits = 64 - (value | 1).leadingZeroBitCount
        return (bits + 6) / 7
    }

    @inlinable public static func tag(_ tag: UInt32) -> Int { varint(UInt64(tag)) }
    @inlinable public static func int32(_ value: Int32) -> Int { value < 0 ? 10 : varint(UInt64(value)) }
    @inlinable public static func int64(_ value: Int64) -> Int { varint(UInt64(bitPattern: value)) }
    @inlinable public static func uint32(_ value: UInt32) -> Int { varint(UInt64(value)) }
    @inlinable public static func uint64(_ value: UInt64) -> Int { varint(value) }
    @inlinable public static func sint32(_ value: Int32) -> Int { varint(UInt64(ZigZag.encode(value))) }
    @inlinable public static func sint64(_ value: Int64) -> Int { varint(ZigZag.encode(value)) }
    @inlinable public static func enumValue<E: ProtoEnum>(_ value: E) -> Int { int32(value.rawValue) }

    /// A length prefix plus `length` bytes.
    @inlinable public static func lengthDelimited(_ length: Int) -> Int { varint(UInt64(length)) + length }
    @inlinable public static func bytes(_ value: [UInt8]) -> Int { lengthDelimited(value.count) }
    @inlinable public static func string(_ value: String) -> Int { lengthDelimited(value.utf8.count) }
    @inlinable public static func message<M: ProtoMessage>(_ value: M) -> Int { lengthDelimited(value.serializedSize()) }

    // Payload sizes of packed fields, without tag or length prefix.
    @inlinable public static func packedInt32(_ values: [Int32]) -> Int { values.reduce(0) { $0 + int32($1) } }
    @inlinable public static func packedInt64(_ values: [Int64]) -> Int { values.reduce(0) { $0 + int64($1) } }
    @inlinable public static func packedUInt32(_ values: [UInt32]) -> Int { values.reduce(0) { $0 + uint32($1) } }
    @inlinable public static func packedUInt64(_ values: [UInt64]) -> Int { values.reduce(0) { $0 + uint64($1) } }
    @inlinable public static func packedSInt32(_ values: [Int32]) -> Int { values.reduce(0) { $0 + sint32($1) } }
    @inlinable public static func packedSInt64(_ values: [Int64]) -> Int { values.reduce(0) { $0 + sint64($1) } }
    @inlinable public static func packedEnum<E: ProtoEnum>(_ values: [E]) -> Int { values.reduce(0) { $0 + int32($1.rawValue) } }
}

/// Deterministic map encoding: entries sorted by key (strings by their UTF-8 bytes), as the
/// reference implementations do when asked for deterministic output.
public enum ProtoMap {
    @inlinable
    public static func sorted<Value>(_ map: [String: Value]) -> [(key: String, value: Value)] {
        map.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
    }

    @inlinable
    public static func sorted<Key: FixedWidthInteger, Value>(_ map: [Key: Value]) -> [(key: Key, value: Value)] {
        map.sorted { $0.key < $1.key }
    }

    @inlinable
    public static func sorted<Value>(_ map: [Bool: Value]) -> [(key: Bool, value: Value)] {
        map.sorted { !$0.key && $1.key }
    }
}
