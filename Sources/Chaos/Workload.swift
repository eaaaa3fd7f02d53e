import DeterministicRandom
import Foundation
import Synchronization

/// What the clients have learned so far, shared between them: acknowledged ids to read and
/// cancel, idempotency keys whose outcome stayed unknown, and each job's ledger tag.
final class WorkloadRegistry: Sendable {
    private struct Known {
        var jobs: [String] = []
        var unresolvedKeys: [String] = []
        var tags: [String: String] = [:]
    }

    private let known = Mutex(Known())

    func acked(job id: String) { known.withLock { $0.jobs.append(id) } }
    func unresolved(key: String) { known.withLock { $0.unresolvedKeys.append(key) } }
    func tag(_ id: String, _ tag: String) { known.withLock { $0.tags[id] = tag } }

    /// A random acknowledged job, if any.
    func randomJob(_ random: inout SplitMix64) -> String? {
        known.withLock { $0.jobs.isEmpty ? nil : $0.jobs[random.below($0.jobs.count)] }
    }

    var unresolvedKeys: [String] { known.withLock { $0.unresolvedKeys } }
    var tags: [String: String] { known.withLock { $0.tags } }
}

/// The clients: each submits once jobs (noop, short sleeps, shell jobs appending to the ledger,
/// jobs that fail once and then succeed), DAG runs (diamonds and chains), cancellations, and
/// linearizable status reads on random nodes; every creating request carries an
/// `Idempotency-Key` and is retried with it after an unknown outcome.
struct Workload: Sendable {
    let http: ChaosHTTP
    let ids: [String]
    let urls: [String: String]
    let recorder: HistoryRecorder
    let registry: WorkloadRegistry
    let ledgerPath: String
    let seed: UInt64

    /// Runs client `process` until `end` (seconds on the recorder's clock).
    func runClient(_ process: Int, until end: Double) async {
        var random = SplitMix64(seed: seed &+ UInt64(process) &* 0x9e37_79b9_7f4a_7c15)
        var serial = 0
        while recorder.now() < end, !Task.isCancelled {
            serial += 1
            let key = "s\(seed)-c\(process)-\(serial)"
            let choice = random.below(100)
            switch choice {
            case 0..<30:
                let task = jobTask(key, &random)
                await submitJob(process, key: key, task: task, random: &random)
            case 30..<40: await submitDAG(process, key: key, diamond: random.chance(50), random: &random)
            case 40..<46: await submitAndCancel(process, key: key, random: &random)
            case 46..<73:
                if let id = registry.randomJob(&random) { await read(process, id, stale: false, random: &random) }
            default:
                if let id = registry.randomJob(&random) { await read(process, id, stale: true, random: &random) }
            }
            try? await Task.sleep(for: .milliseconds(50 + random.below(200)))
        }
    }

    private func node(_ random: inout SplitMix64) -> String { ids[random.below(ids.count)] }

    /// A shell command that appends `tag` to the ledger (one line per real execution).
    private func appendCommand(_ tag: String, thenSucceedAfter count: Int? = nil) -> [String: Any] {
        var script = "echo '\(tag)' >> '\(ledgerPath)'"
        if let count { script += "; [ \"$(grep -c -x -F '\(tag)' '\(ledgerPath)')\" -ge \(count) ]" }
        return ["kind": "shell", "command": ["/bin/sh", "-c", script]]
    }

    /// The job body for one submit: noop, a short sleep, a ledger append, or fail-once-then-succeed.
    private func jobTask(_ key: String, _ random: inout SplitMix64) -> (task: [String: Any], retry: [String: Any]?, tagged: Bool) {
        switch random.below(4) {
        case 0: return (["kind": "noop"], nil, false)
        case 1: return (["kind": "sleep", "seconds": 0.2], nil, false)
        case 2: return (appendCommand(key), nil, true)
        default:
            return (appendCommand(key, thenSucceedAfter: 2), ["max_attempts": 4, "initial_backoff_ms": 200, "jitter": false], true)
        }
    }

