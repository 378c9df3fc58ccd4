/// Reads protobuf fields from raw memory; the generated `decodeFields(from:)` drives it.
///
/// A reader is only valid inside the call that made it (it points into the caller's buffer):
/// never store or escape one. Every read is bounds-checked against the current message's end
/// and throws ``ProtoDecodingError`` rather than trapping.
///
/// The loop the generator writes:
/// ```swift
/// while let field = try reader.nextField() {
///     switch field {
///     case 1 where reader.wireType == .varint: code = try reader.readInt32()
///     default: try reader.skipField(into: &unknownFields)
///     }
/// }
/// ```
public struct ProtoReader {
    @usableFromInline var cursor: UnsafeRawPointer
    @usableFromInline var end: UnsafeRawPointer
    @usableFromInline var fieldStart: UnsafeRawPointer
    @usableFromInline var currentWireType: WireType = .varint
    @usableFromInline var depth = 0
    @usableFromInline let maxDepth: Int
    @usableFromInline let maxFieldSize: Int

    @inlinable
    init(start: UnsafeRawPointer, count: Int, limits: DecodingLimits) {
        cursor = start
        end = start + count
        fieldStart = start
        maxDepth = limits.maxDepth
        maxFieldSize = limits.maxMessageSize
    }

    /// The wire type of the field ``nextField()`` last returned.
    @inlinable
    public var wireType: WireType { currentWireType }

    // MARK: Tags

    /// Reads the next tag and returns its field number, or `nil` at the end of the message.
    ///
    /// - Throws: `invalidFieldNumber` for 0 or above 2^29 - 1, `invalidWireType` for 6 and 7,
    ///   `groupsNotSupported` for 3 and 4, `truncated` / `malformedVarint` for a bad key.
    @inlinable
    public mutating func nextField() throws(ProtoDecodingError) -> Int? {
        guard cursor < end else { return nil }
        fieldStart = cursor
        let key = try readVarint()
        let fieldNumber = key >> 3
        guard fieldNumber != 0, fieldNumber <= UInt64(ProtoWireFormat.maxFieldNumber) else {
            throw .invalidFieldNumber
        }
        switch key & 7 {
        case 0: currentWireType = .varint
        case 1: currentWireType = .fixed64
        case 2: currentWireType = .lengthDelimited
        case 5: currentWireType = .fixed32
        case 3, 4: throw .groupsNotSupported
        default: throw .invalidWireType(UInt8(key & 7))
        }
        return Int(truncatingIfNeeded: fieldNumber)
    }

    /// Skips the current field's value, keeping the whole field (tag included) in `unknown`.
    @inlinable
    public mutating func skipField(into unknown: inout UnknownFields) throws(ProtoDecodingError) {
        try skipField()
        unknown.append(UnsafeRawBufferPointer(start: fieldStart, count: cursor - fieldStart))
    }

    /// Skips the current field's value, discarding it.
    @inlinable
    public mutating func skipField() throws(ProtoDecodingError) {
        switch currentWireType {
        case .varint: _ = try readVarint()
        case .fixed64: try advance(by: 8)
        case .fixed32: try advance(by: 4)
        case .lengthDelimited: cursor += try readLength()
        }
    }

    @inlinable
    mutating func advance(by count: Int) throws(ProtoDecodingError) {
        guard end - cursor >= count else { throw .truncated }
        cursor += count
    }

    // MARK: Varints

    /// Reads a base-128 varint of up to ten bytes.
    @inlinable
    public mutating func readVarint() throws(ProtoDecodingError) -> UInt64 {
        if cursor < end {
            let byte = cursor.load(as: UInt8.self)
            if byte < 0x80 {
                cursor += 1
                return UInt64(byte)
            }
        }
        return try readVarintSlow()
    }

    @usableFromInline
    mutating func readVarintSlow() throws(ProtoDecodingError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        var position = cursor
        while true {
            guard position < end else { throw .truncated }
            let byte = position.load(as: UInt8.self)
            position += 1
            result |= UInt64(byte & 0x7F) &<< shift
            if byte < 0x80 {
                cursor = position
                return result
            }
            shift += 7
            if shift >= 70 { throw .malformedVarint }
        }
    }

