/// Calendar arithmetic on Unix times, without Foundation's formatters (whose output differs
/// between platforms and versions): the payload's `at` and the mail's `Date` must be stable.
enum CivilTime {
    /// Year, month (1–12), day, hour, minute, second, millisecond and weekday (0 = Sunday) in UTC.
    struct Parts: Equatable {
        let year: Int64, month: Int, day: Int, hour: Int, minute: Int, second: Int, millisecond: Int, weekday: Int
    }

    /// The UTC calendar parts of `milliseconds` since the epoch (any Int64, negative included).
    static func parts(unixMilliseconds milliseconds: Int64) -> Parts {
        let (days, msOfDay) = floorDivision(milliseconds, 86_400_000)
        // Howard Hinnant's civil_from_days; `days` is at most ~1.07e11 in magnitude, so no overflow.
        let z = days + 719_468
        let (era, _) = floorDivision(z, 146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = Int(doy - (153 * mp + 2) / 5 + 1)
        let month = Int(mp < 10 ? mp + 3 : mp - 9)
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        let (_, weekday) = floorDivision(days + 4, 7)
        let ms = Int(msOfDay)
        return Parts(year: year, month: month, day: day, hour: ms / 3_600_000, minute: ms / 60_000 % 60,
                     second: ms / 1000 % 60, millisecond: ms % 1000, weekday: Int(weekday))
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
    /// For years 0–9999 as parsers pass them: no overflow.
    static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// `2026-12-06T04:25:00.123Z` (RFC 3339, UTC, always milliseconds).
    static func rfc3339(unixMilliseconds: Int64) -> String {
        let p = parts(unixMilliseconds: unixMilliseconds)
        return "\(pad(p.year, 4))-\(pad(p.month, 2))-\(pad(p.day, 2))T\(pad(p.hour, 2)):\(pad(p.minute, 2)):\(pad(p.second, 2))."
            + "\(pad(p.millisecond, 3))Z"
    }

    /// `Sun, 06 Dec 2026 04:25:00 +0000` (RFC 5322 §3.3).
    static func rfc5322(unixMilliseconds: Int64) -> String {
        let p = parts(unixMilliseconds: unixMilliseconds)
        let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        return "\(weekdays[p.weekday]), \(pad(p.day, 2)) \(months[p.month - 1]) \(pad(p.year, 4)) "
            + "\(pad(p.hour, 2)):\(pad(p.minute, 2)):\(pad(p.second, 2)) +0000"
    }

    private static func floorDivision(_ a: Int64, _ b: Int64) -> (Int64, Int64) {
        let quotient = a / b
        let remainder = a % b
        return remainder < 0 ? (quotient - 1, remainder + b) : (quotient, remainder)
    }

    private static func pad<T: BinaryInteger>(_ value: T, _ width: Int) -> String {
        let text = String(value.magnitude)
        let padded = String(repeating: "0", count: max(0, width - text.count)) + text
        return value < 0 ? "-" + padded : padded
    }
}
