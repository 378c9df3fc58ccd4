import ProtoWire
import Testing
import WireTestMessages

/// Malformed input is refused with the right ``ProtoDecodingError``, never a trap.
@Suite struct RejectionTests {
    struct Bad: Sendable, CustomStringConvertible {
        var description: String
        var bytes: [UInt8]
        var error: ProtoDecodingError
    }

    static let cases: [Bad] = [
        Bad(description: "tag cut off", bytes: [0x80], error: .truncated),
        Bad(description: "varint value cut off", bytes: [0x18, 0x80], error: .truncated),
        Bad(description: "varint of 11 bytes", bytes: [0x18] + [UInt8](repeating: 0xFF, count: 10) + [0x01], error: .malformedVarint),
        Bad(description: "tag varint of 11 bytes", bytes: [UInt8](repeating: 0x80, count: 10) + [0x01], error: .malformedVarint),
        Bad(description: "wire type 6", bytes: [0x0E, 0x00], error: .invalidWireType(6)),
        Bad(description: "wire type 7", bytes: [0x0F, 0x00], error: .invalidWireType(7)),
        Bad(description: "group start (3)", bytes: [0x0B, 0x0C], error: .groupsNotSupported),
        Bad(description: "group end (4)", bytes: [0x0C], error: .groupsNotSupported),
        Bad(description: "field number 0", bytes: [0x00, 0x00], error: .invalidFieldNumber),
        Bad(description: "field number 0, length-delimited", bytes: [0x02, 0x00], error: .invalidFieldNumber),
        Bad(description: "field number 2^29", bytes: [0x80, 0x80, 0x80, 0x80, 0x10, 0x00], error: .invalidFieldNumber),
        Bad(description: "field number 2^61", bytes: [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0x00], error: .invalidFieldNumber),
        Bad(description: "fixed64 cut off", bytes: [0x09, 1, 2, 3], error: .truncated),
        Bad(description: "fixed32 cut off", bytes: [0x15, 1, 2, 3], error: .truncated),
        Bad(description: "string past the end", bytes: [0x72, 0x05, 0x61], error: .truncated),
        Bad(description: "bytes past the end", bytes: [0x7A, 0x02, 0x00], error: .truncated),
        Bad(description: "length over 2 GiB", bytes: [0x72, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F], error: .messageTooLarge),
        Bad(description: "length of 2^64 - 1", bytes: [0x72] + [UInt8](repeating: 0xFF, count: 9) + [0x01], error: .messageTooLarge),
        Bad(description: "unknown field past the end", bytes: [0xA2, 0x06, 0x09, 0x00], error: .truncated),
        Bad(description: "unknown field with wire type 7", bytes: [0xA7, 0x06], error: .invalidWireType(7)),
        Bad(description: "string with invalid UTF-8", bytes: [0x72, 0x02, 0xC3, 0x28], error: .invalidUTF8),
        Bad(description: "string with overlong UTF-8", bytes: [0x72, 0x02, 0xC0, 0x80], error: .invalidUTF8),
        Bad(description: "string with a UTF-16 surrogate", bytes: [0x72, 0x03, 0xED, 0xA0, 0x80], error: .invalidUTF8),
        Bad(description: "string cut inside a character", bytes: [0x72, 0x01, 0xE2], error: .invalidUTF8),
        Bad(description: "repeated string with invalid UTF-8", bytes: [0xAA, 0x02, 0x01, 0xFF], error: .invalidUTF8),
        Bad(description: "map key with invalid UTF-8", bytes: [0x92, 0x03, 0x03, 0x0A, 0x01, 0xFF], error: .invalidUTF8),
        Bad(description: "packed fixed32 of 3 bytes", bytes: [0x92, 0x02, 0x03, 1, 2, 3], error: .invalidPackedLength),
        Bad(description: "packed double of 12 bytes", bytes: [0x8A, 0x02, 0x0C] + [UInt8](repeating: 0, count: 12), error: .invalidPackedLength),
        Bad(description: "packed float of 2 bytes", bytes: [0xCA, 0x02, 0x02, 0, 0], error: .invalidPackedLength),
        Bad(description: "packed varints cut inside one", bytes: [0xFA, 0x01, 0x01, 0x80], error: .truncated),
        Bad(description: "packed length past the end", bytes: [0xFA, 0x01, 0x05, 0x01], error: .truncated),
        Bad(description: "nested message past the end", bytes: [0x8A, 0x01, 0x05, 0x08, 0x01], error: .truncated),
        Bad(description: "nested field crossing its message's end", bytes: [0x8A, 0x01, 0x02, 0x12, 0x05, 0x61, 0x62, 0x63, 0x64, 0x65], error: .truncated),
        Bad(description: "map entry past the end", bytes: [0x92, 0x03, 0x06, 0x0A, 0x01, 0x61], error: .truncated),
        Bad(description: "map entry field crossing the entry's end", bytes: [0x92, 0x03, 0x02, 0x0A, 0x03, 0x61, 0x62, 0x63], error: .truncated),
        Bad(description: "oneof message past the end", bytes: [0xEA, 0x03, 0x04, 0x08], error: .truncated),
    ]

