import InteropAPI
import ProtoWire
import Testing
import WireTestMessages

@Suite struct PrimitiveTests {
    @Test(arguments: [
        (UInt64(0), 1), (1, 1), (127, 1), (128, 2), (16_383, 2), (16_384, 3), (UInt64(UInt32.max), 5),
        (1 << 63, 10), (UInt64.max, 10),
    ] as [(UInt64, Int)])
    func varintSizeMatchesTheWriter(_ value: UInt64, _ size: Int) {
        #expect(ProtoSize.varint(value) == size)
        let message = AllTypes(fUint64: value)
        #expect(message.serializedBytes().count == (value == 0 ? 0 : 1 + size))
    }

    @Test(arguments: [(Int32(0), UInt32(0)), (-1, 1), (1, 2), (-2, 3), (Int32.max, 0xFFFF_FFFE), (Int32.min, 0xFFFF_FFFF)] as [(Int32, UInt32)])
    func zigZag32(_ value: Int32, _ encoded: UInt32) {
        #expect(ZigZag.encode(value) == encoded)
        #expect(ZigZag.decode(encoded) == value)
    }

    @Test(arguments: [(Int64(0), UInt64(0)), (-1, 1), (1, 2), (Int64.max, UInt64.max - 1), (Int64.min, UInt64.max)] as [(Int64, UInt64)])
    func zigZag64(_ value: Int64, _ encoded: UInt64) {
        #expect(ZigZag.encode(value) == encoded)
        #expect(ZigZag.decode(encoded) == value)
    }

    @Test func lastScalarWinsAndMessagesMerge() throws {
        // f_int32 = 1, f_int32 = 2; f_nested {id: 5}, f_nested {label: "x"}.
        let bytes: [UInt8] = [0x18, 0x01, 0x18, 0x02, 0x8A, 0x01, 0x02, 0x08, 0x05, 0x8A, 0x01, 0x03, 0x12, 0x01, 0x78]
        let message = try AllTypes(serializedBytes: bytes)
        #expect(message.fInt32 == 2)
        #expect(message.fNested == Nested(id: 5, label: "x"))
    }

    @Test func oneofTakesTheLastMemberAndMergesTheSameMessage() throws {
        // o_string = "a", then o_int32 = 3.
        let switched = try AllTypes(serializedBytes: [0xE2, 0x03, 0x01, 0x61, 0xF0, 0x03, 0x03])
        #expect(switched.choice == .oInt32(3))
        // o_nested {id: 1}, o_nested {label: "b"}.
        let merged = try AllTypes(serializedBytes: [0xEA, 0x03, 0x02, 0x08, 0x01, 0xEA, 0x03, 0x03, 0x12, 0x01, 0x62])
        #expect(merged.choice == .oNested(Nested(id: 1, label: "b")))
    }

    @Test func mapEntriesMayOmitKeyOrValueAndLaterEntriesWin() throws {
        // {value: 5} (no key), then {key: "", value: 6}; an entry with an unknown field 3.
        let bytes: [UInt8] = [0x92, 0x03, 0x02, 0x10, 0x05, 0x92, 0x03, 0x04, 0x0A, 0x00, 0x10, 0x06, 0x92, 0x03, 0x05, 0x0A, 0x01, 0x6B, 0x18, 0x01]
        let message = try AllTypes(serializedBytes: bytes)
        #expect(message.mStringInt64 == ["": 6, "k": 0])
        #expect(message.unknownFields.isEmpty)
    }

    @Test func oneMebibyteOfBytesRoundTrips() throws {
        let payload = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let request = EchoRequest(payload: payload, text: "big")
        let bytes = request.serializedBytes()
        #expect(bytes.count == request.serializedSize())
        #expect(bytes.count == 1 + 3 + (1 << 20) + 2 + 3)
        let decoded = try EchoRequest(serializedBytes: bytes)
        #expect(decoded == request)
    }

    @Test func recursiveMessagesAreValuesDespiteTheBox() {
        var a = Recursive(value: 1)
        a.child = Recursive(value: 2)
        var b = a
        b.child?.value = 3
        #expect(a.child?.value == 2)
        #expect(b.child?.value == 3)
        #expect(a != b)
        b.child?.value = 2
        #expect(a == b)
        #expect(a.hashValue == b.hashValue)
    }

    @Test func enumsAreOpen() {
        #expect(Color(rawValue: 1) == .red)
        #expect(Color() == .unspecified)
        #expect(Color.allNamed == [.unspecified, .red, .green, .negative])
        #expect(AllTypes.Mood.grumpy.description == "MOOD_GRUMPY")
        #expect(Color(rawValue: 12).description == "12")
    }

    @Test func defaultsAreNotSent() {
        #expect(AllTypes().serializedBytes() == [])
        #expect(AllTypes(fNested: Nested()).serializedBytes() == [0x8A, 0x01, 0x00])
        #expect(AllTypes(optInt32: 0).serializedBytes() == [0xB0, 0x04, 0x00])
    }
}
