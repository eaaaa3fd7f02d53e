import ArgumentParser
import Cron
import Foundation

/// `quorum cron …`: cron expression tools.
struct CronCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cron",
        abstract: "Work with cron expressions.",
        subcommands: [CronNextCommand.self]
    )
}

/// `quorum cron next "EXPR" [--tz ZONE] [--from ISO8601] [--count N]`: the next fire times.
struct CronNextCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "next",
        abstract: "Print the next fire times of a cron expression, one per line (ISO 8601 with the zone's offset).",
        discussion: "Semantics follow cronie; see docs/cron.md. Exit 2 on an invalid expression, zone or time."
    )

    @Argument(help: "A 5-field cron expression or a macro such as @daily (quote it).")
    var expression: String

    @Option(name: .long, help: "An IANA time zone such as Europe/Berlin.")
    var tz: String = "UTC"

    @Option(name: .long, help: "Start strictly after this instant (ISO 8601, e.g. 2025-03-08T10:00:00Z). Default: now.")
    var from: String?

    @Option(name: .long, help: "How many fire times to print (1-10000).")
    var count: Int = 5

    func run() async throws {
        guard (1...10_000).contains(count) else {
            throw CLIError.invalidInput("--count: \(count) is out of range 1-10000")
        }
        let schedule: CronExpression
        do {
            schedule = try CronExpression(parsing: expression)
        } catch {
            throw CLIError.invalidInput("cron expression \"\(expression)\": \(error)")
        }
        guard schedule.canEverFire else {
            throw CLIError.invalidInput("cron expression \"\(expression)\": can never fire (no date matches it, e.g. 30 February)")
        }
        let zone: TimeZone
        do {
            zone = try CronTimeZone.named(tz)
        } catch {
            throw CLIError.invalidInput("--tz: \(error)")
        }
        let start: Date
        if let from {
            do {
                start = try CronTimeFormat.parse(from)
            } catch {
                throw CLIError.invalidInput("--from: \(error)")
            }
        } else {
            start = Date()
        }
        let times = schedule.nextFireTimes(count: count, after: start, in: zone)
        for time in times { print(CronTimeFormat.format(time, in: zone)) }
        if times.count < count {
            throw CLIError.failure("cron expression \"\(expression)\": no fire time after the \(times.count) shown within the search horizon")
        }
    }
}
