import Foundation

extension CronSchedule {
    /// How far before the start instant the walk over UTC-offset segments begins, so that a
    /// fall-back transition shortly before it is seen (its repeated hour may still be running).
    static let lookBackSeconds = 4 * 3600
    /// cronie treats a clock jump of 3 hours or more as "the time was reset", not as daylight
    /// saving: nothing is caught up and nothing is suppressed (see `docs/cron.md`).
    static let largeJumpMinutes = 180
    /// cronie runs *every* job for each skipped minute when the clock jumps by under 5 minutes.
    static let smallJumpMinutes = 5
    /// A bound on any UTC offset's distance from zero (real ones stay within ±16 h; the bound
    /// leaves room for odd historical data).
    static let offsetBound = 26 * 3600
    /// The most offset segments (time-zone transitions) one search may cross.
    static let maximumSegments = 4000

    /// The first fire time strictly after `start` (Unix seconds) in `zone`, following cronie.
    ///
    /// The timeline is cut at the zone's UTC-offset transitions into segments of constant
    /// offset; within a segment wall time and real time move together, so the wall-clock search
    /// applies directly. At each transition cronie's rules add or remove fires:
    /// - spring forward (a gap of wall time): a fixed-time job that matches any minute in the gap
    ///   fires once at the first minute after it; a wildcard job does not (for a gap under
    ///   5 minutes every job is caught up; for 3 hours or more none is).
    /// - fall back (wall time repeats): a fixed-time job does not fire again in the repeated
    ///   part; a wildcard job does (for a repeat of over 181 minutes every job fires again).
    ///
    /// `skippingAhead: false` disables the jump over transitions far from any match; tests use
    /// it as a slower reference.
    func nextFire(after start: Int, in zone: TimeZone, skippingAhead: Bool = true) -> Int? {
        guard isSatisfiable,
              start >= CivilCalendar.firstSupportedSecond, start < CivilCalendar.lastSupportedSecond
        else { return nil }
        let startYear = CivilCalendar.date(days: CivilCalendar.floorDivide(start, CivilCalendar.secondsPerDay)).year
        let yearLimit = min(startYear + 400, 9999)
        let wallLimit = CivilCalendar.days(year: yearLimit + 1, month: 1, day: 1) * CivilCalendar.secondsPerDay

        var segmentStart = start - Self.lookBackSeconds
        var offset = zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(segmentStart)))
        var previousOffset: Int? = nil

        for _ in 0..<Self.maximumSegments {
            let segmentEnd = Self.nextTransition(after: segmentStart, in: zone)

            if let previousOffset, offset > previousOffset,
               let fire = catchUpFire(transition: segmentStart, from: previousOffset, to: offset, yearLimit: yearLimit),
               fire > start, segmentEnd.map({ fire < $0 }) ?? true {
                return fire
            }

            var low = CivilCalendar.ceilingToMinute(max(segmentStart, start + 1) + offset)
            if let previousOffset, offset < previousOffset, !hasWildcardTime,
               (previousOffset - offset) / 60 <= Self.largeJumpMinutes + 1 {
                // A fixed-time job already ran in the first pass of the repeated wall time.
                low = max(low, CivilCalendar.ceilingToMinute(segmentStart + previousOffset))
            }
            let high = min(segmentEnd.map { $0 + offset } ?? wallLimit, wallLimit)
            let wall = firstMatch(atOrAfter: low, before: wallLimit, yearLimit: yearLimit)
            if let wall, wall < high {
                let fire = wall - offset
                return fire <= CivilCalendar.lastSupportedSecond ? fire : nil
            }
            guard let segmentEnd, segmentEnd + offset < wallLimit else { return nil }

            // Nothing in this segment, and no wall time in [low, wall) matches. A fire at instant
            // t belongs to a matching wall time within ±offsetBound of t, so once this segment
            // reaches past low + offsetBound, later fires can only come at or after
            // wall - offsetBound: jump there instead of crossing every transition in between.
            // (Sparse schedules in DST zones would otherwise cross two transitions a year.)
            if skippingAhead && segmentEnd >= low + Self.offsetBound {
                guard let wall else { return nil }
                let jumpTarget = wall - Self.offsetBound - Self.lookBackSeconds - 3600
                if jumpTarget > segmentEnd {
                    segmentStart = jumpTarget
                    offset = zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(segmentStart)))
                    previousOffset = nil  // no fire lies within lookBackSeconds of the new start
                    continue
                }
            }
            previousOffset = offset
            offset = zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(segmentEnd)))
            segmentStart = segmentEnd
        }
        return nil
    }

    /// The fire at the end of a spring-forward gap, if cronie would catch one up: the first
    /// whole wall minute after the transition, as an instant.
    private func catchUpFire(transition: Int, from previousOffset: Int, to offset: Int, yearLimit: Int) -> Int? {
        let gapMinutes = (offset - previousOffset) / 60
        let caughtUp = gapMinutes < Self.smallJumpMinutes || (gapMinutes < Self.largeJumpMinutes && !hasWildcardTime)
        guard caughtUp else { return nil }
        let gapStart = CivilCalendar.ceilingToMinute(transition + previousOffset)
        let gapEnd = transition + offset
        guard firstMatch(atOrAfter: gapStart, before: gapEnd, yearLimit: yearLimit) != nil else { return nil }
        return CivilCalendar.ceilingToMinute(transition + offset) - offset
    }

    /// The next instant after `instant` at which `zone` changes its UTC offset (or its daylight
    /// saving flag), in whole seconds; nil if there is none or Foundation answers nonsense
    /// (a date not after `instant`, which it does far outside the tz database's range).
    static func nextTransition(after instant: Int, in zone: TimeZone) -> Int? {
        guard let date = zone.nextDaylightSavingTimeTransition(after: Date(timeIntervalSince1970: TimeInterval(instant))) else {
            return nil
        }
        let seconds = date.timeIntervalSince1970.rounded(.up)
        guard seconds.isFinite, seconds > TimeInterval(instant),
              seconds <= TimeInterval(CivilCalendar.lastSupportedSecond)
        else { return nil }
        return Int(seconds)
    }
}
