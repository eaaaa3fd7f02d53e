import NodeCore
import RaftCore
import SchedulerCore
import SchedulerPlanning

// The abstract consensus layer: one committed log, a leader that can commit only while it
// reaches a majority both ways, replication to the nodes the leader reaches, elections.
extension SchedulerWorld {
    /// The leader proposes `command` stamped `at`: committed at once if it reaches a majority,
    /// otherwise lost (its proposer retries, as after an unknown outcome).
    mutating func propose(_ command: Command, at stamp: Timestamp, by node: Int) throws(SchedulerViolation) {
        guard leader == node, nodes[node].up, !nodes[node].paused, hasMajority(node) else { return }
        let stamped = StampedCommand(at: stamp, command: command)
        proposer = node
        noteExpiries(command, index: log.count + 1)
        if case .assignAttempt = command {} else if case .batch = command {
            step("entry \(log.count + 1) stamped \(stamp.milliseconds - trueTime.milliseconds) ms from true time")
        }
        try invariants.committed(stamped, index: log.count + 1, world: self)
        log.append(stamped)
        // Committed means on the disks of a majority: those the leader reaches both ways.
        for v in nodes.indices where canReach(node, v) && canReach(v, node) { nodes[v].persisted = max(nodes[v].persisted, log.count) }
        // The leader applies its own entries at once (what it proposes next builds on them).
        try applyPending(node)
    }

    mutating func noteExpiries(_ command: Command, index: Int) {
        switch command {
        case .expireAttempt(let e): step("entry \(index) by n\(proposer + 1): expire \(e.runID)#\(e.attempt) (\(e.reason))")
        case .finishAttempt(let f): step("entry \(index) by n\(proposer + 1): finish \(f.runID)#\(f.attempt) \(f.report.outcome)")
        case .assignAttempt(let a): step("entry \(index) by n\(proposer + 1): assign \(a.runID)#\(a.attempt) to \(a.executor)")
        case .batch(let commands): for inner in commands { noteExpiries(inner, index: index) }
        default: return
        }
    }

    /// Every node the leader reaches applies what it is missing; the leader hears the
    /// incarnation of every node whose messages reach it (they answer its appends).
    mutating func replicate() throws(SchedulerViolation) {
        guard let leader, nodes[leader].up, !nodes[leader].paused else { return }
        for i in nodes.indices where i != leader && nodes[i].up && !nodes[i].paused && canReach(i, leader) {
            nodes[leader].heardIncarnations[i] = nodes[i].incarnation
        }
        for i in nodes.indices where applied[i] < log.count && canReach(leader, i) {
            try applyPending(i)
        }
    }

    /// How many entries a node catching up applies at once. A real node applies a long
    /// catch-up in many batches (appends are bounded, snapshots aside), and acts on each: a
    /// batch can end between an old assignment and the entry that finished it (issue #15, the
    /// wipe finding), which one batch for the whole catch-up never shows.
    static let catchUpBatch = 8

    /// Node `i` applies entries `applied[i]+1 ... log.count`, in batches of at most
    /// ``catchUpBatch``, and acts on each batch's result before applying the next.
    mutating func applyPending(_ i: Int) throws(SchedulerViolation) {
        while applied[i] < log.count, nodes[i].up {
            let end = min(log.count, applied[i] + Self.catchUpBatch)
            let batch = (applied[i] ..< end).map { (index: Raft.LogIndex(UInt64($0 + 1)), command: log[$0]) }
            let (directives, _) = nodes[i].core.apply(batch, clock: (monotonic, wallClock(i)))
            applied[i] = end
            nodes[i].persisted = max(nodes[i].persisted, end)
            try perform(directives, at: i)
        }
    }

