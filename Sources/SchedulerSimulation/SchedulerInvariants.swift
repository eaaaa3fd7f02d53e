import NodeCore
import RaftCore
import SchedulerCore

/// The scheduler's promises, checked as the history runs. An oracle replica applies every
/// committed entry in order (what every correct node converges to); the checks compare what the
/// nodes and their executors did against it and against true time.
struct SchedulerInvariants {
    /// Every committed entry, applied in order.
    var oracle = SchedulerState()
    /// The latest attempt assigned to each run, from the assignment commands themselves.
    private var assigned: [RunID: Int] = [:]
    private var succeededRuns: Set<RunID> = []
    /// Attempts running in the oracle whose task is dead and unreported, since when.
    private var orphanedSince: [AttemptKey: Duration] = [:]
    /// How far ahead of or behind true time a stamp may be: the leader's bound (1 s) plus honest skew.
    let stampSlackMs: Int64 = 1_000 + 50 + 100

    /// A committed entry (the abstract log commits a proposal at once, so true time now is its
    /// proposal's): stamp within the bound both ways — a stamp behind holds scheduler time still,
    /// so cron fires and retries would wait (`stamp-behind`); a finish report ends only the
    /// current attempt; a run succeeds once.
    mutating func committed(_ stamped: StampedCommand, index: Int, world: SchedulerWorld) throws(SchedulerViolation) {
        let limit = world.trueTime.milliseconds + stampSlackMs
        if stamped.at.milliseconds > limit, world.nodes.filter({ $0.jumpMs == 0 }).count > world.nodes.count / 2 {
            throw world.violation("stamp-ahead", "entry \(index) is stamped \(stamped.at.milliseconds - world.trueTime.milliseconds) ms "
                + "ahead of true time (bound \(stampSlackMs) ms while a majority of clocks are right), proposed by leader "
                + "n\(world.proposer + 1) (clock \(world.nodes[world.proposer].jumpMs / 3_600_000) h ahead, trusted offset "
                + "\(world.nodes[world.proposer].core.trustedClockOffset.map { "\($0 - world.epochMs)" } ?? "none")): \(Self.describe(stamped.command))")
        }
        if stamped.at.milliseconds < world.trueTime.milliseconds - stampSlackMs, world.nodes.filter({ $0.jumpMs == 0 }).count > world.nodes.count / 2 {
            throw world.violation("stamp-behind", "entry \(index) is stamped \(world.trueTime.milliseconds - stamped.at.milliseconds) ms "
                + "behind true time (bound \(stampSlackMs) ms while a majority of clocks are right), proposed by leader "
                + "n\(world.proposer + 1) (clock \(world.nodes[world.proposer].jumpMs / 60_000) min off, trusted offset "
                + "\(world.nodes[world.proposer].core.trustedClockOffset.map { "\($0 - world.epochMs)" } ?? "none")): \(Self.describe(stamped.command))")
        }
        var finishes: [RunID: Int] = [:]
        Self.collectFinishes(stamped.command, into: &finishes)
        var events: [SchedulerEvent] = []
        oracle.apply(stamped.command, at: stamped.at, index: UInt64(max(0, index)), into: &events)
        for event in events {
            switch event {
            case .startAttempt(let runID, let attempt, _, _):
                assigned[runID] = attempt
            case .attemptFinished(let runID, _, _):
                if let reported = finishes[runID], let current = assigned[runID], reported != current {
                    throw world.violation("fenced-completion", "a finish report for attempt \(reported) of \(runID) ended attempt "
                        + "\(current) (entry \(index)); a late report of an expired attempt must change nothing")
                }
            case .runChanged(let runID, .succeeded, _):
                guard succeededRuns.insert(runID).inserted else {
                    throw world.violation("double-success", "\(runID) succeeded a second time (entry \(index))")
                }
            default:
                continue
            }
        }
    }

