import SchedulerCore
import SchedulerPlanning

/// Turns a decoded submission into what the state machine stores, checking every value and
/// naming the field of the first bad one. Pure: `now` is an input. The in-memory service and
/// the Raft leader both call it before proposing.
public enum SubmissionPlanner {
    /// A job ready to be stamped into a ``SubmitJob``.
    public struct PlannedJob: Hashable, Sendable {
        /// The spec (a once job's `runAt` as of the planning node's `now`: a preview).
        public var spec: JobSpec
        /// Cron jobs: the first fire after the planning node's `now` (a preview).
        public var firstFireAt: Timestamp?
        /// When the job first becomes due, as the user said it: what the leader resolves with its
        /// own stamp (``SchedulerPlanning/UnstampedCommand``), so the previews above, made with
        /// the receiving node's clock, never reach the log.
        public var start: SubmissionTime
    }

    /// What a DAG submission becomes.
    public enum PlannedDAG: Hashable, Sendable {
        /// A DAG run now, kept `retentionMs` once finished (``SchedulerCore/JobSpec/clusterDefaultRetentionMs``:
        /// the leader's default), with its own `notify` rules (empty: only the cluster's defaults).
        case run(DAGSpec, retentionMs: Int64, notify: [NotificationRule])
        /// A cron job whose fires start DAG runs.
        case cronJob(PlannedJob)
    }

    /// Validates a job submission at `now`; fields are named under `prefix` (`jobs[3]`).
    public static func planJob(_ s: JobSubmission, now: Timestamp, fieldPrefix prefix: String = "") throws(APIError) -> PlannedJob {
        func field(_ name: String) -> String { FieldPath.join(prefix, name) }
        let name = try requireName(s.name, field: field("name"))
        let notify = try NotifyRulePlanner.rules(s.notify, fieldPrefix: prefix)
        let isCron: Bool
        switch s.type {
        case nil: isCron = s.schedule != nil
        case "cron"?: isCron = true
        case "once"?: isCron = false
        case let other?: throw .invalid(field: field("type"), "unknown type '\(FieldProblem.shortened(other))'; use once or cron")
        }
        let priority = try integer(s.priority, field: field("priority")) ?? 0
        let task = try taskSpec(s.task, fieldPrefix: prefix)
        let retry = try retryPolicy(s.retry, fieldPrefix: prefix)
        let timeoutMs = try timeout(s.timeoutSeconds, field: field("timeout_seconds"))
        let labels = try labelList(s.labels, field: field("labels"))
        let retentionMs = try retention(s.retentionSeconds, field: field("retention_seconds"))
        let historyLimit = try historyLimit(s.historyLimit, field: field("history_limit"))
        let placement = try placement(s.constraints, s.maxPerNode, fieldPrefix: prefix)
        if isCron {
            if s.runAt != nil { throw .invalid(field: field("run_at"), "run_at is for once jobs; a cron job runs on its schedule") }
            if s.delaySeconds != nil { throw .invalid(field: field("delay_seconds"), "delay_seconds is for once jobs; a cron job runs on its schedule") }
            guard let expression = s.schedule else {
                throw .invalid(field: field("schedule"), "required for a cron job, e.g. \"0 * * * *\"")
            }
            let timezone = s.timezone ?? "UTC"
            let schedule = try CronValidation.schedule(expression: expression, timezone: timezone, fieldPrefix: prefix)
            guard let first = CronPlanner.nextFire(of: schedule, after: now) else {
                throw .invalid(field: field("schedule"), "'\(FieldProblem.shortened(expression))' never fires after now")
            }
            let spec = JobSpec(name: name, schedule: CronSchedule(expression: expression, timezone: timezone),
                               priority: priority, task: task, retry: retry, timeoutMs: timeoutMs,
                               concurrency: try concurrency(s.concurrency, field: field("concurrency")),
                               misfire: try misfire(s.misfire, field: field("misfire")), labels: labels,
                               retentionMs: retentionMs, historyLimit: historyLimit, placement: placement, notify: notify)
            return PlannedJob(spec: spec, firstFireAt: first, start: .firstFireAfterStamp)
        }
        for (value, key) in [(s.schedule, "schedule"), (s.timezone, "timezone"), (s.concurrency, "concurrency"), (s.misfire, "misfire")]
        where value != nil {
            throw .invalid(field: field(key), "\(key) is for cron jobs; remove it or set \"type\": \"cron\"")
        }
        var runAt = now
        var start = SubmissionTime.afterStamp(milliseconds: 0)
        if let at = s.runAt {
            if s.delaySeconds != nil {
                throw .invalid(field: field("delay_seconds"), "give run_at or delay_seconds, not both")
            }
            runAt = at.time
            start = .at(at.time)
        } else if let delay = s.delaySeconds {
            let seconds = delay.doubleValue
            guard seconds.isFinite, seconds >= 0, seconds <= 3_153_600_000 else {
                throw .invalid(field: field("delay_seconds"), "must be a number of seconds between 0 and 100 years")
            }
            let delay = Int64((seconds * 1000).rounded())
            runAt = now.adding(milliseconds: delay)
            start = .afterStamp(milliseconds: delay)
        }
        let spec = JobSpec(name: name, runAt: runAt, priority: priority, task: task, retry: retry,
                           timeoutMs: timeoutMs, labels: labels, retentionMs: retentionMs, historyLimit: historyLimit,
                           placement: placement, notify: notify)
        return PlannedJob(spec: spec, firstFireAt: nil, start: start)
    }

