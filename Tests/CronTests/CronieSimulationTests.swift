import DeterministicRandom
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
    /// Expressions per seed: 60 in the debug suite; `scripts/fuzz-cron.sh` raises it.
    static let rounds = ProcessInfo.processInfo.environment["CRON_SIMULATION_ROUNDS"].flatMap { Int($0) } ?? 60

    @Test("random expressions near transitions", arguments: seeds)
    func matchesSimulation(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        for round in 0..<Self.rounds {
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
    static func startNearTransition(_ random: inout SplitMix64, zone: TimeZone) -> Int {
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

/// The jump over transitions far from any match, against the plain walk over every transition,
/// for sparse schedules over decades (beyond what the minute-by-minute simulation can cover).
@Suite("Skipping ahead over transitions changes no answer")
struct SkipAheadTests {
    static let sparse = [
        "0 0 29 2 *", "30 2 29 2 *", "0 0 31 * 1", "0 0 31 * */7", "15 2 30 3 *", "30 1 1 11 *", "*/20 2 26 10 *",
        "0 0 13 * FRI", "0 3 * 3 0", "0 2 * 10 */7", "45 1 1-7 11 SUN", "0 12 29 2 */7", "0 0 1 1 *", "*/5 1 2 11 *",
    ]

    @Test("same fires with and without the jump", arguments: [UInt64(11), 12, 13])
    func sameFires(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        for round in 0..<120 {
            let text = round % 2 == 0
                ? Self.sparse[Int(random.next() % UInt64(Self.sparse.count))]
                : RandomCron.validExpression(&random, timeBias: true)
            let schedule = try CronExpression(parsing: text).schedule
            let zoneName = CronieSimulationTests.zones[Int(random.next() % UInt64(CronieSimulationTests.zones.count))]
            let zone = try CronTimeZone.named(zoneName)
            var fast = 0 + Int(random.next() % 4_000_000_000)
            var plain = fast
            for step in 0..<4 {
                let a = schedule.nextFire(after: fast, in: zone)
                let b = schedule.nextFire(after: plain, in: zone, skippingAhead: false)
                #expect(a == b, "seed \(seed) round \(round) step \(step): \"\(text)\" in \(zoneName) after \(fast)")
                guard let a, let b else { break }
                fast = a
                plain = b
            }
        }
    }
}
