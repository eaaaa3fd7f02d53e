import Foundation

/// A parsed five-field cron expression (or macro) with cronie's semantics.
///
/// ```swift
/// let expression = try CronExpression(parsing: "30 2 * * 1-5")
/// let zone = try CronTimeZone.named("Europe/Berlin")
/// let next = expression.nextFire(after: now, in: zone)
/// ```
///
/// The value is pure: it reads no clock. Time zone rules come from the `TimeZone` passed in.
/// See `docs/cron.md` for the syntax and for how daylight-saving transitions are handled.
public struct CronExpression: Sendable, Hashable, CustomStringConvertible {
    /// The text the expression was parsed from, without surrounding blanks.
    public let text: String
    let schedule: CronSchedule

    /// Parses `text`: five blank-separated fields `minute hour day-of-month month day-of-week`
    /// or one of `@yearly @annually @monthly @weekly @daily @midnight @hourly`.
    ///
    /// - Throws: `CronParseError` naming the field and the offending value, for example
    ///   `minute: 61 is out of range 0-59`. Never traps, whatever the input.
    public init(parsing text: String) throws(CronParseError) {
        self.schedule = try CronParser.parse(text)
        self.text = Self.trimmed(text)
    }

    /// The first fire time strictly after `instant`, on the wall clock of `zone`.
    ///
    /// Day-of-month and day-of-week are ORed when neither begins with `*`, ANDed otherwise.
    /// A fixed-time job (minute and hour not beginning with `*`) scheduled in a skipped
    /// spring-forward hour fires once right after the gap, and fires only in the first pass of
    /// a repeated fall-back hour; a wildcard job fires in both passes and is not caught up.
    ///
    /// - Returns: nil when the schedule can never fire (`0 0 30 2 *`), when no fire exists
    ///   within 400 years of `instant`, or when `instant` or the answer lies outside the years
    ///   1–9999 (including non-finite dates).
    public func nextFire(after instant: Date, in zone: TimeZone) -> Date? {
        let seconds = instant.timeIntervalSince1970
        guard seconds.isFinite,
              seconds >= TimeInterval(CivilCalendar.firstSupportedSecond),
              seconds < TimeInterval(CivilCalendar.lastSupportedSecond)
        else { return nil }
        let start = Int(seconds.rounded(.down))
        return schedule.nextFire(after: start, in: zone).map { Date(timeIntervalSince1970: TimeInterval($0)) }
    }

    /// Up to `count` consecutive fire times strictly after `after`, ascending; fewer if the
    /// schedule runs out (see `nextFire(after:in:)`), none if `count <= 0`.
    public func nextFireTimes(count: Int, after: Date, in zone: TimeZone) -> [Date] {
        var result: [Date] = []
        var cursor = after
        while result.count < count, let next = nextFire(after: cursor, in: zone) {
            result.append(next)
            cursor = next
        }
        return result
    }

    /// Whether the minute or the hour field begins with `*` (cronie's "wildcard" jobs): such a
    /// job runs in both passes of a repeated fall-back hour and is not caught up after a
    /// spring-forward gap.
    public var hasWildcardTime: Bool { schedule.hasWildcardTime }

    /// Whether day-of-month and day-of-week are ORed (neither begins with `*`).
    public var daysMatchEither: Bool { schedule.daysMatchEither }

    /// Whether any calendar day can ever match; false for `0 0 30 2 *`.
    public var canEverFire: Bool { schedule.isSatisfiable }

    /// The expression's text.
    public var description: String { text }

    /// `text` without leading and trailing spaces, tabs and line ends.
    private static func trimmed(_ text: String) -> String {
        let bytes = text.utf8
        func isBlank(_ byte: UInt8) -> Bool {
            byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r")
        }
        guard let first = bytes.firstIndex(where: { !isBlank($0) }), let last = bytes.lastIndex(where: { !isBlank($0) }) else {
            return ""
        }
        if first == bytes.startIndex && last == bytes.index(before: bytes.endIndex) { return text }
        return String(decoding: bytes[first...last], as: UTF8.self)
    }
}
