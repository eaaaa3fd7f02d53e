import SchedulerCore

/// One executor as the leader's dispatcher sees it.
public struct ExecutorCapacity: Hashable, Sendable {
    /// The node.
    public var id: ExecutorID
    /// Configured slots.
    public var slots: Int
    /// `true` for the leader itself: it is used only when no other executor has a free slot.
    public var isLeader: Bool
    /// `false` when the node is not heard from within its lease (it gets no new attempts).
    public var isReachable: Bool
    /// Its labels from the replicated member directory (placement constraints match these).
    public var labels: [String: String]
    /// `true` while an operator drains it: it gets no new attempts, its running ones finish.
    public var isDraining: Bool
    /// The incarnation named in its assignments (``AssignAttempt/executorIncarnation``): its
    /// process from command format 15, its data directory from 12; 0 = named as none.
    public var incarnation: UInt64
    /// How many assignments beyond its slots it may hold (`[executor] prefetch`, at most
    /// ``DutyPlanner/maxHeldPerSlot`` × `slots`; 0 when its build would run them instead of
    /// holding them).
    public var prefetch: Int
    /// A capacity.
    public init(id: ExecutorID, slots: Int, isLeader: Bool, isReachable: Bool, labels: [String: String] = [:],
                isDraining: Bool = false, incarnation: UInt64 = 0, prefetch: Int = 0) {
        self.incarnation = incarnation
        self.prefetch = prefetch
        self.id = id
        self.slots = slots
        self.isLeader = isLeader
        self.isReachable = isReachable
        self.labels = labels
        self.isDraining = isDraining
    }
}

/// The leader's duties as a pure function of the state and the time: which cron jobs fire,
/// whether due runs need a tick, which attempts passed their deadline or lost their executor,
/// and which queued runs go to which executor. The node proposes the result as one entry.
///
/// Pure, so a new leader computes exactly what the old one would have from the same state:
/// every timer is derived from the replicated state, none lives only in a process.
public enum DutyPlanner {
    /// The commands due at `now`, in the order they should apply.
    ///
    /// - Parameters:
    ///   - lost: executors whose lease expired: their running attempts are expired (they retry).
    ///   - maxAssignments: most assignments in one round.
    ///   - deadlineSlackMs: added to each attempt's timeout for its deadline, so the executor —
    ///     which times the attempt out itself, kills it within its grace period and reports with
    ///     the output — normally reports before the leader gives up on it.
    ///   - killGraceMs: how long a stopped or timed-out task may take to die; a held (prefetched)
    ///     assignment's deadline allows for its wait (``heldDeadline(now:timeoutMs:slackMs:waitMs:)``).
    ///   - nextRunID: fresh run ids for cron fires.
    public static func plan(state: SchedulerState, now: Timestamp, executors: [ExecutorCapacity], lost: Set<ExecutorID>,
                            maxAssignments: Int, deadlineSlackMs: Int64 = 0, killGraceMs: Int64 = 0,
                            nextRunID: () -> RunID) -> [Command] {
        var commands: [Command] = []
        for due in state.cronFiresDue(atOrBefore: now) {
            commands.append(.fireCron(CronPlanner.fire(due, now: now, runID: nextRunID())))
        }
        if let next = state.nextDueInstant, next <= now, commands.isEmpty {
            commands.append(.tick)
        }
        for attempt in state.attemptsPastDeadline(at: now) {
            commands.append(.expireAttempt(ExpireAttempt(runID: attempt.runID, attempt: attempt.attempt, reason: .deadlinePassed)))
        }
        var running = state.runningAttempts()
        if !lost.isEmpty {
            for attempt in running where lost.contains(attempt.executor) {
                commands.append(.expireAttempt(ExpireAttempt(runID: attempt.runID, attempt: attempt.attempt, reason: .executorLost)))
            }
            running.removeAll { lost.contains($0.executor) }
        }
        commands.append(contentsOf: assignments(state: state, now: now, executors: executors, running: running,
                                                maxAssignments: maxAssignments, deadlineSlackMs: deadlineSlackMs,
                                                killGraceMs: killGraceMs))
        return commands
    }

