import DeterministicRandom
import Cron
import Foundation
import Testing

@Suite("ISO 8601 formatting and parsing, and zone names")
struct TimeFormatTests {
    @Test("format uses the zone's offset at that instant and no fraction", arguments: [
        (1_741_503_600.0, "America/New_York", "2025-03-09T03:00:00-04:00"),
        (1_741_503_599.9, "America/New_York", "2025-03-09T01:59:59-05:00"),
        (1_736_936_460.0, "UTC", "2025-01-15T10:21:00+00:00"),
        (1_736_936_460.0, "Asia/Kolkata", "2025-01-15T15:51:00+05:30"),
        (1_736_936_460.0, "Pacific/Chatham", "2025-01-16T00:06:00+13:45"),
        (-62_135_596_800.0, "UTC", "0001-01-01T00:00:00+00:00"),
        (0.0, "Etc/GMT+5", "1969-12-31T19:00:00-05:00"),
    ])
    func format(_ row: (Double, String, String)) throws {
        #expect(CronTimeFormat.format(Date(timeIntervalSince1970: row.0), in: try CronTimeZone.named(row.1)) == row.2)
    }

    @Test("format never traps on odd dates", arguments: [Double.nan, Double.infinity, -1e300, 1e300, -62_135_596_801.0])
    func formatOdd(_ seconds: Double) throws {
        #expect(!CronTimeFormat.format(Date(timeIntervalSince1970: seconds), in: try CronTimeZone.named("Europe/Berlin")).isEmpty)
    }

    @Test("parse accepts Z, offsets and fractions", arguments: [
        ("2025-01-15T10:20:30Z", 1_736_936_430.0),
        ("2025-01-15T10:20:30z", 1_736_936_430.0),
        ("2025-01-15 10:20:30Z", 1_736_936_430.0),
        ("2025-01-15T15:50:30+05:30", 1_736_936_430.0),
        ("2025-01-15T15:50:30+0530", 1_736_936_430.0),
        ("2025-01-15T05:20:30-05", 1_736_936_430.0),
        ("2025-01-15T10:20:30.250Z", 1_736_936_430.25),
        ("2025-01-15T10:20Z", 1_736_936_400.0),
        ("2024-02-29T00:00:00Z", 1_709_164_800.0),
    ])
    func parse(_ row: (String, Double)) throws {
        #expect(try CronTimeFormat.parse(row.0).timeIntervalSince1970 == row.1)
    }

    @Test("parse rejects with a message naming the problem", arguments: [
        ("2025-01-15T10:20:30", "has no UTC offset; add Z for UTC or an offset such as +01:00"),
        ("2025-13-15T10:20:30Z", "month 13 is out of range 1-12"),
        ("2025-02-29T10:20:30Z", "day 29 is out of range 1-28"),
        ("2025-01-15T24:00:00Z", "hour 24 is out of range 0-23"),
        ("2025-01-15T10:20:60Z", "second 60 is out of range 0-59"),
        ("2025-01-15T10:20:30+25:00", "offset hours 25 is out of range 0-23"),
        ("2025-01-15", "expected \"T\" and a time after the date"),
        ("yesterday", "expected 4 digits for the year"),
        ("2025-01-15T10:20:30Zjunk", "unexpected text after the offset"),
        ("", "expected 4 digits for the year"),
    ])
    func parseErrors(_ row: (String, String)) {
        do {
            _ = try CronTimeFormat.parse(row.0)
            Issue.record("\(row.0) was accepted")
        } catch {
            #expect(error.message.hasPrefix(row.1), "\(error)")
            #expect(error.description.contains("\"\(row.0)\""))
        }
    }

    @Test("format and parse round-trip", arguments: ["UTC", "America/New_York", "Europe/Berlin", "Asia/Kolkata", "Australia/Lord_Howe"])
    func roundTrip(_ zoneName: String) throws {
        let zone = try CronTimeZone.named(zoneName)
        var random = SplitMix64(seed: 42)
        for _ in 0..<2000 {
            let seconds = Double(Int(random.next() % 4_000_000_000))
            let date = Date(timeIntervalSince1970: seconds)
            #expect(try CronTimeFormat.parse(CronTimeFormat.format(date, in: zone)) == date)
        }
    }

    @Test("IANA zone names are accepted", arguments: ["UTC", "Etc/UTC", "GMT", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Asia/Calcutta", "US/Eastern", "Etc/GMT+5", "EST", "CET", "America/Argentina/Buenos_Aires", "Antarctica/Troll"])
    func zonesAccepted(_ name: String) throws {
        #expect(try CronTimeZone.named(name).secondsFromGMT(for: Date(timeIntervalSince1970: 0)) != Int.min)
    }

    @Test("non-IANA names and garbage are rejected, naming the zone", arguments: [
        "Mars/Olympus", "europe/berlin", "PST", "GMT+5", "UTC+3", "", " UTC", "Europe/Berlin ", "../../etc/passwd", "🙂", "Local",
    ])
    func zonesRejected(_ name: String) {
        do {
            _ = try CronTimeZone.named(name)
            Issue.record("\(name) was accepted")
        } catch {
            #expect(error.description.contains("\"\(name)\""))
            #expect(error.description.hasPrefix("time zone: unknown time zone"))
        }
    }
}