    private func submitJob(_ process: Int, key: String, task: (task: [String: Any], retry: [String: Any]?, tagged: Bool),
                           random: inout SplitMix64) async {
        var body: [String: Any] = ["name": "chaos-\(key)", "task": task.task, "labels": ["chaos_key": key]]
        if let retry = task.retry { body["retry"] = retry }
        guard let id = await create(process, .submitJob, "/api/jobs", body, key: key, random: &random) else { return }
        registry.acked(job: id)
        if task.tagged { registry.tag(id, key) }
    }

    private func submitDAG(_ process: Int, key: String, diamond: Bool, random: inout SplitMix64) async {
        let names = diamond ? ["a", "b", "c", "d"] : ["a", "b", "c"]
        let depends: [String: [String]] = diamond ? ["b": ["a"], "c": ["a"], "d": ["b", "c"]] : ["b": ["a"], "c": ["b"]]
        let tasks: [[String: Any]] = names.map { name in
            var task: [String: Any] = ["id": name, "task": appendCommand("\(key)/\(name)")]
            if let on = depends[name] { task["depends_on"] = on }
            return task
        }
        let body: [String: Any] = ["name": "chaos-\(key)", "tasks": tasks, "labels": ["chaos_key": key]]
        guard let id = await create(process, .submitDAG, "/api/dags", body, key: key, random: &random) else { return }
        for name in names { registry.tag("\(id)/\(name)", "\(key)/\(name)") }
    }

    /// A 3 s job cancelled 0.1–0.5 s later. Its shell body first appends `key` and the time it
    /// started (``LedgerLine``: `/proc/uptime`, the boot-time clock, which the wall-clock preload
    /// of the `clock` nemesis does not skew) so the checker can tell an execution that started
    /// after the cancel was acknowledged.
    private func submitAndCancel(_ process: Int, key: String, random: inout SplitMix64) async {
        let script = "read up rest < /proc/uptime; echo \"\(key) $up\" >> '\(ledgerPath)'; sleep 3"
        let body: [String: Any] = ["name": "chaos-\(key)", "task": ["kind": "shell", "command": ["/bin/sh", "-c", script]],
                                   "labels": ["chaos_key": key]]
        guard let id = await create(process, .submitJob, "/api/jobs", body, key: key, random: &random) else { return }
        registry.acked(job: id)
        registry.tag(id, key)
        try? await Task.sleep(for: .milliseconds(100 + random.below(400)))
        let target = node(&random)
        let op = recorder.invoke(process: process, OperationKind.cancel.rawValue, node: target, id: id)
        let outcome = await http.send(.DELETE, "\(urls[target] ?? "")/api/jobs/\(id)")
        let (completion, detail) = Self.classify(outcome)
        recorder.complete(op, completion, process: process, OperationKind.cancel.rawValue, node: target, id: id, detail: detail)
    }

    /// Creates the run's one cron job: every minute, `concurrency: forbid`, a 1.5 s sleep, every
    /// run kept (`history_limit` 1000) so the checker can compare all attempts' times. Cron has no
    /// seconds field, so ``runTriggers(_:cronID:until:)`` fires it every second by hand.
    func submitCron(_ process: Int) async -> String? {
        var random = SplitMix64(seed: seed ^ 0xc0ff_ee00)
        let key = "s\(seed)-cron"
        let body: [String: Any] = ["name": "chaos-\(key)", "type": "cron", "schedule": "* * * * *", "concurrency": "forbid",
                                   "task": ["kind": "sleep", "seconds": 1.5], "history_limit": 1000, "labels": ["chaos_key": key]]
        return await create(process, .submitCron, "/api/jobs", body, key: key, random: &random)
    }

