/// The parsed meaning of a cron expression: which minutes, hours, days and months it allows,
/// plus the two cronie flags that change how it is evaluated.
struct CronSchedule: Hashable, Sendable {
    var minutes: CronBitSet
    var hours: CronBitSet
    var daysOfMonth: CronBitSet
    var months: CronBitSet
    /// 0 (Sunday) … 6 (Saturday); a 7 in the text has been folded into 0.
    var daysOfWeek: CronBitSet
    /// cronie: when neither day-of-month nor day-of-week begins with `*`, a day matches if
    /// *either* field matches (OR); otherwise both must match (AND).
    var daysMatchEither: Bool
    /// cronie's `MIN_STAR | HR_STAR`: the minute or the hour field begins with `*`. Such
    /// "wildcard" jobs run in both passes of a repeated (fall-back) hour and are not caught up
    /// after a skipped (spring-forward) hour; "fixed-time" jobs are the other way round.
    var hasWildcardTime: Bool

    /// Whether some calendar day can ever match. Day patterns repeat every 400 Gregorian
    /// years, so a satisfiable schedule matches within any 400-year window; an unsatisfiable
    /// one (`0 0 30 2 *`) never does, and `nextFire` answers nil at once instead of searching.
    let isSatisfiable: Bool

    init(
        minutes: CronBitSet, hours: CronBitSet, daysOfMonth: CronBitSet, months: CronBitSet,
        daysOfWeek: CronBitSet, daysMatchEither: Bool, hasWildcardTime: Bool
    ) {
        self.minutes = minutes
        self.hours = hours
        self.daysOfMonth = daysOfMonth
        self.months = months
        self.daysOfWeek = daysOfWeek
        self.daysMatchEither = daysMatchEither
        self.hasWildcardTime = hasWildcardTime
        // OR: every weekday occurs in every month. AND: some allowed day must exist in some
        // allowed month (the smallest allowed day is the one to test).
        let firstDay = daysOfMonth.next(atOrAfter: 1) ?? 32
        self.isSatisfiable = daysMatchEither
            || (1...12).contains { months.contains($0) && firstDay <= CivilCalendar.maximumDaysInMonth($0) }
    }

    /// Whether the calendar day (`days` since 1970-01-01, which is `day` of its month) matches.
    func dayMatches(day: Int, days: Int) -> Bool {
        let domMatches = daysOfMonth.contains(day)
        let dowMatches = daysOfWeek.contains(CivilCalendar.weekday(days: days))
        return daysMatchEither ? (domMatches || dowMatches) : (domMatches && dowMatches)
    }
}