    /// How many queued runs past the round's budget a round looks at, so runs no node can take
    /// now (a constraint nobody matches, `max_per_node` reached) do not block the ones behind them.
    static let placementWindow = 256

    /// Highest-priority queued runs to the executors with the most free slots (least busy
    /// first) among those their ``Placement`` allows: live, not draining, labels matching,
    /// under `max_per_node`; followers and learners first, the leader only when none of them
    /// has a free slot. A run no executor may take now is skipped and stays queued.
    ///
    /// With prefetch, once no allowed executor has a free slot, a run goes to one with room to
    /// hold it (``ExecutorCapacity/prefetch``): it waits on that executor and starts the moment
    /// a slot frees there, instead of a replication round trip later. Its deadline allows for
    /// that wait (``heldDeadline(now:timeoutMs:slackMs:waitMs:)``).
    static func assignments(state: SchedulerState, now: Timestamp, executors: [ExecutorCapacity], running: [AttemptRef],
                            maxAssignments: Int, deadlineSlackMs: Int64, killGraceMs: Int64 = 0) -> [Command] {
        var busy: [ExecutorID: Int] = [:]
        for attempt in running { busy[attempt.executor, default: 0] += 1 }
        var rooms: [ExecutorRoom] = executors.compactMap { capacity in
            guard capacity.isReachable, !capacity.isDraining else { return nil }
            let used = busy[capacity.id, default: 0]
            let room = ExecutorRoom(capacity: capacity, free: max(0, capacity.slots - used),
                                    held: max(0, heldLimit(capacity) - max(0, used - capacity.slots)))
            return room.free + room.held > 0 ? room : nil
        }
        let totalRoom = rooms.reduce(0) { $0 + $1.free + $1.held }
        let budget = min(totalRoom, maxAssignments)
        guard budget > 0 else { return [] }
        // Unconstrained runs all fit while a slot is free: only a head with a placement needs the
        // wider window (so a cluster without placements pays what it paid before).
        let head = state.runsToAssign(limit: budget)
        let candidates = head.allSatisfy(\.placement.isNone) ? head : state.runsToAssign(limit: budget + placementWindow)
        // Attempts per max_per_node group and executor, counted only when some candidate has a limit.
        var perGroup: [String: [ExecutorID: Int]] = [:]
        if candidates.contains(where: { $0.placement.maxPerNode != nil }) {
            for attempt in running {
                guard let group = state.placementGroup(ofRun: attempt.runID) else { continue }
                perGroup[group, default: [:]][attempt.executor, default: 0] += 1
            }
        }
        // The longest timeout among each executor's attempts: those running (looked up only once
        // it is asked to hold) and this round's.
        var longestRunning: [ExecutorID: Int64] = [:]
        var longestAssigned: [ExecutorID: Int64] = [:]
        var commands: [Command] = []
        for run in candidates {
            guard commands.count < budget, !rooms.isEmpty else { break }
            let limit = run.placement.maxPerNode
            let placed = perGroup[run.placementGroup] ?? [:]
            let allowed = rooms.indices.filter { index in
                let capacity = rooms[index].capacity
                guard run.placement.matches(capacity.labels) else { return false }
                guard let limit else { return true }
                return placed[capacity.id, default: 0] < limit
            }
            // A free slot before a held place; then a non-leader; then the most room; ties by id,
            // so the plan is deterministic.
            guard let chosen = allowed.max(by: { a, b in
                let (x, y) = (rooms[a], rooms[b])
                if (x.free > 0) != (y.free > 0) { return y.free > 0 }
                if x.capacity.isLeader != y.capacity.isLeader { return x.capacity.isLeader }
                if x.room != y.room { return x.room < y.room }
                return x.capacity.id > y.capacity.id
            }) else { continue }
            let executor = rooms[chosen].capacity.id
            var deadline = now.adding(milliseconds: run.timeoutMs + deadlineSlackMs)
            if rooms[chosen].free == 0 {
                let alreadyRunning = longestRunning[executor] ?? longestTimeoutRunning(on: executor, running, in: state)
                longestRunning[executor] = alreadyRunning
                let longest = max(alreadyRunning, longestAssigned[executor] ?? 0)
                // Its place among the held ones (1 = next to start).
                let position = heldLimit(rooms[chosen].capacity) - rooms[chosen].held + 1
                deadline = heldDeadline(now: now, timeoutMs: run.timeoutMs, slackMs: deadlineSlackMs,
                                        waitMs: heldWait(position: position, slots: rooms[chosen].capacity.slots,
                                                         longestTimeoutMs: longest, killGraceMs: killGraceMs))
                rooms[chosen].held -= 1
            } else {
                rooms[chosen].free -= 1
            }
            longestAssigned[executor] = max(longestAssigned[executor] ?? 0, run.timeoutMs)
            commands.append(.assignAttempt(AssignAttempt(runID: run.runID, executor: executor,
                                                         attempt: run.nextAttempt, deadline: deadline,
                                                         executorIncarnation: rooms[chosen].capacity.incarnation)))
            if limit != nil { perGroup[run.placementGroup, default: [:]][executor, default: 0] += 1 }
            if rooms[chosen].room == 0 { rooms.remove(at: chosen) }
        }
        return commands
    }

