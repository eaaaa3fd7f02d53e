/// Proleptic Gregorian calendar arithmetic on plain integers.
///
/// The cron search works on *wall-clock seconds*: seconds since 1970-01-01T00:00 on the local
/// clock, as if the zone were UTC. Converting between those and calendar fields here, without
/// `Calendar`, keeps the search allocation-free and independent of locale settings.
/// The day/civil conversions are Howard Hinnant's `days_from_civil` / `civil_from_days`.
enum CivilCalendar {
    static let secondsPerDay = 86_400

    /// A calendar date.
    struct Date: Hashable, Sendable {
        var year: Int
        var month: Int
        var day: Int
    }

    /// Days since 1970-01-01 of the given date (negative before it).
    static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let shiftedMonth = month > 2 ? month - 3 : month + 9
        let dayOfYear = (153 * shiftedMonth + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The date `days` days after 1970-01-01.
    static func date(days: Int) -> Date {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return Date(year: year, month: month, day: day)
    }

    /// Day of the week of a day number: 0 is Sunday … 6 is Saturday (1970-01-01 was a Thursday).
    static func weekday(days: Int) -> Int {
        let w = (days + 4) % 7
        return w < 0 ? w + 7 : w
    }

    static func isLeapYear(_ year: Int) -> Bool {
        (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
    }

    /// Number of days in `month` (1–12) of `year`.
    static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: return isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// The most days `month` ever has (29 for February).
    static func maximumDaysInMonth(_ month: Int) -> Int {
        month == 2 ? 29 : daysInMonth(year: 2001, month: month)
    }

    /// `value / divisor` rounded towards negative infinity (`divisor > 0`).
    static func floorDivide(_ value: Int, _ divisor: Int) -> Int {
        let q = value / divisor
        return (value % divisor < 0) ? q - 1 : q
    }

    /// The smallest multiple of 60 that is `>= seconds`.
    static func ceilingToMinute(_ seconds: Int) -> Int {
        -floorDivide(-seconds, 60) * 60
    }

    /// First second of year 1 and last second of year 9999: the instants Quorum's cron supports.
    static let firstSupportedSecond = days(year: 1, month: 1, day: 1) * secondsPerDay
    static let lastSupportedSecond = days(year: 10_000, month: 1, day: 1) * secondsPerDay - 1
}
