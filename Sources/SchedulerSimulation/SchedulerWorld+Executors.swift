import NodeCore
import RaftCore
import SchedulerCore

// Simulated executors: task bodies that take time, succeed or fail, freeze with their node,
// die with it, and are killed (after up to the kill grace) when stopped or fenced.
extension SchedulerWorld {
    /// An applied assignment: it starts now, or waits for a slot (``AttemptSlots``).
    mutating func startProcess(_ order: AttemptOrder, on i: Int) throws(SchedulerViolation) {
        let key = order.key
        try invariants.starting(key, on: i, world: self)
        guard !nodes[i].running.contains(key) else { return }
        guard let order = nodes[i].slots.take(order) else {
            stats.attemptsHeld += 1
            step("n\(i + 1) holds \(key) for a slot")
            return
        }
        try launchProcess(order, on: i)
    }

    /// `key` left its slot on node `i`: the held attempts that take it start, time-boxed to their
    /// deadlines by the node's clock; one with no time left is reported lost.
    mutating func slotFreed(by key: AttemptKey, on i: Int) throws(SchedulerViolation) {
        var starts = nodes[i].slots.ended(key)
        while !starts.isEmpty {
            let order = starts.removeFirst()
            if let boxed = ExecutorOrders.timeBoxed(order, now: wallClock(i), killGraceMs: Self.ms(settings.killGrace)) {
                try invariants.starting(order.key, on: i, world: self)
                try launchProcess(boxed, on: i, timeCut: boxed.timeoutMs < order.timeoutMs)
            } else {
                stats.heldGivenBack += 1
                step("n\(i + 1) reports held \(order.key) lost (no time left before its deadline)")
                nodes[i].pendingReports[order.key] = .expireAttempt(ExpireAttempt(runID: order.runID, attempt: order.attempt,
                                                                                  reason: .executorLost))
                starts += nodes[i].slots.ended(order.key)
            }
        }
    }

    private mutating func launchProcess(_ order: AttemptOrder, on i: Int, timeCut: Bool = false) throws(SchedulerViolation) {
        let key = order.key
        try invariants.checkOnce(key, on: i, world: self)
        let state = nodes[i].core.state
        let run = state.run(order.runID)
        var forbid: JobID?
        if let job = run?.jobID, let spec = state.job(job)?.spec, spec.schedule != nil, spec.concurrency == .forbid { forbid = job }
        // Durations and outcomes are a function of the seed, run and attempt: replays agree.
        var draw = SplitMixDraw(seed: seed, text: "\(order.runID)#\(order.attempt)")
        let isCron = forbid != nil
        let natural: Duration = isCron ? .milliseconds(20_000 + draw.below(50_000)) : .milliseconds(50 + draw.below(3_000))
        let timeout = Duration.milliseconds(order.timeoutMs)
        // The executor times the attempt out itself (then it fails).
        let duration = min(natural, timeout)
        let process = SimProcess(node: i, epoch: nodes[i].epoch, key: key, jobID: run?.jobID, forbidJob: forbid,
                                 succeeds: natural <= timeout && draw.below(100) < 70, cutShort: timeCut && natural > timeout,
                                 endsAt: now + duration)
        processes.append(process)
        nodes[i].running.insert(key)
        stats.attemptsStarted += 1
        step("n\(i + 1) starts \(key)")
        try invariants.checkOverlap(processes.count - 1, world: self)
        queue.schedule(.processEnd(id: processes.count - 1, generation: 0), at: process.endsAt)
    }

