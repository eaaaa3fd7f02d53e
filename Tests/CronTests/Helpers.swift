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

