import NodeCore
import RaftCore
import SchedulerCore

// Faults and the client workload.
extension SchedulerWorld {
    mutating func injectFault() {
        let i = random.below(nodes.count)
        stats.faults += 1
        switch random.below(100) {
        case 0..<18:
            crash(i, for: .milliseconds(500 + random.below(4_000)), lostLog: random.chance(25))
        case 18..<33:
            pause(i, for: .milliseconds(500 + random.below(4_000)))
        case 33..<53:
            // Cut off both ways.
            let duration = Duration.milliseconds(500 + random.below(7_000))
            for j in nodes.indices where j != i { cut(i, j, for: duration); cut(j, i, for: duration) }
            step("n\(i + 1) partitioned for \(duration)")
        case 53..<83:
            // One way: either nobody hears `i`, or `i` hears nobody.
            let duration = Duration.milliseconds(1_000 + random.below(11_000))
            let outbound = random.chance(50)
            for j in nodes.indices where j != i { outbound ? cut(i, j, for: duration) : cut(j, i, for: duration) }
            step("n\(i + 1) one-way partitioned (\(outbound ? "its messages" : "messages to it") lost) for \(duration)")
        case 83..<95 where nodes[i].up && nodes.allSatisfy({ $0.jumpMs == 0 }) && now - lastClockRevert > settings.lease:
            // One wrong clock at a time (its reports stay fresh for half a lease after it is
            // fixed): a majority of wrong clocks can move scheduler time, and no bound can tell
            // which clocks are right then.
            // 1–9 hours ahead, or 1–9 hours behind (a leader behind would hold scheduler time still).
            let hours = random.below(18)
            let jump = hours < 9 ? Int64(3_600_000 * (1 + hours)) : -Int64(3_600_000 * (hours - 8))
            nodes[i].jumpMs = jump
            queue.schedule(.clockRevert(node: i), at: now + .milliseconds(3_000 + random.below(15_000)))
            step("n\(i + 1) clock jumps \(abs(jump) / 3_600_000) h \(jump > 0 ? "ahead" : "behind")")
        default:
            stats.faults -= 1
        }
    }

    mutating func cut(_ from: Int, _ to: Int, for duration: Duration) {
        blocked[from][to] += 1
        queue.schedule(.heal(from: from, to: to), at: now + duration)
    }

    // MARK: Workload

    /// Two `forbid` cron jobs whose runs last longer than a minute's fire interval.
    mutating func submitCronJobs() {
        for n in 1...2 {
            let spec = JobSpec(name: "cron\(n)", schedule: CronSchedule(expression: "* * * * *"),
                               retry: RetryPolicy(maxAttempts: 5, initialBackoffMs: 100, multiplier: 1, maxBackoffMs: 100, jitter: false),
                               timeoutMs: 120_000, concurrency: .forbid)
            let first = Timestamp(epochMs + 60_000 - epochMs % 60_000)
            let command = Command.submitJob(SubmitJob(jobID: JobID("cron\(n)"), spec: spec, runID: RunID("cron\(n)-0"),
                                                      firstFireAt: first))
            outstanding["cron\(n)"] = command
        }
    }

    /// One once job (or now and then a diamond DAG) submitted to a random node.
    mutating func submitOnce() throws(SchedulerViolation) {
        nextID += 1
        // Every other job carries a lost cap (as the API stamps it since command format 4), the rest
        // keep the old rule (jobs from older commands), so both retry rules meet the faults.
        // Decided by the id, not drawn: each seed's random sequence is what it was before.
        let retry = RetryPolicy(maxAttempts: 4, initialBackoffMs: 100, multiplier: 1, maxBackoffMs: 100, jitter: false,
                                maxLostAttempts: nextID % 2 == 0 ? RetryPolicy.defaultMaxLostAttempts : nil)
        let command: Command
        let key: String
        if random.chance(12) {
            let tasks = [
                DAGTaskSpec(id: "a", retry: retry, timeoutMs: 10_000),
                DAGTaskSpec(id: "b", dependsOn: ["a"], retry: retry, timeoutMs: 10_000),
                DAGTaskSpec(id: "c", dependsOn: ["a"], retry: retry, timeoutMs: 10_000),
                DAGTaskSpec(id: "d", dependsOn: ["b", "c"], retry: retry, timeoutMs: 10_000),
            ]
            guard let spec = try? DAGSpec.validated(name: "diamond", tasks: tasks, priority: 0) else { return }
            key = "d\(nextID)"
            command = .submitDAG(SubmitDAG(dagRunID: DAGRunID(key), spec: spec,
                                           idempotency: IdempotencyStamp(key: key, bodyDigest: 1)))
        } else {
            key = "j\(nextID)"
            let spec = JobSpec(name: key, priority: random.below(3), retry: retry, timeoutMs: 10_000)
            command = .submitJob(SubmitJob(jobID: JobID(key), spec: spec, runID: RunID("r\(nextID)"),
                                           idempotency: IdempotencyStamp(key: key, bodyDigest: 1)))
        }
        outstanding[key] = command
        try resubmit()
    }

    /// The client sends every unacknowledged submission again, each to a random live node, with
    /// its idempotency key (so a retry after an unknown outcome creates nothing twice).
    mutating func resubmit() throws(SchedulerViolation) {
        let oracle = invariants.oracle
        for (key, command) in outstanding.sorted(by: { $0.key < $1.key }) {
            let known = key.hasPrefix("d") ? oracle.dagRun(DAGRunID(key)) != nil : oracle.job(JobID(key)) != nil
            if known {
                outstanding[key] = nil
                acknowledged.insert(key)
                stats.submitted += 1
                continue
            }
            let live = nodes.indices.filter { nodes[$0].up && !nodes[$0].paused }
            guard !live.isEmpty else { return }
            try forward(command, from: live[random.below(live.count)])
        }
    }

    /// Whether every once job and DAG run is terminal and nothing is left to submit.
    func allTerminal() -> Bool {
        guard outstanding.isEmpty else { return false }
        return invariants.unfinishedWork(in: invariants.oracle, upTo: nextID).isEmpty
    }

    mutating func finalChecks() throws(SchedulerViolation) {
        try invariants.finalChecks(self)
    }
}