    /// Validates a DAG submission at `now`: every task, then the graph (unknown `depends_on` is
    /// 422 `tasks[i].depends_on`, a cycle 409 naming it).
    public static func planDAG(_ s: DAGSubmission, now: Timestamp) throws(APIError) -> PlannedDAG {
        let name = try requireName(s.name, field: "name")
        let priority = try integer(s.priority, field: "priority") ?? 0
        let labels = try labelList(s.labels, field: "labels")
        let retentionMs = try retention(s.retentionSeconds, field: "retention_seconds")
        let historyLimit = try historyLimit(s.historyLimit, field: "history_limit")
        let dagPlacement = try placement(s.constraints, s.maxPerNode, fieldPrefix: "")
        guard let bodies = s.tasks, !bodies.isEmpty else {
            throw .invalid(field: "tasks", "a DAG needs at least one task")
        }
        var tasks: [DAGTaskSpec] = []
        tasks.reserveCapacity(bodies.count)
        for (index, body) in bodies.enumerated() {
            let prefix = "tasks[\(index)]"
            guard let id = body.id, !id.isEmpty else {
                throw .invalid(field: prefix + ".id", "required: a task id unique in this DAG")
            }
            guard TaskIDRules.isValid(id) else {
                throw .invalid(field: prefix + ".id", "'\(FieldProblem.shortened(id))' is not a valid task id: \(TaskIDRules.description)")
            }
            tasks.append(DAGTaskSpec(id: id, dependsOn: body.dependsOn ?? [],
                                     task: try taskSpec(body.task, fieldPrefix: prefix),
                                     retry: try retryPolicy(body.retry, fieldPrefix: prefix),
                                     timeoutMs: try timeout(body.timeoutSeconds, field: prefix + ".timeout_seconds"),
                                     placement: try placement(body.constraints, body.maxPerNode, fieldPrefix: prefix,
                                                              inheriting: dagPlacement)))
        }
        let dag: DAGSpec
        do {
            dag = try DAGSpec.validated(name: name, tasks: tasks, priority: priority, labels: labels)
        } catch {
            throw APIError(dag: error)
        }
        let notify = try NotifyRulePlanner.rules(s.notify)
        guard let expression = s.schedule else {
            if s.historyLimit != nil {
                throw .invalid(field: "history_limit", "history_limit is only for a scheduled DAG (its finished DAG runs); add a schedule or remove it")
            }
            for (value, key) in [(s.timezone, "timezone"), (s.concurrency, "concurrency"), (s.misfire, "misfire")] where value != nil {
                throw .invalid(field: key, "\(key) is only for a scheduled DAG; add a schedule or remove it")
            }
            return .run(dag, retentionMs: retentionMs, notify: notify)
        }
        let timezone = s.timezone ?? "UTC"
        let schedule = try CronValidation.schedule(expression: expression, timezone: timezone)
        guard let first = CronPlanner.nextFire(of: schedule, after: now) else {
            throw .invalid(field: "schedule", "'\(FieldProblem.shortened(expression))' never fires after now")
        }
        let spec = JobSpec(name: name, schedule: CronSchedule(expression: expression, timezone: timezone),
                           priority: priority, dag: dag,
                           concurrency: try concurrency(s.concurrency, field: "concurrency"),
                           misfire: try misfire(s.misfire, field: "misfire"), labels: labels, retentionMs: retentionMs,
                           historyLimit: historyLimit, notify: notify)
        return .cronJob(PlannedJob(spec: spec, firstFireAt: first, start: .firstFireAfterStamp))
    }

    // MARK: Fields

    static func requireName(_ name: String?, field: String) throws(APIError) -> String {
        guard let name, !name.isEmpty else { throw .invalid(field: field, "required: a non-empty name") }
        guard name.utf8.count <= 256 else { throw .invalid(field: field, "must be at most 256 bytes") }
        return name
    }

    static func integer(_ number: WireNumber?, field: String) throws(APIError) -> Int? {
        switch number {
        case nil: return nil
        case .integer(let value)?:
            guard let int = Int(exactly: value) else { throw .invalid(field: field, "\(value) is out of range") }
            return int
        case .fractional(let value)?:
            throw .invalid(field: field, "must be an integer, got \(value)")
        }
    }

