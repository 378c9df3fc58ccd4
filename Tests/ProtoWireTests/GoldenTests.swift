import ProtoWire
import Testing
import WireTestMessages

/// Our codec against bytes the reference implementation (Python protobuf) wrote.
@Suite struct GoldenTests {
    @Test func everyFixtureHasACase() {
        #expect(Set(Fixtures.names) == Set(goldenCases.map(\.name)))
    }

    @Test(arguments: goldenCases.filter(\.checkEncoding))
    func encodesToTheReferenceBytes(_ golden: GoldenCase) throws {
        let expected = try Fixtures.bytes(golden.name)
        let encoded = golden.value.serializedBytes()
        #expect(encoded == expected, "\(golden.name): \(hex(encoded)) != \(hex(expected))")
        #expect(golden.value.serializedSize() == expected.count)
    }

    @Test(arguments: goldenCases)
    func decodesTheReferenceBytes(_ golden: GoldenCase) throws {
        let bytes = try Fixtures.bytes(golden.name)
        try checkDecode(golden.value, bytes, comparable: golden.comparable)
    }

    private func checkDecode<M: ProtoMessage>(_ expected: M, _ bytes: [UInt8], comparable: Bool) throws {
        let decoded = try M(serializedBytes: bytes)
        if comparable {
            #expect(decoded == expected)
        } else {
            // NaN is not equal to itself: compare the encodings, which carry the bit patterns.
            #expect(decoded.serializedBytes() == expected.serializedBytes())
        }
        #expect(decoded.unknownFields.isEmpty)
        // Decoding from raw memory gives the same message.
        let fromBuffer = try bytes.withUnsafeBytes { try M(serializedBytes: $0) }
        #expect(fromBuffer.serializedBytes() == decoded.serializedBytes())
    }

    @Test func nanBitPatternsSurvive() throws {
        let message = try AllTypes(serializedBytes: Fixtures.bytes("float_specials"))
        #expect(message.rDouble[0].isNaN)
        #expect(message.rDouble[0].bitPattern == Double.nan.bitPattern)
        #expect(message.rFloat[0].bitPattern == Float.nan.bitPattern)
        #expect(message.rDouble[3].bitPattern == (-0.0 as Double).bitPattern)
        #expect(message.rFloat[5] == .leastNonzeroMagnitude)
        let scalars = try AllTypes(serializedBytes: Fixtures.bytes("nan_scalars"))
        #expect(scalars.fDouble.isNaN && scalars.fFloat.isNaN)
    }

    @Test func negativeZeroIsSentAndKept() throws {
        let message = try AllTypes(serializedBytes: Fixtures.bytes("negative_zero"))
        #expect(message.fDouble.sign == .minus && message.fDouble == 0)
        #expect(message.fFloat.sign == .minus)
        #expect(AllTypes().serializedBytes().isEmpty)
    }

    @Test func negativeInt32IsTenBytes() throws {
        #expect(try Fixtures.bytes("negative_int32") == [0x18] + [UInt8](repeating: 0xFF, count: 9) + [0x01])
    }

    @Test func unpackedRepeatedFieldsAreAccepted() throws {
        let packed = try AllTypes(serializedBytes: Fixtures.bytes("repeated_packed"))
        let unpacked = try AllTypes(serializedBytes: Fixtures.bytes("repeated_unpacked"))
        #expect(unpacked == packed)
        // Re-encoding writes the packed form.
        #expect(unpacked.serializedBytes() == (try Fixtures.bytes("repeated_packed")))
        // Packed and unpacked runs of one field in one message are concatenated, in order.
        let both = try AllTypes(serializedBytes: Fixtures.bytes("repeated_packed") + Fixtures.bytes("repeated_unpacked"))
        #expect(both.rInt32 == packed.rInt32 + packed.rInt32)
        #expect(both.rColor == packed.rColor + packed.rColor)
        #expect(both.rFloat == packed.rFloat + packed.rFloat)
    }

    @Test func unknownFieldsAreKeptAndReEmitted() throws {
        let newer = try Fixtures.bytes("nested_v2")
        let older = try Nested(serializedBytes: newer)
        #expect(older.id == 5)
        #expect(older.label == "v2")
        #expect(!older.unknownFields.isEmpty)
        #expect(older.serializedBytes() == newer)
        // And a newer reader sees the fields the older one passed on.
        let roundTripped = try NestedV2(serializedBytes: older.serializedBytes())
        #expect(roundTripped.extraString == "later")
        #expect(roundTripped.extraMessage == Nested(id: 9, label: "deep"))
        #expect(roundTripped.extraSint32 == -100)
    }

    @Test func unknownEnumValuesAreKept() throws {
        let message = try AllTypes(serializedBytes: Fixtures.bytes("unknown_enum_value"))
        #expect(message.fColor.rawValue == 42)
        #expect(message.fColor.description == "42")
        #expect(message.optColor == Color(rawValue: -7))
        #expect(Color.negative.description == "COLOR_NEGATIVE")
    }

    @Test func mapsDecodeWhateverTheEntryOrder() throws {
        let message = try AllTypes(serializedBytes: Fixtures.bytes("maps"))
        #expect(message.mStringInt64["aa"] == Int64.min)
        #expect(message.mInt32Nested[-5] == Nested(id: 1))
        // Our own encoding is sorted by key, so equal maps give equal bytes.
        let again = try AllTypes(serializedBytes: message.serializedBytes())
        #expect(again == message)
        #expect(again.serializedBytes() == message.serializedBytes())
    }
}

func hex(_ bytes: [UInt8]) -> String {
    bytes.prefix(200).map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
}