    @inlinable public mutating func readInt32() throws(ProtoDecodingError) -> Int32 { Int32(truncatingIfNeeded: try readVarint()) }
    @inlinable public mutating func readInt64() throws(ProtoDecodingError) -> Int64 { Int64(bitPattern: try readVarint()) }
    @inlinable public mutating func readUInt32() throws(ProtoDecodingError) -> UInt32 { UInt32(truncatingIfNeeded: try readVarint()) }
    @inlinable public mutating func readUInt64() throws(ProtoDecodingError) -> UInt64 { try readVarint() }
    @inlinable public mutating func readSInt32() throws(ProtoDecodingError) -> Int32 { ZigZag.decode(UInt32(truncatingIfNeeded: try readVarint())) }
    @inlinable public mutating func readSInt64() throws(ProtoDecodingError) -> Int64 { ZigZag.decode(try readVarint()) }
    @inlinable public mutating func readBool() throws(ProtoDecodingError) -> Bool { try readVarint() != 0 }
    @inlinable public mutating func readEnum<E: ProtoEnum>() throws(ProtoDecodingError) -> E { E(rawValue: try readInt32()) }

    // MARK: Fixed width

    @inlinable
    public mutating func readFixed32() throws(ProtoDecodingError) -> UInt32 {
        guard end - cursor >= 4 else { throw .truncated }
        let value = UInt32(littleEndian: cursor.loadUnaligned(as: UInt32.self))
        cursor += 4
        return value
    }

    @inlinable
    public mutating func readFixed64() throws(ProtoDecodingError) -> UInt64 {
        guard end - cursor >= 8 else { throw .truncated }
        let value = UInt64(littleEndian: cursor.loadUnaligned(as: UInt64.self))
        cursor += 8
        return value
    }

    @inlinable public mutating func readSFixed32() throws(ProtoDecodingError) -> Int32 { Int32(bitPattern: try readFixed32()) }
    @inlinable public mutating func readSFixed64() throws(ProtoDecodingError) -> Int64 { Int64(bitPattern: try readFixed64()) }
    @inlinable public mutating func readFloat() throws(ProtoDecodingError) -> Float { Float(bitPattern: try readFixed32()) }
    @inlinable public mutating func readDouble() throws(ProtoDecodingError) -> Double { Double(bitPattern: try readFixed64()) }

    // MARK: Length-delimited

    /// Reads a length prefix and checks it against the limit and the bytes left.
    @inlinable
    mutating func readLength() throws(ProtoDecodingError) -> Int {
        let length = try readVarint()
        guard length <= UInt64(maxFieldSize) else { throw .messageTooLarge }
        guard length <= UInt64(end - cursor) else { throw .truncated }
        return Int(length)
    }

    /// Reads a `bytes` field, copying it out of the input once.
    @inlinable
    public mutating func readBytes() throws(ProtoDecodingError) -> [UInt8] {
        let length = try readLength()
        let value = [UInt8](UnsafeRawBufferPointer(start: cursor, count: length))
        cursor += length
        return value
    }

    /// Reads a `string` field.
    ///
    /// - Throws: `invalidUTF8` unless the bytes are well-formed UTF-8.
    @inlinable
    public mutating func readString() throws(ProtoDecodingError) -> String {
        let length = try readLength()
        if length == 0 { return "" }
        let utf8 = UnsafeBufferPointer(start: cursor.assumingMemoryBound(to: UInt8.self), count: length)
        guard let value = String(validating: utf8, as: UTF8.self) else { throw .invalidUTF8 }
        cursor += length
        return value
    }

    /// Reads a nested message and merges it into `message`.
    ///
    /// - Throws: `nestingTooDeep` past ``DecodingLimits/maxDepth``, or any error of the message.
    @inlinable
    public mutating func readMessage<M: ProtoMessage>(into message: inout M) throws(ProtoDecodingError) {
        let length = try readLength()
        guard depth < maxDepth else { throw .nestingTooDeep }
        let outerEnd = end
        end = cursor + length
        depth += 1
        try message.decodeFields(from: &self)
        depth -= 1
        end = outerEnd
    }

    /// Reads a nested message into an optional field, merging with a value already there.
    @inlinable
    public mutating func readMessage<M: ProtoMessage>(into message: inout M?) throws(ProtoDecodingError) {
        var value = message.take() ?? M()
        try readMessage(into: &value)
        message = value
    }

