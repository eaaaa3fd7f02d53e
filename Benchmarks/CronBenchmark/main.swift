import Cron
import Foundation

/// Measures next-fire computations and parses per second for representative schedules.
/// Run through `scripts/bench-cron.sh` (release build). Pass a duration in seconds per case
/// (default 2).
struct CronBenchmark {
    struct Case {
        var label: String
        var expression: String
        var zone: String
        var start: String
    }

    static let cases = [
        Case(label: "dense    */5 * * * * (UTC)", expression: "*/5 * * * *", zone: "UTC", start: "2025-01-15T10:20:30Z"),
        Case(label: "typical  30 2 * * 1-5 (Europe/Berlin)", expression: "30 2 * * 1-5", zone: "Europe/Berlin", start: "2025-01-15T10:20:30Z"),
        Case(label: "sparse   0 0 29 2 * (UTC, from 2025)", expression: "0 0 29 2 *", zone: "UTC", start: "2025-03-01T00:00:00Z"),
        Case(label: "sparse   0 0 29 2 * (Europe/Berlin, from 2025)", expression: "0 0 29 2 *", zone: "Europe/Berlin", start: "2025-03-01T00:00:00Z"),
        Case(label: "sparse   0 0 31 * 1 (UTC)", expression: "0 0 31 * 1", zone: "UTC", start: "2025-01-15T10:20:30Z"),
        Case(label: "sparse   0 0 31 * */7 (AND: a 31st on a Sunday)", expression: "0 0 31 * */7", zone: "UTC", start: "2025-01-15T10:20:30Z"),
        Case(label: "never    0 0 30 2 * (answers nil)", expression: "0 0 30 2 *", zone: "UTC", start: "2025-01-15T10:20:30Z"),
    ]

    static func main() throws {
        let arguments = CommandLine.arguments.dropFirst()
        let secondsPerCase = arguments.first.flatMap(Double.init) ?? 2
        let filter = arguments.dropFirst().first ?? ""
        print("Cron benchmark, \(secondsPerCase) s per case")
        for benchmarkCase in cases where filter.isEmpty || "nextFire \(benchmarkCase.label)".hasPrefix(filter) {
            let expression = try CronExpression(parsing: benchmarkCase.expression)
            let zone = try CronTimeZone.named(benchmarkCase.zone)
            let start = try CronTimeFormat.parse(benchmarkCase.start)
            // Each call starts where the previous answer was (a realistic "next after last fire"
            // walk); when the walk runs out or reaches 2100 it restarts from the first instant.
            var cursor = start
            let rate = measure(seconds: secondsPerCase) {
                if let next = expression.nextFire(after: cursor, in: zone), next.timeIntervalSince1970 < 4_102_444_800 {
                    cursor = next
                } else {
                    cursor = start
                }
            }
            print(line("nextFire  " + benchmarkCase.label, rate))
        }
        guard filter.isEmpty || "parse".hasPrefix(filter) else { return }
        let texts = ["*/5 * * * *", "30 2 * * 1-5", "0 0 29 2 *", "0 9-17/2 * JAN,APR,JUL,OCT MON-FRI", "@daily"]
        var index = 0
        var accepted = 0
        let parseRate = measure(seconds: secondsPerCase) {
            do {
                _ = try CronExpression(parsing: texts[index % texts.count])
                accepted += 1
            } catch {
                print("parse failed: \(error)")
            }
            index += 1
        }
        print(line("parse     mix of 5 expressions", parseRate))
        if accepted == 0 { print("(no expression parsed)") }
    }

    /// Calls `body` in batches until `seconds` have passed; returns calls per second.
    static func measure(seconds: Double, _ body: () -> Void) -> Double {
        let clock = ContinuousClock()
        let begin = clock.now
        let deadline = begin + .milliseconds(Int(seconds * 1000))
        var calls = 0
        while clock.now < deadline {
            for _ in 0..<1000 { body() }
            calls += 1000
        }
        let elapsed = begin.duration(to: clock.now)
        let elapsedSeconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return Double(calls) / elapsedSeconds
    }

    static func line(_ label: String, _ rate: Double) -> String {
        let padded = label.padding(toLength: 62, withPad: " ", startingAt: 0)
        return "\(padded) \(String(Int(rate.rounded())).leftPadded(10)) /s   (\(String(format: "%.2f", 1e6 / rate)) µs each)"
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}

try CronBenchmark.main()
