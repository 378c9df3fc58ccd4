import ProtoWire
import Testing
import WireTestMessages

/// Every prefix and many corruptions of every fixture either decode or throw: none may trap.
@Suite struct RobustnessTests {
    /// Decodes as `M`; if that works, re-encodes and decodes again (exercising the size check).
    private func survive<M: ProtoMessage>(_ type: M.Type, _ bytes: [UInt8]) -> Bool {
        guard let message = try? M(serializedBytes: bytes) else { return false }
        let again = try? M(serializedBytes: message.serializedBytes())
        #expect(again != nil)
        return true
    }

    private func surviveAll(_ bytes: [UInt8]) -> Int {
        var decoded = 0
        if survive(AllTypes.self, bytes) { decoded += 1 }
        if survive(UnpackedTypes.self, bytes) { decoded += 1 }
        if survive(Nested.self, bytes) { decoded += 1 }
        if survive(NestedV2.self, bytes) { decoded += 1 }
        if survive(Recursive.self, bytes) { decoded += 1 }
        return decoded
    }

    @Test(arguments: Fixtures.names)
    func everyPrefixDecodesOrThrows(_ name: String) throws {
        let bytes = try Fixtures.bytes(name)
        let step = bytes.count > 4096 ? 97 : 1
        var rejected = 0
        for length in stride(from: 0, to: bytes.count, by: step) {
            if surviveAll(Array(bytes[0..<length])) < 5 { rejected += 1 }
        }
        // A cut inside the last field makes at least some prefixes invalid for some type.
        if bytes.count > 1 { #expect(rejected > 0) }
    }

    @Test(arguments: Fixtures.names)
    func corruptedBytesDecodeOrThrow(_ name: String) throws {
        let bytes = try Fixtures.bytes(name)
        guard !bytes.isEmpty, bytes.count < 4096 else { return }
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(bytes.count)
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 33
        }
        for _ in 0..<300 {
            var mutated = bytes
            for _ in 0...(next() % 3) {
                let index = Int(next() % UInt64(mutated.count))
                switch next() % 4 {
                case 0: mutated[index] = UInt8(truncatingIfNeeded: next())
                case 1: mutated[index] ^= 0x80
                case 2: mutated.insert(UInt8(truncatingIfNeeded: next()), at: index)
                default: if mutated.count > 1 { mutated.remove(at: index) }
                }
            }
            _ = surviveAll(mutated)
        }
    }

    @Test func dripFedConcatenationMergesLikeOneMessage() throws {
        // Protobuf messages concatenate: decoding a + b equals merging b into a.
        let a = try Fixtures.bytes("scalars_typical")
        let b = try Fixtures.bytes("repeated_messages")
        var merged = try AllTypes(serializedBytes: a)
        try merged.merge(serializedBytes: b)
        #expect(try AllTypes(serializedBytes: a + b) == merged)
        #expect(merged.fString == "hello")
        #expect(merged.rNested.count == 3)
    }
}
