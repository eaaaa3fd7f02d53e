import ArgumentParser
import HTTPAPI

/// The task kinds `--kind` accepts.
enum TaskKind: String, ExpressibleByArgument, CaseIterable {
    case shell, http, sleep, noop
}

/// The flags of `quorum submit` that describe one job; they become a ``JobSubmission``.
///
/// Values are checked by the server, which names the field in a 422 (exit 2); only what the
/// flags themselves cannot express (a label without `=`, a task flag for another kind) is
/// refused here.
struct JobFlags: ParsableArguments {
    @Option(name: .long, help: "The job's display name (required unless --file).")
    var name: String?

    @Option(name: [.long, .customLong("cron")], help: "A cron expression (5 fields or @daily…): makes a cron job.")
    var schedule: String?

    @Option(name: [.customLong("tz"), .customLong("timezone")], help: "The schedule's IANA time zone (server default UTC).")
    var timezone: String?

    @Option(name: .customLong("run-at"), help: "A once job's start, RFC 3339 (e.g. 2026-12-01T09:00:00Z). Default: now.")
    var runAt: String?

    @Option(name: .customLong("delay"), help: "Start a once job this many seconds from now.")
    var delaySeconds: Double?

    @Option(name: .long, help: "An integer; higher runs first (server default 0).")
    var priority: Int?

    @Option(name: .long, help: "The task kind (inferred when absent).")
    var kind: TaskKind?

    @Option(name: .long, help: "An http task's URL.")
    var url: String?

    @Option(name: .long, help: "An http task's method (default GET).")
    var method: String?

    @Option(name: .customLong("header"), help: ArgumentHelp("An http task's header (repeatable).", valueName: "NAME:VALUE"))
    var headers: [String] = []

    @Option(name: .customLong("body"), help: "An http task's request body.")
    var httpBody: String?

    @Option(name: .long, help: "A sleep task's duration in seconds.")
    var seconds: Double?

    @Option(name: .customLong("env"), help: ArgumentHelp("A shell task's environment variable (repeatable).", valueName: "KEY=VALUE"))
    var environment: [String] = []

    @Option(name: .long, help: "A shell task's working directory.")
    var workdir: String?

    @Option(name: [.customLong("max-attempts"), .customLong("retry")], help: "Attempts before the run goes to the DLQ (server default 3).")
    var maxAttempts: Int?

    @Option(name: .customLong("backoff-ms"), help: "The first retry's backoff in milliseconds (server default 1000).")
    var backoffMilliseconds: Int64?

    @Option(name: .customLong("timeout"), help: "Per-attempt timeout in seconds.")
    var timeoutSeconds: Double?

    @Option(name: .long, help: "A cron job's overlap policy: allow, forbid or replace.")
    var concurrency: String?

    @Option(name: .long, help: "A cron job's misfire policy: skip or run_once.")
    var misfire: String?

    @Option(name: .customLong("label"), help: ArgumentHelp("A label (repeatable).", valueName: "KEY=VALUE"))
    var labels: [String] = []

    @Option(name: .customLong("retention"),
            help: ArgumentHelp("How long the job is kept once finished, in whole seconds (60 to 315360000; server default [scheduler] retention_seconds).",
                               valueName: "SECONDS"))
    var retentionSeconds: Int64?

    @Option(name: .customLong("history-limit"),
            help: "Finished runs the job keeps, 1 to 1000 (server default [scheduler] history_limit).")
    var historyLimit: Int64?

    @Option(name: .customLong("constraint"),
            help: ArgumentHelp("A node label the job's node must carry (repeatable; docs/scheduling.md, Placement).", valueName: "KEY=VALUE"))
    var constraints: [String] = []

    @Option(name: .customLong("max-per-node"), help: "At most this many of the job's attempts on one node, 1 to 1024.")
    var maxPerNode: Int64?

    /// The flags given, as the user wrote them (to refuse them next to `--file`).
    var flagsGiven: [String] {
        let given: [(String, Bool)] = [
            ("--name", name != nil), ("--schedule", schedule != nil), ("--tz", timezone != nil), ("--run-at", runAt != nil),
            ("--delay", delaySeconds != nil), ("--priority", priority != nil), ("--kind", kind != nil), ("--url", url != nil),
            ("--method", method != nil), ("--header", !headers.isEmpty), ("--body", httpBody != nil), ("--seconds", seconds != nil),
            ("--env", !environment.isEmpty), ("--workdir", workdir != nil), ("--max-attempts", maxAttempts != nil),
            ("--backoff-ms", backoffMilliseconds != nil), ("--timeout", timeoutSeconds != nil),
            ("--concurrency", concurrency != nil), ("--misfire", misfire != nil), ("--label", !labels.isEmpty),
            ("--retention", retentionSeconds != nil), ("--history-limit", historyLimit != nil),
            ("--constraint", !constraints.isEmpty), ("--max-per-node", maxPerNode != nil),
        ]
        return given.filter(\.1).map(\.0)
    }

