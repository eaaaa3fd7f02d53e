import SchedulerCore
import SchedulerPlanning

/// Merges a ``JobPatch`` onto a stored job's spec, with the same checks and field names as a
/// submission (``SubmissionPlanner``). Pure: the job and `now` are inputs.
public enum EditPlanner {
    /// The edit to propose, and whether the leader must stamp a new next fire.
    public struct PlannedEdit: Hashable, Sendable {
        /// The edit (its ``SchedulerCore/EditJob/nextFireAt`` is a preview at the planning node's
        /// `now`; the leader replaces it when ``reschedules``).
        public var edit: EditJob
        /// Whether the schedule or zone changed.
        public var reschedules: Bool
    }

    /// The edit of `job` that `patch` asks for, merged onto the job's current spec (version
    /// ``SchedulerCore/Job/version``).
    ///
    /// - Throws: 422 naming the field: a bad value, a cron-only field on a once job, a task
    ///   field on a DAG job, `"***"` for a secret the job does not have, a schedule that never
    ///   fires again.
    public static func plan(_ patch: JobPatch, job: Job, now: Timestamp) throws(APIError) -> PlannedEdit {
        let old = job.spec
        let isCron = old.kind == .cron
        if !isCron {
            for (value, key) in [(patch.schedule, "schedule"), (patch.timezone, "timezone"), (patch.concurrency, "concurrency"),
                                 (patch.misfire, "misfire")] where value != nil {
                throw .invalid(field: key, "\(key) is for cron jobs; job \(job.id) is a once job")
            }
        }
        if old.dag != nil {
            if patch.priority != nil {
                throw .invalid(field: "priority", "a scheduled DAG's runs take the DAG's own priority, which cannot be edited; submit the DAG again")
            }
            if patch.task != nil { throw .invalid(field: "task", "a scheduled DAG's tasks cannot be edited; submit the DAG again") }
            if patch.retry != nil { throw .invalid(field: "retry", "a scheduled DAG's retry policies are per task and cannot be edited; submit the DAG again") }
            if patch.timeoutSeconds != nil {
                throw .invalid(field: "timeout_seconds", "a scheduled DAG's timeouts are per task and cannot be edited; submit the DAG again")
            }
            if patch.changesPlacement {
                throw .invalid(field: patch.constraints != nil ? "constraints" : "max_per_node",
                               "a scheduled DAG's placements are per task and cannot be edited; submit the DAG again")
            }
        }
        let priority = try SubmissionPlanner.integer(patch.priority, field: "priority") ?? old.priority
        var task = old.task
        if let body = patch.task { task = try keepingSecrets(try SubmissionPlanner.taskSpec(body, fieldPrefix: ""), stored: old.task) }
        let retry = try patch.retry.map { body throws(APIError) in try SubmissionPlanner.retryPolicy(body, fieldPrefix: "") } ?? old.retry
        let timeoutMs = patch.timeoutSeconds == nil ? old.timeoutMs
            : try SubmissionPlanner.timeout(patch.timeoutSeconds, field: "timeout_seconds")
        let labels = try patch.labels.map { map throws(APIError) in try SubmissionPlanner.labelList(map, field: "labels") } ?? old.labels
        var schedule = old.schedule
        var nextFire: Timestamp?
        if isCron, patch.reschedules, let stored = old.schedule {
            let expression = patch.schedule ?? stored.expression
            let timezone = patch.timezone ?? stored.timezone
            let parsed = try CronValidation.schedule(expression: expression, timezone: timezone)
            guard let next = CronPlanner.nextFire(of: parsed, after: now) else {
                throw .invalid(field: "schedule", "'\(FieldProblem.shortened(expression))' never fires after now")
            }
            schedule = CronSchedule(expression: expression, timezone: timezone)
            nextFire = next
        }
        let concurrency = patch.concurrency == nil ? old.concurrency
            : try SubmissionPlanner.concurrency(patch.concurrency, field: "concurrency")
        let misfire = patch.misfire == nil ? old.misfire : try SubmissionPlanner.misfire(patch.misfire, field: "misfire")
        let notify = try patch.notify.map { bodies throws(APIError) in try NotifyRulePlanner.rules(bodies) } ?? old.notify
        let placement = try placement(patch, old: old.placement)
        let spec = JobSpec(name: old.name, schedule: schedule, runAt: old.runAt, priority: priority, task: task, dag: old.dag,
                           retry: retry, timeoutMs: timeoutMs, concurrency: concurrency, misfire: misfire,
                           startingDeadlineMs: old.startingDeadlineMs, labels: labels, retentionMs: old.retentionMs,
                           historyLimit: old.historyLimit, placement: placement, notify: notify)
        return PlannedEdit(edit: EditJob(jobID: job.id, spec: spec, expectedVersion: job.version, nextFireAt: nextFire),
                           reschedules: nextFire != nil)
    }

    /// The placement after `patch`: `constraints` given replace the stored ones whole (`{}` none),
    /// `max_per_node` given replaces the stored limit; each left out is kept. Checked exactly as
    /// on submission (``SubmissionPlanner/placement(_:_:fieldPrefix:inheriting:)``), so the
    /// same 422 names the same field. The runs already queued are placed by the new one from the
    /// next duty round on: the planner reads a run's placement from its job's spec.
    static func placement(_ patch: JobPatch, old: Placement) throws(APIError) -> Placement {
        guard patch.changesPlacement else { return old }
        let constraints = patch.constraints
            ?? Dictionary(old.constraints.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
        let maxPerNode = patch.maxPerNode ?? old.maxPerNode.map { .integer(Int64($0)) }
        return try SubmissionPlanner.placement(constraints, maxPerNode, fieldPrefix: "")
    }

    /// `task` with every ``ResourceMapper/redactedSecret`` value of `env` (shell) or `headers`
    /// (http) replaced by the stored task's value of the same key: what a client that read the
    /// job and sends it back unchanged means.
    ///
    /// - Throws: 422 `task.env` / `task.headers` when the stored task has no value for that key
    ///   (or is of another kind): there is nothing to keep.
    static func keepingSecrets(_ task: TaskSpec, stored: TaskSpec) throws(APIError) -> TaskSpec {
        switch task {
        case .shell(let shell):
            var storedValues: [String: String] = [:]
            if case .shell(let old) = stored { for pair in old.environment { storedValues[pair.key] = pair.value } }
            let environment = try merged(shell.environment, storedValues, field: "task.env")
            return .shell(ShellTask(argv: shell.argv, environment: environment, workingDirectory: shell.workingDirectory))
        case .http(let http):
            var storedValues: [String: String] = [:]
            if case .http(let old) = stored { for pair in old.headers { storedValues[pair.key] = pair.value } }
            let headers = try merged(http.headers, storedValues, field: "task.headers")
            return .http(HTTPTask(method: http.method, url: http.url, headers: headers, body: http.body))
        case .noop, .sleep:
            return task
        }
    }

    private static func merged(_ pairs: [KeyValue], _ stored: [String: String], field: String) throws(APIError) -> [KeyValue] {
        var result: [KeyValue] = []
        result.reserveCapacity(pairs.count)
        for pair in pairs {
            guard pair.value == ResourceMapper.redactedSecret else {
                result.append(pair)
                continue
            }
            guard let kept = stored[pair.key] else {
                throw .invalid(field: field, "'\(FieldProblem.shortened(pair.key))' is \"\(ResourceMapper.redactedSecret)\" (keep the stored value), "
                               + "but the job's stored task has no value for it; send the value itself")
            }
            result.append(KeyValue(pair.key, kept))
        }
        return result
    }
}
