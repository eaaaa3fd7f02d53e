import Cron
import Foundation
import Testing

/// Shorthands for tests: parse, look up a zone, format fire times.
enum Cron {
    static func fires(_ expression: String, after from: String, in zoneName: String, count: Int) throws -> [String] {
        let zone = try CronTimeZone.named(zoneName)
        let cron = try CronExpression(parsing: expression)
        return cron.nextFireTimes(count: count, after: try CronTimeFormat.parse(from), in: zone)
            .map { CronTimeFormat.format($0, in: zone) }
    }

    static func error(_ expression: String) -> CronParseError? {
        do {
            _ = try CronExpression(parsing: expression)
            return nil
        } catch {
            return error
        }
    }
}

/// SplitMix64: a small seeded generator so every randomised test replays from its seed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
