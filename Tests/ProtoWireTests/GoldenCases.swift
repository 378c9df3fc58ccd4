import ProtoWire
import WireTestMessages

/// One golden case: a value, and the fixture the reference implementation wrote for it.
struct GoldenCase: Sendable, CustomStringConvertible {
    var name: String
    var value: any ProtoMessage
    /// False when the reference's bytes are not the only valid encoding (several map entries).
    var checkEncoding = true
    /// False when the value holds a NaN, which is never `==` itself; bytes are compared instead.
    var comparable = true

    var description: String { name }
}

private let int32Min = Int32.min, int32Max = Int32.max, int64Min = Int64.min, int64Max = Int64.max

private func all(_ build: (inout AllTypes) -> Void) -> AllTypes {
    var message = AllTypes()
    build(&message)
    return message
}

/// The same values as the cases in scripts/gen-golden.py.
let goldenCases: [GoldenCase] = [
    GoldenCase(name: "empty", value: AllTypes()),
    GoldenCase(name: "scalars_typical", value: all {
        $0.fDouble = 1.5; $0.fFloat = -2.25; $0.fInt32 = 150; $0.fInt64 = 1 << 40; $0.fUint32 = 300
        $0.fUint64 = 1 << 50; $0.fSint32 = -75; $0.fSint64 = -(1 << 40); $0.fFixed32 = 0xDEAD_BEEF
        $0.fFixed64 = 0x0123_4567_89AB_CDEF; $0.fSfixed32 = -123_456; $0.fSfixed64 = -(1 << 60); $0.fBool = true
        $0.fString = "hello"; $0.fBytes = [0, 1, 2, 255]; $0.fColor = .green
        $0.fNested = Nested(id: 7, label: "seven"); $0.mood = .grumpy; $0.inner = AllTypes.Inner(value: -3)
    }),
    GoldenCase(name: "negative_int32", value: all { $0.fInt32 = -1 }),
    GoldenCase(name: "int_minimums", value: all {
        $0.fInt32 = int32Min; $0.fInt64 = int64Min; $0.fSint32 = int32Min; $0.fSint64 = int64Min
        $0.fSfixed32 = int32Min; $0.fSfixed64 = int64Min; $0.fColor = .negative
    }),
    GoldenCase(name: "int_maximums", value: all {
        $0.fInt32 = int32Max; $0.fInt64 = int64Max; $0.fUint32 = .max; $0.fUint64 = .max; $0.fSint32 = int32Max
        $0.fSint64 = int64Max; $0.fFixed32 = .max; $0.fFixed64 = .max; $0.fSfixed32 = int32Max; $0.fSfixed64 = int64Max
    }),
    GoldenCase(name: "zigzag_small", value: all { $0.fSint32 = -1; $0.fSint64 = 1; $0.rSint64 = [0, -1, 1, -2, 2] }),
    GoldenCase(name: "negative_zero", value: all { $0.fDouble = -0.0; $0.fFloat = -0.0 }),
    GoldenCase(name: "float_specials", value: all {
        $0.fDouble = .infinity; $0.fFloat = -.infinity
        $0.rDouble = [.nan, .infinity, -.infinity, -0.0, 0.0, 1e-300, .leastNonzeroMagnitude]
        $0.rFloat = [.nan, .infinity, -.infinity, -0.0, .greatestFiniteMagnitude, .leastNonzeroMagnitude]
    }, comparable: false),
    GoldenCase(name: "nan_scalars", value: all { $0.fDouble = .nan; $0.fFloat = .nan }, comparable: false),
    GoldenCase(name: "unicode_strings", value: all {
        $0.fString = "h\u{e9}llo w\u{f6}rld \u{2713} \u{1F600} \u{65E5}\u{672C}\u{8A9E}"
        $0.rString = ["", "a", "\u{1D11E}", "\u{e9}"]
        $0.optString = "\u{fc}n\u{ef}"
    }),
    GoldenCase(name: "repeated_packed", value: all {
        $0.rInt32 = [0, 1, -1, 300, int32Max, int32Min]; $0.rSint64 = [0, -1, 1, int64Min, int64Max]
        $0.rDouble = [1.0, -2.5]; $0.rFixed32 = [0, 1, .max]; $0.rBool = [true, false, true]
        $0.rColor = [.red, .negative, Color(rawValue: 7)]; $0.rUint64 = [0, 1 << 63, .max]; $0.rFloat = [0.5]
    }),
    GoldenCase(name: "repeated_unpacked", value: {
        var message = UnpackedTypes()
        message.rInt32 = [0, 1, -1, 300, int32Max, int32Min]; message.rSint64 = [0, -1, 1, int64Min, int64Max]
        message.rDouble = [1.0, -2.5]; message.rFixed32 = [0, 1, .max]; message.rBool = [true, false, true]
        message.rColor = [.red, .negative, Color(rawValue: 7)]; message.rUint64 = [0, 1 << 63, .max]; message.rFloat = [0.5]
        return message
    }()),
    GoldenCase(name: "repeated_messages", value: all {
        $0.rString = ["one", "", "three"]; $0.rBytes = [[], [0, 255]]
        $0.rNested = [Nested(), Nested(id: 1, label: "x"), Nested(id: -1)]
    }),
    GoldenCase(name: "maps", value: all {
        $0.mStringInt64 = ["b": 2, "a": -1, "": 0, "\u{e9}": 5, "aa": int64Min]
        $0.mInt32Nested = [7: Nested(label: "seven"), -5: Nested(id: 1), 0: Nested()]
    }, checkEncoding: false),
    GoldenCase(name: "maps_single", value: all {
        $0.mStringInt64 = ["\u{e9}t\u{e9}": -3]; $0.mInt32Nested = [-1: Nested(id: 2, label: "two")]
    }),
    GoldenCase(name: "maps_default_entry", value: all { $0.mStringInt64 = ["": 0]; $0.mInt32Nested = [0: Nested()] }),
    GoldenCase(name: "oneof_string", value: all { $0.choice = .oString("picked") }),
    GoldenCase(name: "oneof_nested", value: all { $0.choice = .oNested(Nested(id: 3)) }),
    GoldenCase(name: "oneof_nested_empty", value: all { $0.choice = .oNested(Nested()) }),
    GoldenCase(name: "oneof_int32_zero", value: all { $0.choice = .oInt32(0) }),
    GoldenCase(name: "optional_zero", value: all { $0.optInt32 = 0; $0.optString = ""; $0.optColor = .unspecified }),
    GoldenCase(name: "optional_set", value: all { $0.optInt32 = -9; $0.optString = "x"; $0.optColor = .red }),
    GoldenCase(name: "max_field_number", value: all { $0.maxFieldNumber = 1 }),
    GoldenCase(name: "unknown_enum_value", value: all {
        $0.fColor = Color(rawValue: 42); $0.rColor = [.red, Color(rawValue: 99)]; $0.optColor = Color(rawValue: -7)
    }),
    GoldenCase(name: "nested_v2", value: NestedV2(
        id: 5, label: "v2", extraFixed64: .max, extraString: "later", extraSint32: -100,
        extraFixed32: 0x0102_0304, extraMessage: Nested(id: 9, label: "deep"))),
    GoldenCase(name: "recursive", value: {
        var message = Recursive(value: 1)
        message.child = Recursive(child: Recursive(value: 3), value: 2)
        message.link = .other(Recursive(value: 4))
        return message
    }()),
    GoldenCase(name: "large_bytes", value: all {
        $0.fBytes = (0..<70_000).map { UInt8($0 % 251) }
        $0.fString = String(repeating: "x", count: 200)
    }),
]
