import Cron
import Foundation
import Testing

@Suite("Daylight saving time follows cronie")
struct DaylightSavingTests {
    // Spring forward: America/New_York 2025-03-09 02:00 EST → 03:00 EDT; Europe/Berlin
    // 2025-03-30 02:00 CET → 03:00 CEST.

    @Test("spring forward: a fixed-time job in the gap runs once right after it", arguments: [
        ("America/New_York", "2025-03-08T12:00:00-05:00", "2025-03-09T03:00:00-04:00", "2025-03-10T02:30:00-04:00"),
        ("Europe/Berlin", "2025-03-29T12:00:00+01:00", "2025-03-30T03:00:00+02:00", "2025-03-31T02:30:00+02:00"),
    ])
    func springForwardFixed(_ row: (String, String, String, String)) throws {
        #expect(try Cron.fires("30 2 * * *", after: row.1, in: row.0, count: 2) == [row.2, row.3])
        // Several gap minutes still make one run.
        #expect(try Cron.fires("0,15,45 2 * * *", after: row.1, in: row.0, count: 2) == [row.2, String(row.3.prefix(14)) + "00" + row.3.dropFirst(16)])
    }

    @Test("spring forward: a job at the first minute after the gap runs once")
    func springForwardAtGapEnd() throws {
        #expect(try Cron.fires("0 3 * * *", after: "2025-03-08T12:00:00-05:00", in: "America/New_York", count: 2)
            == ["2025-03-09T03:00:00-04:00", "2025-03-10T03:00:00-04:00"])
        #expect(try Cron.fires("30 2,3 * * *", after: "2025-03-08T12:00:00-05:00", in: "America/New_York", count: 3)
            == ["2025-03-09T03:00:00-04:00", "2025-03-09T03:30:00-04:00", "2025-03-10T02:30:00-04:00"])
    }

    @Test("spring forward: a wildcard job is not caught up", arguments: [
        ("America/New_York", "2025-03-08T12:00:00-05:00", "2025-03-10T02:00:00-04:00"),
        ("Europe/Berlin", "2025-03-29T12:00:00+01:00", "2025-03-31T02:00:00+02:00"),
    ])
    func springForwardWildcard(_ row: (String, String, String)) throws {
        #expect(try Cron.fires("*/15 2 * * *", after: row.1, in: row.0, count: 1) == [row.2])
        #expect(try Cron.fires("30 * * * *", after: String(row.1.prefix(10)) == "2025-03-08" ? "2025-03-09T01:00:00-05:00" : "2025-03-30T01:00:00+01:00", in: row.0, count: 2)
            == (row.0 == "Europe/Berlin"
                ? ["2025-03-30T01:30:00+01:00", "2025-03-30T03:30:00+02:00"]
                : ["2025-03-09T01:30:00-05:00", "2025-03-09T03:30:00-04:00"]))
    }

    // Fall back: America/New_York 2025-11-02 02:00 EDT → 01:00 EST; Europe/Berlin 2025-10-26
    // 03:00 CEST → 02:00 CET.

    @Test("fall back: a fixed-time job runs in the first pass only", arguments: [
        ("30 1 * * *", "America/New_York", "2025-11-01T12:00:00-04:00", ["2025-11-02T01:30:00-04:00", "2025-11-03T01:30:00-05:00"]),
        ("30 2 * * *", "Europe/Berlin", "2025-10-25T12:00:00+02:00", ["2025-10-26T02:30:00+02:00", "2025-10-27T02:30:00+01:00"]),
        ("0,59 1 * * *", "America/New_York", "2025-11-02T01:30:00-04:00", ["2025-11-02T01:59:00-04:00", "2025-11-03T01:00:00-05:00"]),
    ])
    func fallBackFixed(_ row: (String, String, String, [String])) throws {
        #expect(try Cron.fires(row.0, after: row.2, in: row.1, count: row.3.count) == row.3)
    }

    @Test("fall back: starting inside the repeated hour, a fixed-time job waits for the next day")
    func fallBackStartInsideSecondPass() throws {
        #expect(try Cron.fires("45 1 * * *", after: "2025-11-02T01:10:00-05:00", in: "America/New_York", count: 1)
            == ["2025-11-03T01:45:00-05:00"])
        #expect(try Cron.fires("45 2 * * *", after: "2025-10-26T02:10:00+01:00", in: "Europe/Berlin", count: 1)
            == ["2025-10-27T02:45:00+01:00"])
    }

    @Test("fall back: a job whose minute or hour begins with * runs in both passes", arguments: [
        ("0 * * * *", "America/New_York", "2025-11-02T00:00:00-04:00",
         ["2025-11-02T01:00:00-04:00", "2025-11-02T01:00:00-05:00", "2025-11-02T02:00:00-05:00"]),
        ("*/30 1 * * *", "America/New_York", "2025-11-02T00:00:00-04:00",
         ["2025-11-02T01:00:00-04:00", "2025-11-02T01:30:00-04:00", "2025-11-02T01:00:00-05:00", "2025-11-02T01:30:00-05:00", "2025-11-03T01:00:00-05:00"]),
        ("*/20 * * * *", "Europe/Berlin", "2025-10-26T01:50:00+02:00",
         ["2025-10-26T02:00:00+02:00", "2025-10-26T02:20:00+02:00", "2025-10-26T02:40:00+02:00",
          "2025-10-26T02:00:00+01:00", "2025-10-26T02:20:00+01:00", "2025-10-26T02:40:00+01:00", "2025-10-26T03:00:00+01:00"]),
        ("10 */1 * * *", "Europe/Berlin", "2025-10-26T02:00:00+02:00",
         ["2025-10-26T02:10:00+02:00", "2025-10-26T02:10:00+01:00", "2025-10-26T03:10:00+01:00"]),
    ])
    func fallBackWildcard(_ row: (String, String, String, [String])) throws {
        #expect(try Cron.fires(row.0, after: row.2, in: row.1, count: row.3.count) == row.3)
    }

    @Test("Lord Howe's 30-minute shift: gap caught up, overlap run once")
    func lordHowe() throws {
        // 2025-10-05 02:00 +10:30 → 02:30 +11:00; 2025-04-06 02:00 +11:00 → 01:30 +10:30.
        #expect(try Cron.fires("15 2 * * *", after: "2025-10-04T12:00:00+10:30", in: "Australia/Lord_Howe", count: 2)
            == ["2025-10-05T02:30:00+11:00", "2025-10-06T02:15:00+11:00"])
        #expect(try Cron.fires("45 1 * * *", after: "2025-04-05T12:00:00+11:00", in: "Australia/Lord_Howe", count: 2)
            == ["2025-04-06T01:45:00+11:00", "2025-04-07T01:45:00+10:30"])
    }

    @Test("a skipped calendar day (Samoa, 30 Dec 2011) is a clock reset: nothing is caught up")
    func apia() throws {
        #expect(try Cron.fires("0 12 * * *", after: "2011-12-29T00:00:00-10:00", in: "Pacific/Apia", count: 2)
            == ["2011-12-29T12:00:00-10:00", "2011-12-31T12:00:00+14:00"])
    }

    @Test("Santiago moves its clock at midnight: a midnight job still runs once a day")
    func santiago() throws {
        // 2025-09-07 00:00 -04 → 01:00 -03 (gap at midnight); 2025-04-06 00:00 -03 → 23:00 -04 on the 5th.
        #expect(try Cron.fires("0 0 * * *", after: "2025-09-06T12:00:00-04:00", in: "America/Santiago", count: 2)
            == ["2025-09-07T01:00:00-03:00", "2025-09-08T00:00:00-03:00"])
        #expect(try Cron.fires("30 23 * * *", after: "2025-04-05T12:00:00-03:00", in: "America/Santiago", count: 2)
            == ["2025-04-05T23:30:00-03:00", "2025-04-06T23:30:00-04:00"])
    }
}
