/// The protobuf wire types this codec reads and writes.
///
/// Groups (wire types 3 and 4) are a proto2 feature this project never uses: the reader rejects
/// them with ``ProtoDecodingError/groupsNotSupported``, as it rejects the undefined wire types 6
/// and 7 with ``ProtoDecodingError/invalidWireType(_:)``.
public enum WireType: UInt8, Sendable, Hashable {
    /// int32, int64, uint32, uint64, sint32, sint64, bool, enum.
    case varint = 0
    /// fixed64, sfixed64, double.
    case fixed64 = 1
    /// string, bytes, messages, packed repeated scalars, map entries.
    case lengthDelimited = 2
    /// fixed32, sfixed32, float.
    case fixed32 = 5
}

/// Constants of the protobuf wire format.
public enum ProtoWireFormat {
    /// The largest field number protobuf allows, 2^29 - 1.
    public static let maxFieldNumber = (1 << 29) - 1

    /// The tag (key) for `fieldNumber` and `wireType`, as written before a field's value.
    @inlinable
    public static func tag(fieldNumber: Int, wireType: WireType) -> UInt32 {
        UInt32(truncatingIfNeeded: fieldNumber) << 3 | UInt32(wireType.rawValue)
    }
}

/// ZigZag encoding of signed integers (sint32, sint64), which keeps small negative numbers short.
public enum ZigZag {
    @inlinable
    public static func encode(_ value: Int32) -> UInt32 {
        UInt32(bitPattern: (value &<< 1) ^ (value >> 31))
    }

    @inlinable
    public static func encode(_ value: Int64) -> UInt64 {
        UInt64(bitPattern: (value &<< 1) ^ (value >> 63))
    }

    @inlinable
    public static func decode(_ value: UInt32) -> Int32 {
        Int32(bitPattern: (value >> 1) ^ (0 &- (value & 1)))
    }

    @inlinable
    public static func decode(_ value: UInt64) -> Int64 {
        Int64(bitPattern: (value >> 1) ^ (0 &- (value & 1)))
    }
}
