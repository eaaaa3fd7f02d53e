import Cron
import Foundation
import Testing

@Suite("Sparse and impossible schedules")
struct SparseScheduleTests {
    @Test("29 February across the 2100 non-leap year")
    func leapDayAcross2100() throws {
        #expect(try Cron.fires("0 0 29 2 *", after: "2096-03-01T00:00:00Z", in: "UTC", count: 2)
            == ["2104-02-29T00:00:00+00:00", "2108-02-29T00:00:00+00:00"])
    }

    @Test("AND of a leap day and a weekday finds the rare match")
    func leapDayOnSunday() throws {
        // Day-of-week `*/7` is 0,7: Sunday, and it begins with `*`, so the days are ANDed.
        let fires = try Cron.fires("0 0 29 2 */7", after: "2025-01-01T00:00:00Z", in: "Europe/Berlin", count: 2)
        #expect(fires == ["2032-02-29T00:00:00+01:00", "2060-02-29T00:00:00+01:00"])
    }

    @Test("OR of day-of-month and weekday: 31st or Monday")
    func thirtyFirstOrMonday() throws {
        #expect(try Cron.fires("0 0 31 * 1", after: "2025-01-27T12:00:00Z", in: "UTC", count: 3)
            == ["2025-01-31T00:00:00+00:00", "2025-02-03T00:00:00+00:00", "2025-02-10T00:00:00+00:00"])
    }

    @Test("impossible schedules answer nil at once", arguments: ["0 0 30 2 *", "0 0 31 4,6,9,11 *", "0 0 31 2 */2", "0 0 30,31 2 *"])
    func impossible(_ text: String) throws {
        let expression = try CronExpression(parsing: text)
        #expect(!expression.canEverFire)
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            #expect(expression.nextFire(after: Date(timeIntervalSince1970: 1_700_000_000), in: TimeZone(secondsFromGMT: 0) ?? .current) == nil)
        }
        #expect(elapsed < .milliseconds(50))
    }

    @Test("an OR with an impossible day-of-month still fires on the weekday")
    func impossibleDayButWeekday() throws {
        #expect(try Cron.fires("0 0 30 2 MON", after: "2025-01-01T00:00:00Z", in: "UTC", count: 2)
            == ["2025-02-03T00:00:00+00:00", "2025-02-10T00:00:00+00:00"])
    }

    @Test("sparse searches are fast in debug builds too")
    func sparseIsFast() throws {
        let zone = try CronTimeZone.named("Europe/Berlin")
        let clock = ContinuousClock()
        for text in ["0 0 29 2 *", "0 0 31 * 1", "0 0 29 2 */7", "59 23 31 12 *"] {
            let expression = try CronExpression(parsing: text)
            let elapsed = clock.measure {
                #expect(expression.nextFireTimes(count: 10, after: Date(timeIntervalSince1970: 1_740_000_000), in: zone).count == 10)
            }
            #expect(elapsed < .milliseconds(500), "\(text) took \(elapsed)")
        }
    }

    @Test("instants outside years 1–9999 and non-finite dates answer nil", arguments: [
        Double.nan, Double.infinity, -Double.infinity, 1e15, -1e15, 253_402_300_800,
    ])
    func outOfRange(_ seconds: Double) throws {
        let expression = try CronExpression(parsing: "* * * * *")
        #expect(expression.nextFire(after: Date(timeIntervalSince1970: seconds), in: try CronTimeZone.named("Europe/Berlin")) == nil)
    }

    @Test("near the end of year 9999 the search stops instead of running past it")
    func endOfRange() throws {
        #expect(try Cron.fires("0 0 1 1 *", after: "9999-06-01T00:00:00Z", in: "UTC", count: 1) == [])
        #expect(try Cron.fires("59 23 31 12 *", after: "9999-06-01T00:00:00Z", in: "UTC", count: 2) == ["9999-12-31T23:59:00+00:00"])
    }

    @Test("count zero or negative gives nothing")
    func counts() throws {
        #expect(try Cron.fires("* * * * *", after: "2025-01-01T00:00:00Z", in: "UTC", count: 0) == [])
        #expect(try Cron.fires("* * * * *", after: "2025-01-01T00:00:00Z", in: "UTC", count: -3) == [])
    }

    @Test("fractional start instants: strictly after, at whole minutes")
    func fractional() throws {
        #expect(try Cron.fires("* * * * *", after: "2025-01-15T10:20:59.999Z", in: "UTC", count: 1) == ["2025-01-15T10:21:00+00:00"])
        #expect(try Cron.fires("* * * * *", after: "2025-01-15T10:21:00.000Z", in: "UTC", count: 1) == ["2025-01-15T10:22:00+00:00"])
        #expect(try Cron.fires("* * * * *", after: "2025-01-15T10:20:00.5Z", in: "UTC", count: 1) == ["2025-01-15T10:21:00+00:00"])
    }
}