    mutating func processEnded(_ id: Int, generation: Int) throws(SchedulerViolation) {
        guard processes[id].alive, processes[id].generation == generation, processes[id].frozenRemaining == nil else { return }
        let process = processes[id]
        processes[id].alive = false
        processes[id].endedAt = now
        let i = process.node
        guard nodes[i].epoch == process.epoch else { return }
        nodes[i].running.remove(process.key)
        try slotFreed(by: process.key, on: i)
        if process.cutShort {
            nodes[i].pendingReports[process.key] = .expireAttempt(ExpireAttempt(runID: process.key.runID, attempt: process.key.attempt,
                                                                                reason: .executorLost))
        } else {
            let report = AttemptReport(outcome: process.succeeds ? .succeeded : .failed, exitCode: process.succeeds ? 0 : 1)
            nodes[i].pendingReports[process.key] = .finishAttempt(FinishAttempt(runID: process.key.runID, attempt: process.key.attempt,
                                                                                report: report))
        }
        step("n\(i + 1) \(process.key) ended \(process.succeeds ? "ok" : "failed")")
        try resendReports(i)
    }

    /// Stop an attempt: it dies within the kill grace (SIGTERM, then SIGKILL); not reported.
    mutating func stopProcess(_ key: AttemptKey, on i: Int) {
        if nodes[i].slots.dropHeld(key) {
            step("n\(i + 1) drops held \(key)")
            return
        }
        // Still `running` here until it is dead: a node reports an attempt lost only once its
        // task is gone (as ExecutorHost keeps a stopping task until it ends).
        for id in processes.indices where processes[id].alive && processes[id].node == i && processes[id].key == key {
            let delay = Duration.milliseconds(random.below(Int(Self.ms(settings.killGrace)) + 1))
            queue.schedule(.processKilled(id: id), at: now + delay)
        }
        step("n\(i + 1) stops \(key)")
    }

    mutating func fence(_ i: Int) {
        // Held attempts never started: dropped unreported (the leader expires them).
        _ = nodes[i].slots.dropAllHeld()
        guard !nodes[i].running.isEmpty else { return }
        step("n\(i + 1) fences \(nodes[i].running.count) attempts")
        if resuming == i {
            // The paused-node gap (docs/guarantees.md): a node cannot fence while paused, so on
            // resume its tasks may run on for up to the kill grace next to their retries. Not a
            // promise Quorum makes; the simulator kills them at once so it checks the rest.
            for id in processes.indices where processes[id].alive && processes[id].node == i {
                kill(id)
                _ = nodes[i].slots.ended(processes[id].key)  // nothing is held any more: starts nothing
            }
        } else {
            for key in nodes[i].running.sorted(by: SchedulerWorld.ordered) { stopProcess(key, on: i) }
        }
    }

    /// A fixed order of attempt keys (sets and dictionaries iterate differently in every process).
    static func ordered(_ a: AttemptKey, _ b: AttemptKey) -> Bool {
        a.runID.rawValue != b.runID.rawValue ? a.runID.rawValue < b.runID.rawValue : a.attempt < b.attempt
    }

    mutating func kill(_ id: Int) {
        guard processes[id].alive else { return }
        processes[id].alive = false
        processes[id].endedAt = now
        let node = processes[id].node
        if nodes[node].epoch == processes[id].epoch { nodes[node].running.remove(processes[id].key) }
    }

    /// A stopped task died (its kill grace ran out, or it ended at SIGTERM): its slot is free.
    mutating func killed(_ id: Int) throws(SchedulerViolation) {
        let node = processes[id].node
        let wasHere = processes[id].alive && nodes[node].epoch == processes[id].epoch
        kill(id)
        if wasHere { try slotFreed(by: processes[id].key, on: node) }
    }

    // MARK: Node faults

    mutating func crash(_ i: Int, for downtime: Duration, lostLog: Bool) {
        guard nodes[i].up else { return }
        nodes[i].up = false
        nodes[i].paused = false
        nodes[i].epoch += 1
        nodes[i].pendingReports = [:]
        nodes[i].running = []
        nodes[i].slots = AttemptSlots(slots: settings.slots, holds: settings.prefetch > 0)
        nodes[i].heardIncarnations = [:]  // the consensus layer's memory of its peers dies with it
        // In-process tasks die with the node.
        for id in processes.indices where processes[id].alive && processes[id].node == i { kill(id) }
        if leader == i { depose() }
        // A host that reboots sets its clock at boot (NTP): a clock never confirmed by the
        // cluster is the one case the bound cannot catch (docs/node.md), so it is not simulated.
        if nodes[i].jumpMs != 0 {
            nodes[i].jumpMs = 0
            lastClockRevert = now
        }
        step("n\(i + 1) crashes\(lostLog ? " and loses its log" : "")")
        queue.schedule(.restart(node: i, lostLog: lostLog), at: now + downtime)
    }