    @Test(arguments: cases)
    func rejects(_ bad: Bad) {
        #expect(throws: bad.error) { try AllTypes(serializedBytes: bad.bytes) }
        // The same through raw memory.
        #expect(throws: bad.error) { try bad.bytes.withUnsafeBytes { try AllTypes(serializedBytes: $0) } }
    }

    /// `count` Recursive messages, each the `child` of the one before.
    static func nested(_ count: Int, tag: UInt8 = 0x0A) -> [UInt8] {
        var bytes: [UInt8] = [0x10, 0x01]
        for _ in 0..<count {
            var length: [UInt8] = []
            var value = UInt64(bytes.count)
            while value >= 0x80 {
                length.append(UInt8(value & 0x7F) | 0x80)
                value >>= 7
            }
            length.append(UInt8(value))
            bytes = [tag] + length + bytes
        }
        return bytes
    }

    @Test func nestingUpToTheLimitIsAccepted() throws {
        var message = try Recursive(serializedBytes: Self.nested(100))
        var depth = 0
        while let child = message.child {
            depth += 1
            message = child
        }
        #expect(depth == 100)
        #expect(message.value == 1)
    }

    @Test func nestingPastTheLimitIsRejected() {
        #expect(throws: ProtoDecodingError.nestingTooDeep) { try Recursive(serializedBytes: Self.nested(101)) }
        #expect(throws: ProtoDecodingError.nestingTooDeep) { try Recursive(serializedBytes: Self.nested(100_000)) }
        let limits = DecodingLimits(maxDepth: 3)
        #expect(throws: ProtoDecodingError.nestingTooDeep) { try Recursive(serializedBytes: Self.nested(4), limits: limits) }
        #expect((try? Recursive(serializedBytes: Self.nested(3), limits: limits)) != nil)
    }

    @Test func nestingThroughAOneofCounts() {
        // Field 3 (the oneof member) instead of field 1.
        #expect(throws: ProtoDecodingError.nestingTooDeep) { try Recursive(serializedBytes: Self.nested(101, tag: 0x1A)) }
        #expect((try? Recursive(serializedBytes: Self.nested(100, tag: 0x1A))) != nil)
    }

    @Test func sizeLimitAppliesToTheInputAndToEachField() {
        let limits = DecodingLimits(maxMessageSize: 8)
        let longString: [UInt8] = [0x72, 0x07] + Array("abcdefg".utf8)
        #expect(throws: ProtoDecodingError.messageTooLarge) { try AllTypes(serializedBytes: longString, limits: limits) }
        let smallField: [UInt8] = [0x72, 0x03] + Array("abc".utf8)
        #expect(throws: ProtoDecodingError.messageTooLarge) {
            try AllTypes(serializedBytes: smallField, limits: DecodingLimits(maxMessageSize: 2))
        }
        #expect((try? AllTypes(serializedBytes: smallField, limits: limits))?.fString == "abc")
    }

    @Test func aKnownFieldWithTheWrongWireTypeIsKeptAsUnknown() throws {
        // Field 14 (string) sent as a varint, then field 3 (int32) sent as fixed32.
        let bytes: [UInt8] = [0x70, 0x01, 0x1D, 1, 0, 0, 0]
        let message = try AllTypes(serializedBytes: bytes)
        #expect(message.fString == "")
        #expect(message.fInt32 == 0)
        #expect(message.unknownFields.bytes == bytes)
        #expect(message.serializedBytes() == bytes)
    }

    @Test func bytesFieldsTakeAnyBytes() throws {
        let message = try AllTypes(serializedBytes: [0x7A, 0x03, 0xFF, 0xC0, 0x80])
        #expect(message.fBytes == [0xFF, 0xC0, 0x80])
    }
}
