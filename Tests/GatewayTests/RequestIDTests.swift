import Foundation
@testable import Gateway
import Testing

/// The request ids the gateway makes when a client sends none (or an unusable one).
struct RequestIDTests {
    @Test func madeIDsAreDistinctVersion4UUIDs() throws {
        let ids = (0..<2000).map { _ in GatewayMiddleware.randomUUID() }
        #expect(Set(ids).count == ids.count)
        for id in ids {
            let parsed = try #require(UUID(uuidString: id), "\(id) is not a UUID")
            #expect(parsed.uuidString.lowercased() == id)
            let bytes = withUnsafeBytes(of: parsed.uuid) { Array($0) }
            #expect(bytes[6] >> 4 == 4, "version nibble of \(id)")
            #expect(bytes[8] >> 6 == 0b10, "variant bits of \(id)")
        }
    }

    @Test func everyRandomBitVaries() {
        // 122 random bits: over a few hundred ids, each hex digit position other than the fixed
        // ones takes more than one value (a stuck generator or a formatting slip would not).
        let ids = (0..<300).map { _ in Array(GatewayMiddleware.randomUUID().utf8) }
        for position in 0..<36 where ![8, 13, 14, 18, 23].contains(position) {
            #expect(Set(ids.map { $0[position] }).count > 1, "position \(position) never changes")
        }
        #expect(Set(ids.map { $0[14] }) == [UInt8(ascii: "4")])
        #expect(Set(ids.map { $0[19] }).isSubset(of: Array("89ab".utf8)))
    }
}