    /// Reads one map entry (a nested message whose field 1 is the key and 2 the value);
    /// `body` is called with each of the entry's fields.
    @inlinable
    public mutating func readMapEntry(
        _ body: (inout ProtoReader, Int) throws(ProtoDecodingError) -> Void
    ) throws(ProtoDecodingError) {
        let length = try readLength()
        guard depth < maxDepth else { throw .nestingTooDeep }
        let outerEnd = end
        end = cursor + length
        depth += 1
        while let field = try nextField() {
            try body(&self, field)
        }
        depth -= 1
        end = outerEnd
    }

    // MARK: Packed repeated scalars

    @inlinable
    mutating func readPackedVarints<T>(into values: inout [T], _ convert: (UInt64) -> T) throws(ProtoDecodingError) {
        let length = try readLength()
        let outerEnd = end
        end = cursor + length
        var terminators = 0
        var scan = cursor
        while scan < end {
            if scan.load(as: UInt8.self) < 0x80 { terminators += 1 }
            scan += 1
        }
        values.reserveCapacity(values.count + terminators)
        while cursor < end {
            values.append(convert(try readVarint()))
        }
        end = outerEnd
    }

    @inlinable
    mutating func readPackedFixed<Raw: FixedWidthInteger, T>(
        into values: inout [T], _ raw: Raw.Type, _ convert: (Raw) -> T
    ) throws(ProtoDecodingError) {
        let length = try readLength()
        let size = MemoryLayout<Raw>.size
        guard length % size == 0 else { throw .invalidPackedLength }
        let count = length / size
        values.reserveCapacity(values.count + count)
        for index in 0..<count {
            values.append(convert(Raw(littleEndian: cursor.loadUnaligned(fromByteOffset: index * size, as: Raw.self))))
        }
        cursor += length
    }

    @inlinable public mutating func readPackedInt32(into values: inout [Int32]) throws(ProtoDecodingError) { try readPackedVarints(into: &values) { Int32(truncatingIfNeeded: $0) } }
    @inlinable public mutating func readPackedInt64(into values: inout [Int64]) throws(ProtoDecodingError) { try readPackedVarints(into: &values) { Int64(bitPattern: $0) } }
    @inlinable public mutating func readPackedUInt32(into values: inout [UInt32]) throws(ProtoDecodingError) { try readPackedVarints(into: &values) { UInt32(truncatingIfNeeded: $0) } }
    @inlinable public mutating func readPackedUInt64(into values: inout [UInt64]) throws(ProtoDecodingError) { try readPackedVarints(into: &values) { $0 } }
    @inlinable public mutating func readPackedSInt32(into values: inout [Int32]) throws(ProtoDecodingError) { try readPackedVarints(into: &values) { ZigZag.decode(UInt32(truncatingIfNeeded: $0)) } }
    @inlinable public mutating func readPackedSInt64(into values: inout [Int64]) throws(ProtoDecodingError) { try readPackedVarints(into: &values) { ZigZag.decode($0) } }
    @inlinable public mutating func readPackedBool(into values: inout [Bool]) throws(ProtoDecodingError) { try readPackedVarints(into: &values) { $0 != 0 } }
    @inlinable public mutating func readPackedEnum<E: ProtoEnum>(into values: inout [E]) throws(ProtoDecodingError) { try readPackedVarints(into: &values) { E(rawValue: Int32(truncatingIfNeeded: $0)) } }
    @inlinable public mutating func readPackedFixed32(into values: inout [UInt32]) throws(ProtoDecodingError) { try readPackedFixed(into: &values, UInt32.self) { $0 } }
    @inlinable public mutating func readPackedFixed64(into values: inout [UInt64]) throws(ProtoDecodingError) { try readPackedFixed(into: &values, UInt64.self) { $0 } }
    @inlinable public mutating func readPackedSFixed32(into values: inout [Int32]) throws(ProtoDecodingError) { try readPackedFixed(into: &values, UInt32.self) { Int32(bitPattern: $0) } }
    @inlinable public mutating func readPackedSFixed64(into values: inout [Int64]) throws(ProtoDecodingError) { try readPackedFixed(into: &values, UInt64.self) { Int64(bitPattern: $0) } }
    @inlinable public mutating func readPackedFloat(into values: inout [Float]) throws(ProtoDecodingError) { try readPackedFixed(into: &values, UInt32.self) { Float(bitPattern: $0) } }
    @inlinable public mutating func readPackedDouble(into values: inout [Double]) throws(ProtoDecodingError) { try readPackedFixed(into: &values, UInt64.self) { Double(bitPattern: $0) } }
}
