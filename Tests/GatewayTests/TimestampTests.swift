import Foundation
@testable import Gateway
import Testing

/// The gateway's own RFC 3339 writer must match what Foundation's formatter wrote before it.
@Suite struct TimestampTests {
    static func formatter(_ seconds: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }

    @Test(arguments: [
        Int64(0), 1, 59, 86_399, 951_782_400 /* 2000-02-29 */, 1_700_000_000, 1_795_858_461, 4_102_444_800 /* 2100-01-01 */,
        253_402_300_799 /* 9999-12-31T23:59:59Z */, -1, -86_400, -11_676_096_000 /* 1600-01-01 */, -11_676_096_001, -62_135_596_800 /* Julian in Foundation */,
    ])
    func matchesFoundation(_ seconds: Int64) {
        #expect(Timestamps.iso8601(seconds) == Self.formatter(seconds))
    }

    @Test func shape() {
        #expect(Timestamps.iso8601(1_795_858_461) == "2026-11-28T09:34:21Z")
        #expect(Timestamps.iso8601(0) == "1970-01-01T00:00:00Z")
    }
}
