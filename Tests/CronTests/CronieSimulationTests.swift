@testable import Cron
import Foundation
import Testing

/// The fast search against the brute-force cronie model, around real time-zone transitions.
@Suite("Next fire equals a minute-by-minute simulation of cronie")
struct CronieSimulationTests {
    /// Zones with interesting transitions: 1 h DST both ways, 30-minute DST (Lord Howe),
    /// DST at midnight (Santiago), a skipped day (Apia 2011), 2 h DST (Troll), 30-minute
    /// standard-offset change (Caracas 2016), +12:45 (Chatham), none (Kolkata, UTC).
    static let zones = [
        "America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "America/Santiago", "Pacific/Apia",
        "Antarctica/Troll", "America/Caracas", "Pacific/Chatham", "Asia/Kolkata", "UTC", "Europe/London",
    ]

    static let seeds: [UInt64] = [1, 2, 3, 4, 5, 6]

    @Test("random expressions near transitions", arguments: seeds)
    func matchesSimulation(seed: UInt64) throws {
        var random = SeededGenerator(seed: seed)
        for round in 0..<60 {
            let text = RandomCron.validExpression(&random, timeBias: true)
            let expression = try CronExpression(parsing: text)
            let zoneName = Self.zones[Int(random.next() % UInt64(Self.zones.count))]
            let zone = try CronTimeZone.named(zoneName)
            let start = Self.startNearTransition(&random, zone: zone)
            let end = start + 3 * 86_400
            let expected = CronieSimulation(expression, zone: zone).fires(after: start, through: end)
            var actual: [Int] = []
            var cursor = Date(timeIntervalSince1970: TimeInterval(start))
            while let next = expression.nextFire(after: cursor, in: zone), Int(next.timeIntervalSince1970) <= end {
                actual.append(Int(next.timeIntervalSince1970))
                cursor = next
            }
            #expect(actual == expected, """
                seed \(seed) round \(round): "\(text)" in \(zoneName) after \(CronTimeFormat.format(Date(timeIntervalSince1970: TimeInterval(start)), in: zone))
                fast:      \(actual.prefix(8).map { CronTimeFormat.format(Date(timeIntervalSince1970: TimeInterval($0)), in: zone) })
                simulated: \(expected.prefix(8).map { CronTimeFormat.format(Date(timeIntervalSince1970: TimeInterval($0)), in: zone) })
                """)
        }
    }

    /// An instant within a day and a half before a transition of `zone` between 2000 and 2030
    /// (or a random instant for zones without transitions), at a random second.
    static func startNearTransition(_ random: inout SeededGenerator, zone: TimeZone) -> Int {
        let from = 946_684_800 + Int(random.next() % (30 * 365 * 86_400))
        var anchor = from
        if let transition = zone.nextDaylightSavingTimeTransition(after: Date(timeIntervalSince1970: TimeInterval(from))),
           transition.timeIntervalSince1970 < 1_900_000_000 {
            anchor = Int(transition.timeIntervalSince1970)
        }
        // Apia's skipped day is a rare event: aim at it now and then.
        if zone.identifier == "Pacific/Apia" && random.next() % 2 == 0 { anchor = 1_325_239_200 }
        return anchor - Int(random.next() % (36 * 3600))
    }
}
