import NIOCore
import SchedulerCore

/// RFC 3339 timestamps in UTC with milliseconds (`2026-12-01T09:00:00.123Z`), without
/// Foundation's formatters (no locale, no calendar, no allocation of formatter state).
///
/// Formatting always writes `Z` and three fraction digits. Parsing accepts `Z`/`z` or a numeric
/// offset (`+02:00`), an optional fraction of any length (truncated to milliseconds) and `T`/`t`
/// or a space between date and time, and rejects everything else (including leap seconds and
/// days that do not exist).
public enum RFC3339 {
    /// `2026-12-01T09:00:00.123Z` for `time` (years 0000–9999; outside that range the year is
    /// written with as many digits as it needs).
    public static func format(_ time: Timestamp) -> String {
        let f = fields(time)
        return "\(pad(f.year, 4))-\(pad(f.month, 2))-\(pad(f.day, 2))T\(pad(f.hour, 2)):\(pad(f.minute, 2)):\(pad(f.second, 2)).\(pad(f.millis, 3))Z"
    }

    /// Writes ``format(_:)``'s text into `buffer` without building a `String` (years 0000–9999;
    /// other years through ``format(_:)``).
    static func write(_ time: Timestamp, into buffer: inout ByteBuffer) {
        let f = fields(time)
        guard (0...9999).contains(f.year) else {
            buffer.writeString(format(time))
            return
        }
        func digits(_ value: Int64, _ width: Int, then separator: UInt8) {
            var divisor: Int64 = 1
            for _ in 1..<width { divisor *= 10 }
            while divisor > 0 {
                buffer.writeInteger(UInt8(48 + (value / divisor) % 10))
                divisor /= 10
            }
            buffer.writeInteger(separator)
        }
        digits(f.year, 4, then: 45)
        digits(f.month, 2, then: 45)
        digits(f.day, 2, then: 84)
        digits(f.hour, 2, then: 58)
        digits(f.minute, 2, then: 58)
        digits(f.second, 2, then: 46)
        digits(f.millis, 3, then: 90)
    }

    /// The calendar fields of `time` in UTC.
    private static func fields(_ time: Timestamp) -> (year: Int64, month: Int64, day: Int64, hour: Int64, minute: Int64, second: Int64, millis: Int64) {
        let ms = time.milliseconds
        let days = floorDiv(ms, 86_400_000)
        let msOfDay = ms - days * 86_400_000
        let (year, month, day) = civil(fromDays: days)
        return (year, month, day, msOfDay / 3_600_000, (msOfDay / 60_000) % 60, (msOfDay / 1000) % 60, msOfDay % 1000)
    }

    /// Parses an RFC 3339 date-time; `nil` when `text` is not one.
    public static func parse(_ text: String) -> Timestamp? {
        let b = Array(text.utf8)
        guard b.count >= 20, b.count <= 64 else { return nil }
        func digits(_ from: Int, _ count: Int) -> Int64? {
            guard from + count <= b.count else { return nil }
            var value: Int64 = 0
            for i in from..<(from + count) {
                guard b[i] >= 48, b[i] <= 57 else { return nil }
                value = value * 10 + Int64(b[i] - 48)
            }
            return value
        }
        guard let year = digits(0, 4), b[4] == 45, let month = digits(5, 2), b[7] == 45,
              let day = digits(8, 2), b[10] == 84 || b[10] == 116 || b[10] == 32,
              let hour = digits(11, 2), b[13] == 58, let minute = digits(14, 2), b[16] == 58,
              let second = digits(17, 2)
        else { return nil }
        guard (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year),
              hour <= 23, minute <= 59, second <= 59
        else { return nil }
        var i = 19
        var millis: Int64 = 0
        if i < b.count, b[i] == 46 {
            i += 1
            let start = i
            while i < b.count, b[i] >= 48, b[i] <= 57 {
                if i - start < 3 { millis = millis * 10 + Int64(b[i] - 48) }
                i += 1
            }
            let count = i - start
            guard count >= 1 else { return nil }
            for _ in count..<max(count, 3) { millis *= 10 }
        }
        guard i < b.count else { return nil }
        var offsetMinutes: Int64 = 0
        if b[i] == 90 || b[i] == 122 {
            i += 1
        } else if b[i] == 43 || b[i] == 45 {
            guard let oh = digits(i + 1, 2), i + 3 < b.count, b[i + 3] == 58, let om = digits(i + 4, 2),
                  oh <= 23, om <= 59
            else { return nil }
            offsetMinutes = (oh * 60 + om) * (b[i] == 45 ? -1 : 1)
            i += 6
        } else {
            return nil
        }
        guard i == b.count else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let local = ((days * 24 + hour) * 60 + minute) * 60 + second
        return Timestamp((local - offsetMinutes * 60) * 1000 + millis)
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }

    private static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    private static func isLeap(_ year: Int64) -> Bool {
        (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
    }

    private static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
    static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = floorDiv(y, 400)
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The proleptic Gregorian date of a day count since 1970-01-01 (`civil_from_days`).
    static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = floorDiv(z, 146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

/// A timestamp on the wire: an RFC 3339 string in JSON, milliseconds in memory.
public struct APITimestamp: Codable, Hashable, Sendable, CustomStringConvertible {
    /// The instant.
    public var time: Timestamp
    /// Wraps an instant.
    public init(_ time: Timestamp) { self.time = time }

    /// Reads an RFC 3339 string; anything else is an `invalid` value naming the field.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let time = RFC3339.parse(text) else {
            throw FieldProblem(.invalid, path: decoder.codingPath,
                               message: "'\(FieldProblem.shortened(text))' is not an RFC 3339 timestamp; write e.g. 2026-12-01T09:00:00Z")
        }
        self.time = time
    }

    /// Writes `2026-12-01T09:00:00.123Z`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(RFC3339.format(time))
    }

    /// The RFC 3339 text.
    public var description: String { RFC3339.format(time) }
}