    /// Held assignments an executor may have per slot: `[executor] prefetch` is at most this
    /// many times `slots` (the config refuses more), so a held one waits for at most this many
    /// rounds of its node's slots. 1: with 2 per slot the scheduler simulator found attempts
    /// started late beside their retries (docs/benchmarks.md, "Held assignments").
    public static let maxHeldPerSlot = 1

    /// How many assignments `capacity` may hold beyond its slots.
    static func heldLimit(_ capacity: ExecutorCapacity) -> Int {
        max(0, min(capacity.prefetch, maxHeldPerSlot * capacity.slots))
    }

    /// The longest a held assignment at `position` (1 = the next to start) waits for a slot:
    /// the held ones start in order as slots free, so the first `slots` of them start once the
    /// attempts now in the slots have ended — at the latest the longest timeout on the node plus
    /// the kill grace — the next `slots` once those have, and so on: one such round per `slots`
    /// places ahead. Saturating.
    public static func heldWait(position: Int, slots: Int, longestTimeoutMs: Int64, killGraceMs: Int64) -> Int64 {
        let rounds = Int64((max(1, position) - 1) / max(1, slots) + 1)
        let (round, overflow) = longestTimeoutMs.addingReportingOverflow(max(0, killGraceMs))
        guard !overflow else { return .max }
        let (wait, tooLong) = rounds.multipliedReportingOverflow(by: round)
        return tooLong ? .max : wait
    }

    /// The deadline of an assignment the executor holds until a slot frees: it starts within
    /// `waitMs` (``heldWait(position:slots:longestTimeoutMs:killGraceMs:)``) and from its start
    /// has its full timeout and the usual slack. Counted from the timeouts, not from earlier
    /// deadlines, so a steady stream of held assignments never pushes the deadlines further out.
    ///
    /// This bound is what lets a held attempt keep its whole timeout in the usual case; it is
    /// not what keeps it from overlapping its retry. The leader cannot see everything in a
    /// node's slots (a stopped task still inside its kill grace, a job edited to a shorter
    /// timeout while it ran, a node configured with fewer slots), so the executor time-boxes
    /// every held attempt to its deadline again when it starts it — and reports one cut short
    /// as lost rather than as the task's time-out (`ExecutorHost`, `AttemptSlots`).
    public static func heldDeadline(now: Timestamp, timeoutMs: Int64, slackMs: Int64, waitMs: Int64) -> Timestamp {
        now.adding(milliseconds: timeoutMs).adding(milliseconds: slackMs).adding(milliseconds: waitMs)
    }

    /// The longest timeout among the attempts `running` says `executor` runs (0: none).
    private static func longestTimeoutRunning(on executor: ExecutorID, _ running: [AttemptRef], in state: SchedulerState) -> Int64 {
        var longest: Int64 = 0
        for attempt in running where attempt.executor == executor {
            guard let run = state.run(attempt.runID) else { continue }
            longest = max(longest, state.execution(ofRun: run).timeoutMs)
        }
        return longest
    }
}

/// What one executor can still take in a duty round: free slots, then held places.
private struct ExecutorRoom {
    var capacity: ExecutorCapacity
    var free: Int
    var held: Int
    var room: Int { free + held }
}
