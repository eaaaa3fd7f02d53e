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
    /// Its data directory incarnation as the leader knows it, named in its assignments
    /// (``AssignAttempt/executorIncarnation``); 0 = unknown, named as none.
    public var incarnation: UInt64
    /// A capacity.
    public init(id: ExecutorID, slots: Int, isLeader: Bool, isReachable: Bool, labels: [String: String] = [:],
                isDraining: Bool = false, incarnation: UInt64 = 0) {
        self.incarnation = incarnation
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
    ///   - nextRunID: fresh run ids for cron fires.
    public static func plan(state: SchedulerState, now: Timestamp, executors: [ExecutorCapacity], lost: Set<ExecutorID>,
                            maxAssignments: Int, deadlineSlackMs: Int64 = 0, nextRunID: () -> RunID) -> [Command] {
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
                                                maxAssignments: maxAssignments, deadlineSlackMs: deadlineSlackMs))
        return commands
    }

    /// How many queued runs past the round's budget a round looks at, so runs no node can take
    /// now (a constraint nobody matches, `max_per_node` reached) do not block the ones behind them.
    static let placementWindow = 256

    /// Highest-priority queued runs to the executors with the most free slots (least busy
    /// first) among those their ``Placement`` allows: live, not draining, labels matching,
    /// under `max_per_node`; followers and learners first, the leader only when none of them
    /// has a free slot. A run no executor may take now is skipped and stays queued.
    static func assignments(state: SchedulerState, now: Timestamp, executors: [ExecutorCapacity], running: [AttemptRef],
                            maxAssignments: Int, deadlineSlackMs: Int64) -> [Command] {
        var busy: [ExecutorID: Int] = [:]
        for attempt in running { busy[attempt.executor, default: 0] += 1 }
        var free: [(capacity: ExecutorCapacity, free: Int)] = executors.compactMap { capacity in
            guard capacity.isReachable, !capacity.isDraining else { return nil }
            let count = capacity.slots - busy[capacity.id, default: 0]
            return count > 0 ? (capacity, count) : nil
        }
        let totalFree = free.reduce(0) { $0 + $1.free }
        let budget = min(totalFree, maxAssignments)
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
        var commands: [Command] = []
        for run in candidates {
            guard commands.count < budget, !free.isEmpty else { break }
            let limit = run.placement.maxPerNode
            let placed = perGroup[run.placementGroup] ?? [:]
            // Prefer a non-leader with the most free slots; ties by id, so the plan is deterministic.
            let allowed = free.indices.filter { index in
                let capacity = free[index].capacity
                guard run.placement.matches(capacity.labels) else { return false }
                guard let limit else { return true }
                return placed[capacity.id, default: 0] < limit
            }
            guard let chosen = allowed.max(by: { a, b in
                let (x, y) = (free[a], free[b])
                if x.capacity.isLeader != y.capacity.isLeader { return x.capacity.isLeader }
                if x.free != y.free { return x.free < y.free }
                return x.capacity.id > y.capacity.id
            }) else { continue }
            let executor = free[chosen].capacity.id
            commands.append(.assignAttempt(AssignAttempt(runID: run.runID, executor: executor,
                                                         attempt: run.nextAttempt,
                                                         deadline: now.adding(milliseconds: run.timeoutMs + deadlineSlackMs),
                                                         executorIncarnation: free[chosen].capacity.incarnation)))
            if limit != nil { perGroup[run.placementGroup, default: [:]][executor, default: 0] += 1 }
            free[chosen].free -= 1
            if free[chosen].free == 0 { free.remove(at: chosen) }
        }
        return commands
    }
}