    /// The submission these flags describe, with `command` as a shell task's argv.
    func submission(command: [String]) throws(CLIError) -> JobSubmission {
        var runAtStamp: APITimestamp?
        if let runAt {
            guard let time = RFC3339.parse(runAt) else {
                throw .invalidInput("--run-at: '\(runAt)' is not an RFC 3339 time; write e.g. 2026-12-01T09:00:00Z")
            }
            runAtStamp = APITimestamp(time)
        }
        var retry: RetryBody?
        if maxAttempts != nil || backoffMilliseconds != nil {
            retry = RetryBody(maxAttempts: maxAttempts, initialBackoffMs: backoffMilliseconds)
        }
        return JobSubmission(
            name: name, schedule: schedule, timezone: timezone, runAt: runAtStamp,
            delaySeconds: delaySeconds.map(Self.number), priority: priority.map { .integer(Int64($0)) },
            task: try task(command: command), retry: retry, timeoutSeconds: timeoutSeconds.map(Self.number),
            concurrency: concurrency, misfire: misfire,
            labels: labels.isEmpty ? nil : try Self.pairs(labels, flag: "--label", separators: ["=", ":"]),
            retentionSeconds: retentionSeconds.map { .integer($0) }, historyLimit: historyLimit.map { .integer($0) },
            constraints: constraints.isEmpty ? nil : try Self.pairs(constraints, flag: "--constraint", separators: ["="]),
            maxPerNode: maxPerNode.map { .integer($0) })
    }

    /// The task: `--kind`, or the kind the flags imply; flags of another kind are refused.
    func task(command: [String]) throws(CLIError) -> TaskBody {
        let chosen: TaskKind =
            if let kind { kind } else if !command.isEmpty { .shell } else if url != nil { .http } else if seconds != nil { .sleep } else { .noop }
        let owners: [(String, Bool, TaskKind)] = [
            ("the argv after --", !command.isEmpty, .shell), ("--env", !environment.isEmpty, .shell), ("--workdir", workdir != nil, .shell),
            ("--url", url != nil, .http), ("--method", method != nil, .http), ("--header", !headers.isEmpty, .http),
            ("--body", httpBody != nil, .http), ("--seconds", seconds != nil, .sleep),
        ]
        if let stray = owners.first(where: { $0.1 && $0.2 != chosen }) {
            throw .invalidInput("\(stray.0): only for \(stray.2.rawValue) tasks, but the task is \(chosen.rawValue)")
        }
        switch chosen {
        case .noop:
            return .noop
        case .sleep:
            guard let seconds else { throw .invalidInput("--seconds: required for a sleep task") }
            return .sleep(seconds: Self.number(seconds))
        case .shell:
            guard !command.isEmpty else {
                throw .invalidInput("a shell task needs its argv after --, e.g. quorum submit --name hi -- /usr/bin/env echo hi")
            }
            return .shell(command: command,
                          env: environment.isEmpty ? nil : try Self.pairs(environment, flag: "--env", separators: ["="]),
                          workdir: workdir)
        case .http:
            guard let url else { throw .invalidInput("--url: required for an http task") }
            return .http(method: method, url: url,
                         headers: headers.isEmpty ? nil : try Self.pairs(headers, flag: "--header", separators: [":"]),
                         body: httpBody)
        }
    }

    /// `KEY=VALUE` (or the first of `separators`) pairs as a dictionary; a repeated key or a
    /// pair without a separator exits 2.
    static func pairs(_ texts: [String], flag: String, separators: [Character]) throws(CLIError) -> [String: String] {
        var result: [String: String] = [:]
        for text in texts {
            guard let split = text.firstIndex(where: { separators.contains($0) }), split != text.startIndex else {
                throw .invalidInput("\(flag): '\(text)' is not KEY\(separators[0])VALUE")
            }
            let key = String(text[..<split])
            let value = String(text[text.index(after: split)...]).trimmingPrefixSpaces(if: separators[0] == ":")
            guard result.updateValue(value, forKey: key) == nil else {
                throw .invalidInput("\(flag): '\(key)' is given twice")
            }
        }
        return result
    }

    /// A JSON number: an integer when the value has no fraction.
    static func number(_ value: Double) -> WireNumber {
        value == value.rounded() && abs(value) < 9e15 ? .integer(Int64(value)) : .fractional(value)
    }
}

extension String {
    /// `self` without leading spaces when `condition` holds (`Name: value` headers).
    fileprivate func trimmingPrefixSpaces(if condition: Bool) -> String {
        condition ? String(drop(while: { $0 == " " })) : self
    }
}
