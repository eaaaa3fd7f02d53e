import Foundation

/// A timestamp that `CronTimeFormat.parse` could not read.
public struct CronTimeParseError: Error, CustomStringConvertible, Hashable, Sendable {
    /// The text as given (shortened to 40 characters).
    public let text: String
    /// What is wrong and what to write instead.
    public let message: String

    /// Creates the error.
    public init(text: String, message: String) {
        self.text = CronParseError.shortened(text)
        self.message = message
    }

    /// `time: "<text>": <message>`.
    public var description: String { "time: \"\(text)\": \(message)" }
}

/// ISO 8601 timestamps as Quorum prints and reads them: `2025-03-09T03:00:00-04:00`.
///
/// Hand-written on integer calendar arithmetic: no `DateFormatter`, no locale, no allocation
/// beyond the result string.
public enum CronTimeFormat {
    /// `date` on the wall clock of `zone`, with the zone's UTC offset at that instant and no
    /// fraction: `2025-03-09T03:00:00-04:00`, `2025-01-15T10:21:00+00:00`. Fractions of a
    /// second are dropped (rounded down). An offset with seconds (historic local mean time)
    /// is printed as `+HH:MM:SS`. Non-finite dates print as 1970-01-01T00:00:00 and dates
    /// beyond ±100,000 years are clamped; cron itself never produces either.
    public static func format(_ date: Date, in zone: TimeZone) -> String {
        let limit = 3.2e12
        var seconds = date.timeIntervalSince1970
        if !seconds.isFinite { seconds = 0 }
        let instant = Int(min(max(seconds, -limit), limit).rounded(.down))
        let offset = zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(instant)))
        let wall = instant + offset
        let days = CivilCalendar.floorDivide(wall, CivilCalendar.secondsPerDay)
        let secondOfDay = wall - days * CivilCalendar.secondsPerDay
        let civil = CivilCalendar.date(days: days)

        var text = civil.year < 0 ? "-" + padded(-civil.year, 4) : padded(civil.year, 4)
        text += "-" + padded(civil.month, 2) + "-" + padded(civil.day, 2)
        text += "T" + padded(secondOfDay / 3600, 2) + ":" + padded(secondOfDay % 3600 / 60, 2)
        text += ":" + padded(secondOfDay % 60, 2)
        let magnitude = abs(offset)
        text += (offset < 0 ? "-" : "+") + padded(magnitude / 3600, 2) + ":" + padded(magnitude % 3600 / 60, 2)
        if magnitude % 60 != 0 { text += ":" + padded(magnitude % 60, 2) }
        return text
    }

    /// Reads `YYYY-MM-DDTHH:MM[:SS[.fraction]]` followed by `Z` or an offset `±HH:MM`
    /// (`±HHMM` and `±HH` too). `T` may also be `t` or a space; `Z` may be `z`.
    ///
    /// - Throws: `CronTimeParseError` saying which part is wrong, for example a missing
    ///   offset (a wall time alone is ambiguous) or `month 13 is out of range 1-12`.
    public static func parse(_ text: String) throws(CronTimeParseError) -> Date {
        var reader = TimestampReader(bytes: Array(text.utf8), text: text)
        return try reader.read()
    }

    static func padded(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}