    static func timeout(_ seconds: WireNumber?, field: String) throws(APIError) -> Int64 {
        guard let seconds else { return JobSpec.defaultTimeoutMs }
        let value = seconds.doubleValue
        guard value.isFinite, value > 0, value <= 31_536_000 else {
            throw .invalid(field: field, "must be a positive number of seconds (at most one year)")
        }
        return max(1, Int64((value * 1000).rounded()))
    }

    /// The smallest and largest `retention_seconds` a submit may give (as `[scheduler]
    /// retention_seconds`): a minute, so a finished job can still be read, and ten years.
    public static let retentionSeconds: ClosedRange<Int64> = 60...315_360_000

    /// `retention_seconds` in milliseconds; omitted, ``SchedulerCore/JobSpec/clusterDefaultRetentionMs``
    /// (the leader stamps its `[scheduler] retention_seconds`).
    static func retention(_ seconds: WireNumber?, field: String) throws(APIError) -> Int64 {
        guard let seconds else { return JobSpec.clusterDefaultRetentionMs }
        let range = retentionSeconds
        guard case .integer(let value) = seconds, let whole = Int64(exactly: value), range.contains(whole) else {
            throw .invalid(field: field, "must be a whole number of seconds from \(range.lowerBound) (one minute) to "
                           + "\(range.upperBound) (ten years); leave it out for the cluster's default")
        }
        return whole * 1000
    }

    /// `history_limit` (1–1000 finished runs); omitted, ``SchedulerCore/JobSpec/clusterDefaultHistoryLimit``
    /// (the leader stamps its `[scheduler] history_limit`).
    static func historyLimit(_ number: WireNumber?, field: String) throws(APIError) -> Int {
        guard let number else { return JobSpec.clusterDefaultHistoryLimit }
        let range = JobSpec.historyLimits
        guard case .integer(let value) = number, let limit = Int(exactly: value), range.contains(limit) else {
            throw .invalid(field: field, "must be a whole number of finished runs from \(range.lowerBound) to \(range.upperBound); "
                           + "leave it out for the cluster's default")
        }
        return limit
    }

    static func concurrency(_ text: String?, field: String) throws(APIError) -> ConcurrencyPolicy {
        switch text {
        case nil, "allow"?: return .allow
        case "forbid"?: return .forbid
        case "replace"?: return .replace
        case let other?: throw .invalid(field: field, "unknown policy '\(FieldProblem.shortened(other))'; use allow, forbid or replace")
        }
    }

    static func misfire(_ text: String?, field: String) throws(APIError) -> MisfirePolicy {
        switch text {
        case nil, "run_once"?: return .runOnce
        case "skip"?: return .skip
        case let other?: throw .invalid(field: field, "unknown policy '\(FieldProblem.shortened(other))'; use skip or run_once")
        }
    }

    /// The placement a request's `constraints` and `max_per_node` ask for (422 naming the field:
    /// a key or value outside ``SchedulerCore/NodeLabelRules``, too many, a limit out of range).
    /// `inheriting` (a DAG's own) is the default: the task's constraints add to it, its own
    /// value winning for the same key, and its `max_per_node` replaces it.
    static func placement(_ constraints: [String: String]?, _ maxPerNode: WireNumber?, fieldPrefix prefix: String,
                          inheriting base: Placement = .none) throws(APIError) -> Placement {
        var merged: [String: String] = [:]
        for constraint in base.constraints { merged[constraint.key] = constraint.value }
        if let constraints {
            let field = FieldPath.join(prefix, "constraints")
            guard constraints.count <= Placement.maxConstraints else {
                throw .invalid(field: field, "at most \(Placement.maxConstraints) constraints, got \(constraints.count)")
            }
            for key in constraints.keys.sorted() {
                if let problem = NodeLabelRules.problem(key: key, value: constraints[key] ?? "") {
                    throw .invalid(field: field + "." + FieldProblem.shortened(key), problem)
                }
                merged[key] = constraints[key]
            }
            guard merged.count <= Placement.maxConstraints else {
                throw .invalid(field: field, "at most \(Placement.maxConstraints) constraints with the DAG's, got \(merged.count)")
            }
        }
        var limit = base.maxPerNode
        if let maxPerNode {
            let field = FieldPath.join(prefix, "max_per_node")
            let range = Placement.maxPerNodeRange
            guard let value = try integer(maxPerNode, field: field), range.contains(value) else {
                throw .invalid(field: field, "must be a whole number of attempts from \(range.lowerBound) to \(range.upperBound); "
                               + "leave it out for no limit beyond the node's slots")
            }
            limit = value
        }
        return Placement(constraints: merged.map { KeyValue($0.key, $0.value) }, maxPerNode: limit)
    }