    static func collectFinishes(_ command: Command, into finishes: inout [RunID: Int]) {
        switch command {
        case .finishAttempt(let finish): finishes[finish.runID] = finish.attempt
        case .batch(let commands): for inner in commands { collectFinishes(inner, into: &finishes) }
        default: return
        }
    }

    static func describe(_ command: Command) -> String {
        let text = "\(command)"
        return text.count <= 160 ? text : String(text.prefix(160)) + "…"
    }

    /// A node starts `key`: its own applied state must still have that attempt running there,
    /// and a DAG task's dependencies must all have succeeded.
    func starting(_ key: AttemptKey, on i: Int, world: SchedulerWorld) throws(SchedulerViolation) {
        let state = world.nodes[i].core.state
        let me = ExecutorID(SchedulerWorld.nodeID(i).rawValue)
        guard let run = state.run(key.runID), run.state == .running, run.attempt == key.attempt, run.executor == me else {
            throw world.violation("start-after-end", "n\(i + 1) started \(key), which its own applied state already ended or "
                + "gave elsewhere (\(state.run(key.runID).map { "\($0.state) attempt \($0.attempt) on \($0.executor?.rawValue ?? "-")" } ?? "gone"))")
        }
        if let ref = run.dagTask, let dag = state.dagRun(ref.dagRunID) {
            for dependency in dag.spec.dependencies[ref.taskIndex] {
                let id = dag.taskRunID(dependency)
                guard state.run(id)?.state == .succeeded else {
                    throw world.violation("dag-order", "n\(i + 1) started \(key) before its dependency \(id) succeeded")
                }
            }
        }
    }

    /// An attempt's task is started at most once: a retry is a new attempt number, and no node
    /// — restarted, wiped, catching up in batches — starts an attempt a second time (issue #15:
    /// a wiped node re-ran its predecessor's attempt).
    func checkOnce(_ key: AttemptKey, on i: Int, world: SchedulerWorld) throws(SchedulerViolation) {
        guard let earlier = world.processes.first(where: { $0.key == key }) else { return }
        throw world.violation("attempt-ran-twice", "n\(i + 1) starts \(key), which n\(earlier.node + 1) already started "
            + "(its process epoch \(earlier.epoch), now n\(i + 1) is at epoch \(world.nodes[i].epoch))")
    }

    /// Process `id` is live: no other live process of the same run — or of the same `forbid`
    /// cron job — may be.
    func checkOverlap(_ id: Int, world: SchedulerWorld) throws(SchedulerViolation) {
        let process = world.processes[id]
        for (other, candidate) in world.processes.enumerated() where other != id && Self.isLive(candidate, world) {
            if candidate.key.runID == process.key.runID {
                throw world.violation("overlap", "\(process.key) on n\(process.node + 1) runs while \(candidate.key) on "
                    + "n\(candidate.node + 1) still runs")
            }
            if let job = process.forbidJob, candidate.forbidJob == job {
                throw world.violation("overlap", "forbid job \(job): \(process.key) on n\(process.node + 1) runs while "
                    + "\(candidate.key) on n\(candidate.node + 1) still runs")
            }
        }
    }

    /// Live: running and not frozen. A task whose node was paused while it ran is left out: a
    /// paused node cannot stop it, and after the pause it may overlap its retry until it is
    /// stopped (the paused-node gap of docs/guarantees.md — a limit of every lease, not a bug).
    static func isLive(_ process: SimProcess, _ world: SchedulerWorld) -> Bool {
        process.alive && process.frozenRemaining == nil && !process.wasFrozen
    }