    mutating func electionCheck() throws(SchedulerViolation) {
        if let current = leader {
            let healthy = nodes[current].up && !nodes[current].paused && hasMajority(current)
            if healthy {
                isolatedSince = nil
                return
            }
            if isolatedSince == nil { isolatedSince = now }
            // CheckQuorum: a leader cut off from a majority steps down after an election timeout;
            // a dead or paused one is replaced after the followers' election timeout.
            guard let since = isolatedSince, now - since >= settings.electionTimeout else { return }
            depose()
            return
        }
        guard let since = noLeaderSince, now - since >= settings.electionTimeout / 2 else { return }
        // Raft's vote rule: a candidate wins only with the votes of a majority whose logs are no
        // longer than its own (here: what each node has applied, i.e. holds on disk).
        let candidates = nodes.indices.filter { c in
            guard nodes[c].up, !nodes[c].paused else { return false }
            let voters = nodes.indices.filter { v in canReach(c, v) && canReach(v, c) && nodes[v].persisted <= nodes[c].persisted }
            return voters.count > nodes.count / 2
        }
        guard !candidates.isEmpty else { return }
        let chosen = candidates[random.below(candidates.count)]
        // A Raft leader holds every committed entry; it applies them before acting (a committed
        // entry is on a majority, so the winner has it or receives it with its first append).
        try applyPending(chosen)
        leader = chosen
        leaderSince = now
        noLeaderSince = nil
        isolatedSince = nil
        nodes[chosen].core.leadership(since: monotonic)
        step("n\(chosen + 1) leads")
    }

    mutating func depose() {
        guard let current = leader else { return }
        nodes[current].core.leadership(since: nil)
        leader = nil
        noLeaderSince = now
        step("n\(current + 1) no longer leads")
    }

    mutating func leaderTick() throws(SchedulerViolation) {
        guard let current = leader, nodes[current].up, !nodes[current].paused else { return }
        var ids: [RunID] = []
        // The directory incarnations the leader last heard (its own included), named in its
        // assignments below command format 15 — with the processes, this build names processes:
        // the `directory-named-assignments` mutation runs nodes without process incarnations, so
        // directories are named (as before format 15), and `unnamed-assignments` names nothing
        // (the clock cut-off alone, as before format 12).
        var heard = [Self.nodeID(current): nodes[current].incarnation]
        for (node, incarnation) in nodes[current].heardIncarnations { heard[Self.nodeID(node)] = incarnation }
        let incarnations = settings.mutations.isOn("unnamed-assignments") ? nil : heard
        let directives = nodes[current].core.leaderTick(at: monotonic, wallClock: wallClock(current),
                                                        commitIndex: Raft.LogIndex(UInt64(log.count)),
                                                        incarnations: incarnations) {
            nextID += 1
            let id = RunID("cr\(nextID)")
            ids.append(id)
            return id
        }
        try perform(directives, at: current)
    }

    /// What a node's shell does with its core's directives.
    mutating func perform(_ directives: [NodeCore.Directive], at i: Int) throws(SchedulerViolation) {
        for directive in directives {
            switch directive {
            case .start(let order):
                try startProcess(order, on: i)
            case .stop(let key):
                stopProcess(key, on: i)
            case .fence:
                fence(i)
            case .propose(let command, let stamp):
                try propose(command, at: stamp, by: i)
            case .sendProbe(let to, let probe, _):
                if let target = nodes.indices.first(where: { Self.nodeID($0) == to }) { send(.probe(probe), from: i, to: target) }
            case .deliver:
                // The simulated workload asks for no notifications; nothing to send.
                break
            case .sendEcho(let to, let echo):
                if let target = nodes.indices.first(where: { Self.nodeID($0) == to }) {
                    nodes[target].lastEchoSentToIt = now
                    send(.echo(echo), from: i, to: target)
                }
            }
        }
    }

    mutating func deliver(_ message: SimMessage) throws(SchedulerViolation) {
        let to = message.to
        guard nodes[to].up, !nodes[to].paused else { return }
        switch message.body {
        case .probe(let probe):
            guard leader == to else { return }
            let echo = nodes[to].core.probeReceived(probe, from: Self.nodeID(message.from), at: monotonic, wallClock: wallClock(to))
            try perform(echo, at: to)
        case .echo(let echo):
            // Probes go out on the tick only, never at once on a leader's first echo as a running
            // node's peer link sends them (``NodeCore/ExecutorSide/echoed(_:by:echoID:features:leaderStamp:at:)``):
            // any probe timing is legal, and the slower one leaves open the windows between a
            // restart or an election and the second probe in which the directory-named
            // assignments of the `directory-named-assignments` mutation start (with the early
            // probe that mutation was not caught in 4,000 five-node histories).
            nodes[to].core.echoReceived(echo, from: Self.nodeID(message.from), at: monotonic)
        case .forward(let unstamped, let followerClock):
            guard leader == to else { return }
            try resolveAndPropose(unstamped, followerClock: followerClock, by: to)
        }
    }