    /// Triggers the cron job on a random node once a second until `end`: under `forbid` a trigger
    /// while a run is active is a 409 (`fail`), so runs follow each other back to back.
    func runTriggers(_ process: Int, cronID: String, until end: Double) async {
        var random = SplitMix64(seed: seed ^ 0x7419_9e70)
        while recorder.now() < end, !Task.isCancelled {
            let target = node(&random)
            let op = recorder.invoke(process: process, OperationKind.trigger.rawValue, node: target, id: cronID)
            let outcome = await http.send(.POST, "\(urls[target] ?? "")/api/jobs/\(cronID)/trigger")
            let (completion, detail) = Self.classify(outcome)
            // The tool's own wall clock (never skewed) at the answer, beside the run it started:
            // ``SchedulerLag`` compares it with that run's start stamp.
            let wall = Int64((Date().timeIntervalSince1970 * 1_000).rounded())
            let runID: String? = completion == .ok ? {
                if case .response(_, _, let runID) = outcome { return runID } else { return nil }
            }() : nil
            recorder.complete(op, completion, process: process, OperationKind.trigger.rawValue, node: target, id: cronID, detail: detail,
                              run: runID, wallMs: runID == nil ? nil : wall)
            try? await Task.sleep(for: .seconds(1))
        }
    }

    /// A status read of `id` on a random node: linearizable, or `stale` (`?stale=true`, the node's own state).
    private func read(_ process: Int, _ id: String, stale: Bool, random: inout SplitMix64) async {
        let target = node(&random)
        let kind = (stale ? OperationKind.staleRead : .read).rawValue
        let op = recorder.invoke(process: process, kind, node: target, id: id)
        let outcome = await http.send(.GET, "\(urls[target] ?? "")/api/job-status/\(id)" + (stale ? "?stale=true" : ""))
        switch outcome.status {
        case 200:
            let object = outcome.object
            recorder.complete(op, .ok, process: process, kind, node: target, id: id,
                              state: object?["state"] as? String, attempt: object?["attempt"] as? Int)
        case 404:
            recorder.complete(op, .ok, process: process, kind, node: target, id: id, state: "missing")
        default:
            // A read changes nothing: failed and unknown reads alike carry no information.
            let (_, detail) = Self.classify(outcome)
            recorder.complete(op, .fail, process: process, kind, node: target, id: id, detail: detail)
        }
    }

    /// Posts `body` with `Idempotency-Key: key` until one answer is definite (up to 6 tries on
    /// random nodes); returns the created id when acknowledged. A key whose every try was
    /// unknown or unavailable after at least one unknown is registered as unresolved.
    private func create(_ process: Int, _ kind: OperationKind, _ path: String, _ body: [String: Any], key: String,
                        random: inout SplitMix64) async -> String? {
        guard let json = try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys]) else { return nil }
        var sawUnknown = false
        for attempt in 0..<6 {
            if attempt > 0 { try? await Task.sleep(for: .milliseconds(300)) }
            let target = node(&random)
            let op = recorder.invoke(process: process, kind.rawValue, node: target, key: key)
            let outcome = await http.send(.POST, "\(urls[target] ?? "")\(path)", json: json, headers: [("Idempotency-Key", key)])
            let (completion, detail) = Self.classify(outcome)
            if completion == .ok, let id = outcome.object?["id"] as? String {
                recorder.complete(op, .ok, process: process, kind.rawValue, node: target, id: id, detail: detail)
                return id
            }
            recorder.complete(op, completion == .ok ? .info : completion, process: process, kind.rawValue, node: target, detail: detail)
            if completion != .ok { sawUnknown = sawUnknown || completion == .info }
            if let status = outcome.status, (400..<500).contains(status), status != 429 { break }
        }
        if sawUnknown { registry.unresolved(key: key) }
        return nil
    }

    /// ok for 2xx; fail when nothing can have happened (refused, 4xx, 503 `unavailable`); info otherwise.
    static func classify(_ outcome: HTTPOutcome) -> (Completion, String?) {
        switch outcome {
        case .refused: return (.fail, "connection refused")
        case .unknown(let error): return (.info, String(error.prefix(200)))
        case .response(let status, _, _):
            if (200..<300).contains(status) { return (.ok, nil) }
            let detail = "\(status) \(outcome.errorCode ?? "")"
            if status == 503, outcome.errorCode == "outcome_unknown" { return (.info, detail) }
            if status >= 500, status != 503 { return (.info, detail) }
            return (.fail, detail)
        }
    }
}