    /// The process incarnation a node's process runs with: `next`, or none under the mutations
    /// whose leaders name directories or nothing (then no process is ever named).
    static func process(_ next: UInt64, _ mutations: MutationSwitch) -> UInt64 {
        mutations.isOn("unnamed-assignments") || mutations.isOn("directory-named-assignments") ? 0 : next
    }

    mutating func restart(_ i: Int, lostLog: Bool) throws(SchedulerViolation) {
        let replay = lostLog ? 0 : nodes[i].persisted
        if lostLog {
            // A new data directory: a new incarnation (the consensus layer's `INCARNATION`).
            lastIncarnation += 1
            nodes[i].incarnation = lastIncarnation
        }
        lastProcess += 1  // a new process: a new process incarnation
        nodes[i].core = NodeCore(id: Self.nodeID(i), settings: settings.coreSettings(), started: monotonic,
                                 startedWall: wallClock(i), replayThrough: Raft.LogIndex(UInt64(replay)),
                                 incarnation: nodes[i].incarnation,
                                 processIncarnation: Self.process(lastProcess, settings.mutations), mutations: settings.mutations)
        applied[i] = 0
        nodes[i].persisted = replay
        nodes[i].up = true
        nodes[i].believedLeader = nil
        step("n\(i + 1) restarts, replaying \(replay) entries")
        if replay > 0 {
            let batch = (0 ..< replay).map { (index: Raft.LogIndex(UInt64($0 + 1)), command: log[$0]) }
            let (directives, _) = nodes[i].core.apply(batch)
            applied[i] = replay
            try perform(directives, at: i)
        }
        queue.schedule(.executorTick(node: i, epoch: nodes[i].epoch), at: now + settings.lease / 8)
        queue.schedule(.reportRetry(node: i, epoch: nodes[i].epoch), at: now + .milliseconds(300))
    }

    mutating func pause(_ i: Int, for duration: Duration) {
        guard nodes[i].up, !nodes[i].paused else { return }
        nodes[i].paused = true
        for id in processes.indices where processes[id].alive && processes[id].node == i && processes[id].frozenRemaining == nil {
            processes[id].frozenRemaining = max(.zero, processes[id].endsAt - now)
            processes[id].generation += 1
            processes[id].wasFrozen = true
        }
        step("n\(i + 1) paused")
        queue.schedule(.resume(node: i), at: now + duration)
    }

    mutating func resume(_ i: Int) throws(SchedulerViolation) {
        guard nodes[i].up, nodes[i].paused else { return }
        nodes[i].paused = false
        step("n\(i + 1) resumes")
        // Its first act is the lease check: a node paused past its lease fences before its
        // frozen tasks run on.
        resuming = i
        try executorTick(i)
        resuming = nil
        for id in processes.indices where processes[id].alive && processes[id].node == i {
            guard let remaining = processes[id].frozenRemaining else { continue }
            processes[id].frozenRemaining = nil
            processes[id].endsAt = now + remaining
            try invariants.checkOverlap(id, world: self)
            queue.schedule(.processEnd(id: id, generation: processes[id].generation), at: processes[id].endsAt)
        }
    }
}

/// A deterministic draw from a seed and a text (FNV-1a into SplitMix64).
struct SplitMixDraw {
    private var state: UInt64

    init(seed: UInt64, text: String) {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325 ^ seed
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        state = hash
    }

    mutating func below(_ bound: Int) -> Int {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Int(z % UInt64(max(1, bound)))
    }
}
