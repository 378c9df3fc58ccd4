/// Writes protobuf fields into a preallocated buffer; the generated `encodeFields(to:)` drives it.
///
/// ``ProtoMessage/serializedBytes()`` computes the exact size first (``ProtoSize``), allocates
/// once, and hands the writer that memory. Writes are unchecked for speed: the caller must
/// write exactly the computed number of bytes (checked once, after the message is written).
/// A writer is only valid inside the call that made it.
public struct ProtoWriter {
    @usableFromInline var cursor: UnsafeMutableRawPointer
    @usableFromInline let end: UnsafeMutableRawPointer

    /// A writer over `count` bytes of uninitialized memory at `start`.
    @inlinable
    public init(start: UnsafeMutableRawPointer, count: Int) {
        cursor = start
        end = start + count
    }

    /// True once every byte of the buffer is written.
    @inlinable
    public var isFull: Bool { cursor == end }

    // MARK: Varints

    @inlinable
    public mutating func writeVarint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            cursor.storeBytes(of: UInt8(truncatingIfNeeded: value) | 0x80, as: UInt8.self)
            cursor += 1
            value >>= 7
        }
        cursor.storeBytes(of: UInt8(truncatingIfNeeded: value), as: UInt8.self)
        cursor += 1
    }

    /// Writes a tag, precomputed with ``ProtoWireFormat/tag(fieldNumber:wireType:)``.
    @inlinable
    public mutating func writeTag(_ tag: UInt32) {
        if tag < 0x80 {
            cursor.storeBytes(of: UInt8(truncatingIfNeeded: tag), as: UInt8.self)
            cursor += 1
        } else {
            writeVarint(UInt64(tag))
        }
    }

    /// Writes an int32 as protobuf does: negative values sign-extended to ten bytes.
    @inlinable public mutating func writeInt32(_ value: Int32) { writeVarint(UInt64(bitPattern: Int64(value))) }
    @inlinable public mutating func writeInt64(_ value: Int64) { writeVarint(UInt64(bitPattern: value)) }
    @inlinable public mutating func writeUInt32(_ value: UInt32) { writeVarint(UInt64(value)) }
    @inlinable public mutating func writeUInt64(_ value: UInt64) { writeVarint(value) }
    @inlinable public mutating func writeSInt32(_ value: Int32) { writeVarint(UInt64(ZigZag.encode(value))) }
    @inlinable public mutating func writeSInt64(_ value: Int64) { writeVarint(ZigZag.encode(value)) }
    @inlinable public mutating func writeBool(_ value: Bool) { writeVarint(value ? 1 : 0) }
    @inlinable public mutating func writeEnum<E: ProtoEnum>(_ value: E) { writeInt32(value.rawValue) }

    // MARK: Fixed width

    @inlinable
    public mutating func writeFixed32(_ value: UInt32) {
        cursor.storeBytes(of: value.littleEndian, as: UInt32.self)
        cursor += 4
    }

    @inlinable
    public mutating func writeFixed64(_ value: UInt64) {
        cursor.storeBytes(of: value.littleEndian, as: UInt64.self)
        cursor += 8
    }

    @inlinable public mutating func writeSFixed32(_ value: Int32) { writeFixed32(UInt32(bitPattern: value)) }
    @inlinable public mutating func writeSFixed64(_ value: Int64) { writeFixed64(UInt64(bitPattern: value)) }
    @inlinable public mutating func writeFloat(_ value: Float) { writeFixed32(value.bitPattern) }
    @inlinable public mutating func writeDouble(_ value: Double) { writeFixed64(value.bitPattern) }

    // MARK: Length-delimited

    @inlinable
    mutating func writeRaw(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        cursor.copyMemory(from: base, byteCount: bytes.count)
        cursor += bytes.count
    }

    /// Writes a `bytes` value with its length prefix.
    @inlinable
    public mutating func writeBytes(_ value: [UInt8]) {
        writeVarint(UInt64(value.count))
        value.withUnsafeBytes { writeRaw($0) }
    }

    /// Writes a `string` value (UTF-8) with its length prefix.
    @inlinable
    public mutating func writeString(_ value: String) {
        let utf8 = value.utf8
        writeVarint(UInt64(utf8.count))
        let copied: Void? = utf8.withContiguousStorageIfAvailable { writeRaw(UnsafeRawBufferPointer($0)) }
        if copied == nil {
            for byte in utf8 {
                cursor.storeBytes(of: byte, as: UInt8.self)
                cursor += 1
            }
        }
    }

    /// Writes a nested message with its length prefix.
    @inlinable
    public mutating func writeMessage<M: ProtoMessage>(_ message: M) {
        writeVarint(UInt64(message.serializedSize()))
        message.encodeFields(to: &self)
    }

    /// Writes a length prefix; the caller then writes exactly `length` bytes (a map entry).
    @inlinable
    public mutating func writeLength(_ length: Int) {
        writeVarint(UInt64(length))
    }

    /// Writes unknown fields back as they were received.
    @inlinable
    public mutating func writeUnknownFields(_ fields: UnknownFields) {
        if fields.isEmpty { return }
        fields.bytes.withUnsafeBytes { writeRaw($0) }
    }

    // MARK: Packed repeated scalars (the caller writes the tag)

    @inlinable public mutating func writePackedInt32(_ values: [Int32]) { writeLength(ProtoSize.packedInt32(values)); for value in values { writeInt32(value) } }
    @inlinable public mutating func writePackedInt64(_ values: [Int64]) { writeLength(ProtoSize.packedInt64(values)); for value in values { writeInt64(value) } }
    @inlinable public mutating func writePackedUInt32(_ values: [UInt32]) { writeLength(ProtoSize.packedUInt32(values)); for value in values { writeUInt32(value) } }
    @inlinable public mutating func writePackedUInt64(_ values: [UInt64]) { writeLength(ProtoSize.packedUInt64(values)); for value in values { writeUInt64(value) } }
    @inlinable public mutating func writePackedSInt32(_ values: [Int32]) { writeLength(ProtoSize.packedSInt32(values)); for value in values { writeSInt32(value) } }
    @inlinable public mutating func writePackedSInt64(_ values: [Int64]) { writeLength(ProtoSize.packedSInt64(values)); for value in values { writeSInt64(value) } }
    @inlinable public mutating func writePackedBool(_ values: [Bool]) { writeLength(values.count); for value in values { writeBool(value) } }
    @inlinable public mutating func writePackedEnum<E: ProtoEnum>(_ values: [E]) { writeLength(ProtoSize.packedEnum(values)); for value in values { writeEnum(value) } }
    @inlinable public mutating func writePackedFixed32(_ values: [UInt32]) { writeLength(values.count * 4); for value in values { writeFixed32(value) } }
    @inlinable public mutating func writePackedFixed64(_ values: [UInt64]) { writeLength(values.count * 8); for value in values { writeFixed64(value) } }
    @inlinable public mutating func writePackedSFixed32(_ values: [Int32]) { writeLength(values.count * 4); for value in values { writeSFixed32(value) } }
    @inlinable public mutating func writePackedSFixed64(_ values: [Int64]) { writeLength(values.count * 8); for value in values { writeSFixed64(value) } }
    @inlinable public mutating func writePackedFloat(_ values: [Float]) { writeLength(values.count * 4); for value in values { writeFloat(value) } }
    @inlinable public mutating func writePackedDouble(_ values: [Double]) { writeLength(values.count * 8); for value in values { writeDouble(value) } }
}
