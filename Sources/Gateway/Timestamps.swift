import Foundation

/// Unix times as the API writes them.
enum Timestamps {
    /// `seconds` since 1970 as an RFC 3339 UTC timestamp, `2026-11-29T09:34:21Z`: exactly what
    /// `ISO8601DateFormatter` with `.withInternetDateTime` writes, without creating a formatter
    /// (an ICU date formatter, ~0.1 ms) for every call. Years before 1600 (where the formatter
    /// switches to the Julian calendar) or after 9999 go through the formatter.
    static func iso8601(_ seconds: Int64) -> String {
        var time = time_t(seconds)
        var parts = tm()
        guard gmtime_r(&time, &parts) != nil else { return slowISO8601(seconds) }
        let year = Int(parts.tm_year) + 1900
        guard (1600...9999).contains(year) else { return slowISO8601(seconds) }
        // "YYYY-MM-DDTHH:MM:SSZ", written digit by digit into the string's own storage.
        return String(unsafeUninitializedCapacity: 20) { buffer in
            var position = 0
            func put(_ value: Int, digits: Int, then separator: Character) {
                var divisor = digits == 4 ? 1000 : 10
                while divisor > 0 {
                    buffer[position] = UInt8(ascii: "0") + UInt8(value / divisor % 10)
                    position += 1
                    divisor /= 10
                }
                buffer[position] = separator.asciiValue!
                position += 1
            }
            put(year, digits: 4, then: "-")
            put(Int(parts.tm_mon) + 1, digits: 2, then: "-")
            put(Int(parts.tm_mday), digits: 2, then: "T")
            put(Int(parts.tm_hour), digits: 2, then: ":")
            put(Int(parts.tm_min), digits: 2, then: ":")
            put(Int(parts.tm_sec), digits: 2, then: "Z")
            return position
        }
    }

    /// The formatter itself, for the times outside years 1600-9999.
    static func slowISO8601(_ seconds: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }
}