    /// An attempt running in the committed state whose task is dead and whose node will never
    /// report it must be expired within the lease, the margin and a little, once a leader is
    /// steady: otherwise the job sits `running` until its timeout.
    mutating func checkStuckAttempts(_ world: SchedulerWorld) throws(SchedulerViolation) {
        // Every occupied slot has a live task: a slot whose task ended and was never freed
        // would shrink the node for good (and keep its held attempts "waiting" forever).
        for node in world.nodes.indices where world.nodes[node].up {
            for key in world.nodes[node].slots.executing
            where !world.processes.contains(where: { $0.alive && $0.key == key && $0.node == node && $0.epoch == world.nodes[node].epoch }) {
                throw world.violation("slot-leak", "n\(node + 1) counts \(key) in a slot, but no task of it runs there")
            }
        }
        var seen: Set<AttemptKey> = []
        for attempt in oracle.runningAttempts() {
            let key = AttemptKey(runID: attempt.runID, attempt: attempt.attempt)
            guard let node = world.nodes.indices.first(where: { SchedulerWorld.nodeID($0).rawValue == attempt.executor.rawValue })
            else { continue }
            let alive = world.processes.contains { $0.alive && $0.key == key && $0.node == node }
            let reporting = world.nodes[node].up && world.nodes[node].pendingReports[key] != nil
            // Held for a slot (prefetch) while every slot runs a task: it starts when one ends. A
            // held attempt beside a free slot is an orphan like any other.
            let slots = world.nodes[node].slots
            let held = world.nodes[node].up && slots.isHeld(key) && slots.executing.count >= slots.slots
            // A node that has not applied its assignment yet is not an orphan while it can still learn of it.
            let willStart = world.nodes[node].up && world.nodes[node].core.state.run(key.runID)?.attempt ?? 0 < key.attempt
                && world.leader.map { world.canReach($0, node) } == true
            guard !alive, !reporting, !held, !willStart else { continue }
            seen.insert(key)
            let since = orphanedSince[key] ?? world.now
            orphanedSince[key] = since
            // The promise: a lease and the margin (+ a duty round) after the task died, after the
            // leader took office, and after the leader last sent the node an echo (which the node
            // may have used to extend its own lease) — whichever is last.
            let bound = world.settings.lease + world.settings.leaseMargin + .milliseconds(600)
            let reference = max(since, world.leaderSince, world.nodes[node].lastEchoSentToIt)
            guard world.now - reference > bound, let leader = world.leader,
                  world.nodes[leader].up, !world.nodes[leader].paused, world.hasMajority(leader) else { continue }
            throw world.violation("stuck-attempt", "\(key) on n\(node + 1) has had no live task and no report coming for "
                + "\(world.now - since), but is still running in the committed state (the leader never expired it)")
        }
        for key in orphanedSince.keys where !seen.contains(key) { orphanedSince[key] = nil }
    }

    /// Once jobs (`j<n>`) and DAG runs (`d<n>`) of the history that are not terminal.
    func unfinishedWork(in state: SchedulerState, upTo last: Int) -> [String] {
        var open: [String] = []
        for n in 0...last {
            if let runID = state.job(JobID("j\(n)"))?.runID, let run = state.run(runID), !run.state.isTerminal {
                open.append("j\(n): \(run.id) \(run.state)")
            }
            if let dag = state.dagRun(DAGRunID("d\(n)")), dag.state == .running { open.append("d\(n) running") }
        }
        return open
    }

    /// At the end, after healing: every acknowledged job and DAG run exists, and every once run is terminal.
    func finalChecks(_ world: SchedulerWorld) throws(SchedulerViolation) {
        for key in world.acknowledged.sorted() {
            let exists = key.hasPrefix("d") ? oracle.dagRun(DAGRunID(key)) != nil : oracle.job(JobID(key)) != nil
            guard exists else { throw world.violation("lost-job", "\(key) was acknowledged but is not in the committed state") }
        }
        let open = unfinishedWork(in: oracle, upTo: world.nextID)
        guard open.isEmpty else {
            throw world.violation("not-terminal", "\(open.count) not terminal \(world.settings.healDeadline) after the faults healed: "
                + open.prefix(5).joined(separator: "; "))
        }
        if !world.outstanding.isEmpty {
            throw world.violation("not-terminal", "submissions never acknowledged after healing: \(world.outstanding.keys.sorted())")
        }
    }
}
