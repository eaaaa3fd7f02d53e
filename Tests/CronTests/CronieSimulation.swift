@testable import Cron
import Foundation

/// A brute-force model of cronie's main loop, independent of the fast search: it wakes at
/// every real minute, converts the clock to local minutes, and runs jobs exactly as cronie's
/// `cron.c` does for each kind of clock jump (normal step, small jump forward, medium jump
/// forward such as a DST gap, jump backwards such as a DST overlap, and large jumps).
/// Only for zones whose offsets are whole minutes.
struct CronieSimulation {
    let schedule: CronSchedule
    let zone: TimeZone

    init(_ expression: CronExpression, zone: TimeZone) {
        self.schedule = expression.schedule
        self.zone = zone
    }

    /// Every fire in `(start, end]` (Unix seconds), warming up four hours before `start`.
    func fires(after start: Int, through end: Int) -> [Int] {
        var realMinute = CivilCalendar.floorDivide(start - 4 * 3600, 60) * 60
        var virtualMinute = localMinute(realMinute)
        var fires: [Int] = []
        while realMinute < end {
            realMinute += 60
            let running = localMinute(realMinute)
            let difference = running - virtualMinute
            var fired = false
            if difference == 1 || difference > 180 || difference < -180 {
                // Normal minute, or the clock was reset: run everything for the current minute.
                virtualMinute = running
                fired = matches(running)
            } else if difference > 5 {
                // Medium jump forward (DST gap): wildcard jobs now, fixed jobs for each skipped minute.
                fired = schedule.hasWildcardTime && matches(running)
                for minute in (virtualMinute + 1)...running where !schedule.hasWildcardTime && matches(minute) {
                    fired = true
                }
                virtualMinute = running
            } else if difference > 0 {
                // Small jump forward: every job for every skipped minute.
                for minute in (virtualMinute + 1)...running where matches(minute) { fired = true }
                virtualMinute = running
            } else {
                // Clock went back (DST overlap): wildcard jobs only; virtual time waits.
                fired = schedule.hasWildcardTime && matches(running)
            }
            if fired && realMinute > start { fires.append(realMinute) }
        }
        return fires.filter { $0 <= end }
    }

    private func localMinute(_ instant: Int) -> Int {
        CivilCalendar.floorDivide(instant + zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(instant))), 60)
    }

    /// Whether a local minute (minutes since 1970-01-01T00:00 local) matches, by plain field tests.
    private func matches(_ minute: Int) -> Bool {
        let days = CivilCalendar.floorDivide(minute, 1440)
        let minuteOfDay = minute - days * 1440
        let date = CivilCalendar.date(days: days)
        let weekday = CivilCalendar.weekday(days: days)
        guard schedule.minutes.contains(minuteOfDay % 60), schedule.hours.contains(minuteOfDay / 60),
              schedule.months.contains(date.month) else { return false }
        let dom = schedule.daysOfMonth.contains(date.day)
        let dow = schedule.daysOfWeek.contains(weekday)
        return schedule.daysMatchEither ? (dom || dow) : (dom && dow)
    }
}