    /// The executor side on node `i`: probe or fence, then report attempts the state says run
    /// here but this process does not run (a restart replayed them).
    mutating func executorTick(_ i: Int) throws(SchedulerViolation) {
        // A node believes in the leader it last heard from (a node the leader cannot reach keeps
        // probing it: its probes, or any other message, must not renew its lease).
        if let current = leader, canReach(current, i) || current == i { nodes[i].believedLeader = current }
        // A node that no longer leads knows it (it stepped down, CheckQuorum).
        if nodes[i].believedLeader == i, leader != i { nodes[i].believedLeader = nil }
        let believed = nodes[i].believedLeader.map { Self.nodeID($0) }
        let directives = nodes[i].core.executorTick(at: monotonic, wallClock: wallClock(i), leader: believed)
        try perform(directives, at: i)
        // Reporting an attempt this node applied but does not run is safe at any point: it never
        // starts it later (starts happen only as an assignment is applied).
        guard let current = leader, canReach(current, i) else { return }
        let here = nodes[i].running.union(nodes[i].slots.held.map(\.key))
        for key in nodes[i].core.lostAttempts(runningHere: here) {
            guard nodes[i].pendingReports[key] == nil else { continue }
            step("n\(i + 1) reports \(key) lost (not running here)")
            nodes[i].pendingReports[key] = .expireAttempt(ExpireAttempt(runID: key.runID, attempt: key.attempt, reason: .executorLost))
        }
        try resendReports(i)
    }

    /// Node `i` forwards its pending reports to the leader; reports its state shows settled are dropped.
    mutating func resendReports(_ i: Int) throws(SchedulerViolation) {
        guard nodes[i].up, !nodes[i].paused else { return }
        let state = nodes[i].core.state
        // Sorted: a dictionary's order differs between processes, and the replay must not.
        for (key, command) in nodes[i].pendingReports.sorted(by: { SchedulerWorld.ordered($0.key, $1.key) }) {
            if let run = state.run(key.runID), run.state == .running, run.attempt == key.attempt {
                try forward(command, from: i)
            } else if state.run(key.runID) != nil || applied[i] == log.count {
                nodes[i].pendingReports[key] = nil
            }
        }
    }

    /// Sends `command` to the leader with its times relative (a once job due at the stamp, a
    /// cron job's first fire after it), as a running node does; the leader resolves them with its
    /// own bounded stamp (the `follower-clock` mutation uses node `i`'s wall clock instead). The
    /// leader's own submissions take the same step.
    mutating func forward(_ command: Command, from i: Int) throws(SchedulerViolation) {
        guard let current = leader else { return }
        let unstamped = Self.unstamped(command)
        if current == i {
            try resolveAndPropose(unstamped, followerClock: nil, by: i)
        } else {
            send(.forward(unstamped, followerClock: wallClock(i)), from: i, to: current)
        }
    }

    /// The leader `node` resolves `unstamped` (``NodeCore/NodeCore/resolve(_:followerClock:members:at:wallClock:)``)
    /// and proposes it; a refusal drops it (the client retries).
    mutating func resolveAndPropose(_ unstamped: UnstampedCommand, followerClock: Timestamp?, by node: Int) throws(SchedulerViolation) {
        let members = Set(nodes.indices.map(Self.nodeID))
        guard let stamped = try? nodes[node].core.resolve(unstamped, followerClock: followerClock, members: members,
                                                          at: monotonic, wallClock: wallClock(node)) else {
            step("n\(node + 1) refused a forwarded command")
            return
        }
        try propose(stamped.command, at: stamped.at, by: node)
    }

    /// A workload command with its times made relative, as the API plans a submission.
    static func unstamped(_ command: Command) -> UnstampedCommand {
        guard case .submitJob(let submit) = command else { return UnstampedCommand(command) }
        if submit.spec.schedule != nil { return .submit(submit, .firstFireAfterStamp) }
        return submit.spec.runAt.map { .submit(submit, .at($0)) } ?? .submit(submit, .afterStamp(milliseconds: 0))
    }
}
