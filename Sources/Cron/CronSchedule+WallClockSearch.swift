extension CronSchedule {
    /// The first wall-clock minute in `[low, high)` that the schedule matches, ignoring time
    /// zones: both bounds and the result are wall-clock seconds (seconds since 1970-01-01T00:00
    /// on the local clock). `low` must be a whole minute.
    ///
    /// The search jumps field by field — to the next allowed month, then day, hour and minute —
    /// so it costs a handful of steps per month it crosses, never one per minute. It gives up
    /// after the calendar year `yearLimit`.
    func firstMatch(atOrAfter low: Int, before high: Int, yearLimit: Int) -> Int? {
        precondition(low % 60 == 0, "firstMatch needs a whole minute, got \(low)")
        guard low < high else { return nil }
        var days = CivilCalendar.floorDivide(low, CivilCalendar.secondsPerDay)
        let secondOfDay = low - days * CivilCalendar.secondsPerDay
        var date = CivilCalendar.date(days: days)
        var hour = secondOfDay / 3600
        var minute = (secondOfDay % 3600) / 60

        while true {
            if date.year > yearLimit || days * CivilCalendar.secondsPerDay >= high { return nil }

            // Month: jump to the next allowed month (possibly next year), day 1, 00:00.
            if !months.contains(date.month) {
                if let next = months.next(atOrAfter: date.month + 1) {
                    date = CivilCalendar.Date(year: date.year, month: next, day: 1)
                } else if let first = months.next(atOrAfter: 1) {
                    date = CivilCalendar.Date(year: date.year + 1, month: first, day: 1)
                } else {
                    return nil
                }
                days = CivilCalendar.days(year: date.year, month: date.month, day: 1)
                hour = 0
                minute = 0
                continue
            }

            // Day: the first matching day of this month at or after `date.day`.
            let lastDay = CivilCalendar.daysInMonth(year: date.year, month: date.month)
            var day = date.day
            if !daysMatchEither {
                // AND: the day of month must be allowed, so jump straight to allowed days.
                day = daysOfMonth.next(atOrAfter: day) ?? (lastDay + 1)
            }
            let firstDays = days + (day - date.day)
            var candidateDays = firstDays
            while day <= lastDay && !dayMatches(day: day, days: candidateDays) {
                if daysMatchEither {
                    day += 1
                } else {
                    day = daysOfMonth.next(atOrAfter: day + 1) ?? (lastDay + 1)
                }
                candidateDays = days + (day - date.day)
            }
            if day > lastDay {
                // No match left this month: go to the first day of the next month.
                date = date.month == 12
                    ? CivilCalendar.Date(year: date.year + 1, month: 1, day: 1)
                    : CivilCalendar.Date(year: date.year, month: date.month + 1, day: 1)
                days = CivilCalendar.days(year: date.year, month: date.month, day: 1)
                hour = 0
                minute = 0
                continue
            }
            if day != date.day {
                days = candidateDays
                date.day = day
                hour = 0
                minute = 0
                if days * CivilCalendar.secondsPerDay >= high { return nil }
            }

            // Hour and minute within the matching day.
            guard let nextHour = hours.next(atOrAfter: hour) else {
                advanceDay(&date, &days, &hour, &minute)
                continue
            }
            if nextHour != hour {
                hour = nextHour
                minute = 0
            }
            guard let nextMinute = minutes.next(atOrAfter: minute) else {
                if hour < 23 {
                    hour += 1
                    minute = 0
                } else {
                    advanceDay(&date, &days, &hour, &minute)
                }
                continue
            }
            let result = days * CivilCalendar.secondsPerDay + hour * 3600 + nextMinute * 60
            return result < high ? result : nil
        }
    }

    private func advanceDay(_ date: inout CivilCalendar.Date, _ days: inout Int, _ hour: inout Int, _ minute: inout Int) {
        days += 1
        date = CivilCalendar.date(days: days)
        hour = 0
        minute = 0
    }
}
