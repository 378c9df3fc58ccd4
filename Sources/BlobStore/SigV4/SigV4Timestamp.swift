import Foundation

/// The instant a SigV4 signature is made, in UTC, as the two strings the protocol uses.
public struct SigV4Timestamp: Sendable, Hashable {
    /// Seconds since 1970-01-01T00:00:00Z.
    public let unixSeconds: Int
    /// `YYYYMMDD'T'HHMMSS'Z'`, the `X-Amz-Date` value.
    public let amzDate: String
    /// `YYYYMMDD`, the date in the credential scope.
    public let dateStamp: String

    /// The timestamp `unixSeconds` after the epoch (any value from year 1 to 9999).
    public init(unixSeconds: Int) {
        self.unixSeconds = unixSeconds
        let days = unixSeconds >= 0 ? unixSeconds / 86_400 : (unixSeconds - 86_399) / 86_400
        let secondsOfDay = unixSeconds - days * 86_400
        let (year, month, day) = Self.civilDate(daysSinceEpoch: days)
        let date = Self.pad(year, 4) + Self.pad(month, 2) + Self.pad(day, 2)
        dateStamp = date
        amzDate = date + "T" + Self.pad(secondsOfDay / 3600, 2) + Self.pad(secondsOfDay / 60 % 60, 2) + Self.pad(secondsOfDay % 60, 2) + "Z"
    }

    /// The current wall-clock time.
    public static var now: SigV4Timestamp {
        SigV4Timestamp(unixSeconds: Int(Date().timeIntervalSince1970))
    }

    /// Year, month, day of the proleptic Gregorian calendar (Howard Hinnant's `civil_from_days`).
    static func civilDate(daysSinceEpoch: Int) -> (year: Int, month: Int, day: Int) {
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