    static func labelList(_ labels: [String: String]?, field: String) throws(APIError) -> [KeyValue] {
        guard let labels else { return [] }
        for key in labels.keys.sorted() where key.isEmpty || key.contains(":") {
            throw .invalid(field: field, "label key '\(FieldProblem.shortened(key))' must be non-empty and contain no ':'")
        }
        return labels.map { KeyValue($0.key, $0.value) }
    }

    /// The policy a request's `retry` asks for, with every default stamped here, on the node
    /// that takes the request: `max_lost_attempts` included, so apply never invents one.
    static func retryPolicy(_ body: RetryBody?, fieldPrefix prefix: String) throws(APIError) -> RetryPolicy {
        let body = body ?? RetryBody()
        func field(_ name: String) -> String { FieldPath.join(prefix, "retry." + name) }
        let policy = RetryPolicy(maxAttempts: body.maxAttempts ?? 3, initialBackoffMs: body.initialBackoffMs ?? 1000,
                                 multiplier: body.multiplier ?? 2.0, maxBackoffMs: body.maxBackoffMs ?? 300_000,
                                 jitter: body.jitter ?? true,
                                 maxLostAttempts: body.maxLostAttempts ?? RetryPolicy.defaultMaxLostAttempts)
        guard policy.maxAttempts >= 1, policy.maxAttempts <= 1000 else {
            throw .invalid(field: field("max_attempts"), "must be between 1 and 1000, got \(policy.maxAttempts)")
        }
        if let lost = policy.maxLostAttempts, lost < 0 || lost > 1000 {
            throw .invalid(field: field("max_lost_attempts"),
                           "must be between 0 and 1000 (lost attempts a run survives without spending max_attempts), got \(lost)")
        }
        guard policy.initialBackoffMs >= 0 else { throw .invalid(field: field("initial_backoff_ms"), "must not be negative") }
        guard policy.multiplier.isFinite, policy.multiplier >= 1 else {
            throw .invalid(field: field("multiplier"), "must be a number ≥ 1, got \(policy.multiplier)")
        }
        guard policy.maxBackoffMs >= 0 else { throw .invalid(field: field("max_backoff_ms"), "must not be negative") }
        return policy
    }

    static func taskSpec(_ body: TaskBody?, fieldPrefix prefix: String) throws(APIError) -> TaskSpec {
        func field(_ name: String) -> String { FieldPath.join(prefix, "task." + name) }
        switch body {
        case nil, .noop?:
            return .noop
        case .sleep(let seconds)?:
            let value = seconds.doubleValue
            guard value.isFinite, value >= 0, value <= 31_536_000 else {
                throw .invalid(field: field("seconds"), "must be a number of seconds between 0 and one year")
            }
            return .sleep(milliseconds: Int64((value * 1000).rounded()))
        case .shell(let command, let env, let workdir)?:
            guard let program = command.first, !program.isEmpty else {
                throw .invalid(field: field("command"), "must be a non-empty argument vector, e.g. [\"/usr/bin/env\", \"echo\", \"hi\"]")
            }
            if let workdir, workdir.isEmpty { throw .invalid(field: field("workdir"), "must not be empty when given") }
            for key in (env ?? [:]).keys.sorted() where key.isEmpty || key.contains("=") {
                throw .invalid(field: field("env"), "variable name '\(FieldProblem.shortened(key))' must be non-empty and contain no '='")
            }
            return .shell(ShellTask(argv: command, environment: (env ?? [:]).map { KeyValue($0.key, $0.value) },
                                    workingDirectory: workdir))
        case .http(let method, let url, let headers, let body)?:
            let verb = (method ?? "GET").uppercased()
            guard !verb.isEmpty, verb.utf8.allSatisfy({ $0 >= 65 && $0 <= 90 }) else {
                throw .invalid(field: field("method"), "'\(FieldProblem.shortened(method ?? ""))' is not an HTTP method; use e.g. GET or POST")
            }
            guard isHTTPURL(url) else {
                throw .invalid(field: field("url"), "'\(FieldProblem.shortened(url))' is not an http:// or https:// URL with a host")
            }
            return .http(HTTPTask(method: verb, url: url, headers: (headers ?? [:]).map { KeyValue($0.key, $0.value) },
                                  body: Array((body ?? "").utf8)))
        }
    }

    /// `http://host…` or `https://host…` with a non-empty host and no whitespace.
    static func isHTTPURL(_ url: String) -> Bool {
        let lower = url.lowercased()
        let rest: Substring
        if lower.hasPrefix("http://") {
            rest = lower.dropFirst(7)
        } else if lower.hasPrefix("https://") {
            rest = lower.dropFirst(8)
        } else {
            return false
        }
        let host = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" && $0 != ":" }
        return !host.isEmpty && !url.contains(where: \.isWhitespace)
    }
}
