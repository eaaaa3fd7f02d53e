import Cron
import Foundation
import SchedulerCore

/// The leader's cron arithmetic: validating a schedule before it is proposed and computing the
/// fire times the state machine is told (it never evaluates cron itself).
public enum CronPlanner {
    /// A parsed schedule in its zone.
    public struct Schedule: Sendable {
        /// The expression.
        public var expression: CronExpression
        /// The zone.
        public var zone: TimeZone
    }

    /// Why a schedule cannot be used, and which of its two fields is at fault.
    public struct ScheduleError: Error, Hashable, Sendable {
        /// The field at fault.
        public enum Field: String, Hashable, Sendable {
            /// The cron expression.
            case schedule
            /// The IANA zone name.
            case timezone
        }
        /// The field at fault.
        public var field: Field
        /// What is wrong and how to fix it.
        public var message: String
    }

    /// Parses `expression` in zone `timezone`.
    ///
    /// - Throws: ``ScheduleError`` naming `schedule` with the Cron parser's message (or because
    ///   the expression can never fire), or `timezone` for an unknown zone.
    public static func schedule(expression: String, timezone: String) throws(ScheduleError) -> Schedule {
        let parsed: CronExpression
        do {
            parsed = try CronExpression(parsing: expression)
        } catch {
            throw ScheduleError(field: .schedule, message: error.description)
        }
        guard parsed.canEverFire else {
            throw ScheduleError(field: .schedule,
                                message: "'\(shortened(expression))' never fires (no such date); fix the day-of-month or month")
        }
        let zone: TimeZone
        do {
            zone = try CronTimeZone.named(timezone)
        } catch {
            throw ScheduleError(field: .timezone, message: error.description)
        }
        return Schedule(expression: parsed, zone: zone)
    }

    /// The first fire time strictly after `instant`, or `nil` if the schedule never fires again.
    public static func nextFire(of schedule: Schedule, after instant: Timestamp) -> Timestamp? {
        schedule.expression.nextFire(after: date(instant), in: schedule.zone).map(timestamp)
    }

    /// The next fire of a stored schedule (as the state machine keeps it), or `nil` when it no
    /// longer parses (it was validated at submission, so only a changed Cron module could do that).
    public static func nextFire(of stored: CronSchedule, after instant: Timestamp) -> Timestamp? {
        guard let schedule = try? Self.schedule(expression: stored.expression, timezone: stored.timezone) else { return nil }
        return nextFire(of: schedule, after: instant)
    }

    /// The fire command for a due cron job at `now`: the latest due time at or before `now`
    /// (earlier ones collapse into `missedBefore`, at most `maxCollapsed` are walked) and the
    /// next fire after `now`. With collapsed fires it carries their first and last due time
    /// (``FireCron/missedRange``); a leader whose members do not all decode that drops it
    /// (``SchedulerCore/Command/compatible(withFormat:)``).
    public static func fire(_ due: DueFire, now: Timestamp, runID: RunID, maxCollapsed: Int = 100_000) -> FireCron {
        guard let schedule = try? Self.schedule(expression: due.schedule.expression, timezone: due.schedule.timezone) else {
            return FireCron(jobID: due.jobID, scheduledAt: due.fireAt, nextFireAt: nil, runID: runID)
        }
        var scheduledAt = due.fireAt
        var lastMissed = due.fireAt
        var missed = 0
        while missed < maxCollapsed, let next = nextFire(of: schedule, after: scheduledAt), next <= now {
            lastMissed = scheduledAt
            scheduledAt = next
            missed += 1
        }
        let after = max(now, scheduledAt)
        return FireCron(jobID: due.jobID, scheduledAt: scheduledAt, nextFireAt: nextFire(of: schedule, after: after),
                        runID: runID, missedBefore: missed,
                        missedRange: missed > 0 ? MissedFireRange(first: due.fireAt, last: lastMissed) : nil)
    }

    static func date(_ time: Timestamp) -> Date {
        Date(timeIntervalSince1970: Double(time.milliseconds) / 1000)
    }

    static func timestamp(_ date: Date) -> Timestamp {
        Timestamp(Int64((date.timeIntervalSince1970 * 1000).rounded()))
    }

    /// `text` cut to 60 characters for an error message (as the API shortens every echoed value).
    static func shortened(_ text: String) -> String {
        text.count <= 60 ? text : String(text.prefix(60)) + "…"
    }
}
