import SchedulerCore

/// An attempt this node must start: it was assigned here by an entry applied live.
public struct AttemptOrder: Hashable, Sendable {
    /// The run.
    public var runID: RunID
    /// The attempt number (the fencing token of its finish report).
    public var attempt: Int
    /// What to run.
    public var task: TaskSpec
    /// The per-attempt timeout.
    public var timeoutMs: Int64
    /// The executor incarnation the assignment named (``SchedulerCore/AssignAttempt/executorIncarnation``):
    /// a process (format 15) or a data directory (12–14); 0 = none.
    public var assignedIncarnation: UInt64
    /// The leader's deadline for the attempt, when known: a held order is time-boxed to it again
    /// when it finally starts (``ExecutorOrders/timeBoxed(_:now:killGraceMs:)``).
    public var deadline: Timestamp?
    /// An order.
    public init(runID: RunID, attempt: Int, task: TaskSpec, timeoutMs: Int64, assignedIncarnation: UInt64 = 0,
                deadline: Timestamp? = nil) {
        self.deadline = deadline
        self.runID = runID
        self.attempt = attempt
        self.task = task
        self.timeoutMs = timeoutMs
        self.assignedIncarnation = assignedIncarnation
    }
}

/// A running attempt, by run and attempt number.
public struct AttemptKey: Hashable, Sendable, CustomStringConvertible {
    /// The run.
    public var runID: RunID
    /// The attempt number.
    public var attempt: Int
    /// A key.
    public init(runID: RunID, attempt: Int) {
        self.runID = runID
        self.attempt = attempt
    }
    /// `run#attempt`.
    public var description: String { "\(runID)#\(attempt)" }
}

/// Turns an applied batch's events into what this node's executor must do, in a way that can
/// never start an attempt the same batch already ended.
///
/// A node that is catching up applies many entries at once: an assignment to it and, later in
/// the same batch, the expiry or cancellation of that attempt (the leader gave up on it while
/// this node was behind). Handling stops before starts would then start an attempt that is
/// already over — a duplicate execution, and `forbid` broken. So the events are read in order,
/// a stop cancels a start of the same batch, and a start survives only if the final state of
/// the batch still has that attempt running here.
public enum ExecutorOrders {
    /// Starts and stops for `executor` from `events` (in log order, live entries only), checked
    /// against `state` after the batch.
    public static func collect(from events: [SchedulerEvent], for executor: ExecutorID, in state: SchedulerState,
                               mutations: MutationSwitch = MutationSwitch()) -> (starts: [AttemptOrder], stops: [AttemptKey]) {
        if mutations.isOn("start-after-stop") { return stopsBeforeStarts(events, for: executor, in: state) }
        var startKeys: [AttemptKey] = []
        var incarnations: [AttemptKey: UInt64] = [:]
        var stops: [AttemptKey] = []
        for event in events {
            switch event {
            case .startAttempt(let runID, let attempt, let target, let incarnation) where target == executor:
                let key = AttemptKey(runID: runID, attempt: attempt)
                startKeys.append(key)
                incarnations[key] = incarnation
            case .stopAttempt(let runID, let attempt, let target) where target == executor:
                let key = AttemptKey(runID: runID, attempt: attempt)
                if let pending = startKeys.firstIndex(of: key) {
                    startKeys.remove(at: pending)  // never started: nothing to stop
                } else {
                    stops.append(key)
                }
            default:
                continue
            }
        }
        var starts: [AttemptOrder] = []
        for key in startKeys {
            guard let run = state.run(key.runID), run.state == .running, run.executor == executor,
                  run.attempt == key.attempt else { continue }
            let execution = state.execution(ofRun: run)
            starts.append(AttemptOrder(runID: key.runID, attempt: key.attempt, task: execution.task,
                                       timeoutMs: execution.timeoutMs, assignedIncarnation: incarnations[key] ?? 0,
                                       deadline: run.deadline))
        }
        return (starts, stops)
    }

    /// The old order, kept for the `start-after-stop` mutation: every stop, then every start the
    /// state does not contradict by its run id alone (as a mid-batch check did).
    private static func stopsBeforeStarts(_ events: [SchedulerEvent], for executor: ExecutorID,
                                          in state: SchedulerState) -> (starts: [AttemptOrder], stops: [AttemptKey]) {
        var starts: [AttemptOrder] = []
        var stops: [AttemptKey] = []
        for event in events {
            switch event {
            case .startAttempt(let runID, let attempt, let target, _) where target == executor:
                guard let run = state.run(runID) else { continue }
                let execution = state.execution(ofRun: run)
                starts.append(AttemptOrder(runID: runID, attempt: attempt, task: execution.task, timeoutMs: execution.timeoutMs))
            case .stopAttempt(let runID, let attempt, let target) where target == executor:
                stops.append(AttemptKey(runID: runID, attempt: attempt))
            default:
                continue
            }
        }
        return (starts, stops)
    }

    /// `starts` without the attempts assigned before this process started (`startedAt`, less a
    /// second for clock differences). A node that lost its log replays old entries live when it
    /// catches up: those attempts were running when it died, and the leader — which has had no
    /// round trip with this node since — is about to expire them as lost; starting them now
    /// would overlap their retries. They are reported lost instead, once the lease is proven.
    public static func withoutStale(_ starts: [AttemptOrder], in state: SchedulerState, startedAt: Timestamp) -> [AttemptOrder] {
        let cutoff = startedAt.adding(milliseconds: -1_000)
        return starts.filter { order in (state.run(order.runID)?.startedAt).map { $0 >= cutoff } ?? false }
    }

    /// `starts` time-boxed to the leader's deadline: each attempt's timeout is cut so that, with
    /// the kill grace and a second for clock differences, its task is dead before the leader
    /// expires it (`deadline_passed`) and may retry it elsewhere; an attempt with no time left is
    /// not started. A node that applies an assignment late (it was cut off, or catching up) would
    /// otherwise start a task that outlives its own deadline and overlaps the retry.
    public static func timeBoxed(_ starts: [AttemptOrder], in state: SchedulerState, now: Timestamp,
                                 killGraceMs: Int64) -> [AttemptOrder] {
        starts.compactMap { order in
            guard let deadline = state.run(order.runID)?.deadline else { return order }
            let left = deadline.milliseconds - now.milliseconds - killGraceMs - 1_000
            guard left > 0 else { return nil }
            var boxed = order
            boxed.timeoutMs = min(order.timeoutMs, left)
            return boxed
        }
    }

    /// `order` time-boxed to its own deadline at `now` (see ``timeBoxed(_:in:now:killGraceMs:)``),
    /// or nil when no time is left: what an executor does when it starts an order it held for a
    /// slot (``AttemptSlots``). An order without a deadline is returned as it is.
    public static func timeBoxed(_ order: AttemptOrder, now: Timestamp, killGraceMs: Int64) -> AttemptOrder? {
        guard let deadline = order.deadline else { return order }
        let until = deadline.milliseconds(since: now)  // saturating
        guard until > max(0, killGraceMs) + 1_000 else { return nil }
        var boxed = order
        boxed.timeoutMs = min(order.timeoutMs, until - max(0, killGraceMs) - 1_000)
        return boxed
    }

    /// `starts` without those assigned more than a second before `lapseEnded` (all of them when
    /// nil). The second leans towards starting, as ``withoutStale(_:in:startedAt:)`` does: a
    /// margin the other way dropped the first second of work after every lapse — including a
    /// fresh node's first round trip after a slow election — as lost.
    static func notAssignedBefore(_ lapseEnded: Timestamp?, _ starts: [AttemptOrder], in state: SchedulerState) -> [AttemptOrder] {
        guard let lapseEnded else { return starts }
        let cutoff = lapseEnded.adding(milliseconds: -1_000)
        return starts.filter { order in (state.run(order.runID)?.startedAt).map { $0 >= cutoff } ?? false }
    }

    /// The starts a node may carry out now — the one rule the running node and the scheduler
    /// simulator share: nothing while `fenced` (the executor lease ran out); an assignment naming
    /// this **process** (`process`, command format 15) is this process's own, whatever the
    /// clocks say; nothing assigned to another incarnation — another process, or another data
    /// directory than this process's (`incarnation`, when both are known:
    /// ``AttemptOrder/assignedIncarnation``); of the rest, nothing assigned before this
    /// process started (``withoutStale(_:in:startedAt:)``) until a round trip proves the lease
    /// (`proven`) — and, for an assignment that names no incarnation, never, whatever the lease,
    /// when the process started without a log (`startedWithoutLog`: a new or wiped data
    /// directory); and every start time-boxed to the leader's deadline when the wall clock is
    /// known (``timeBoxed(_:in:now:killGraceMs:)``). What is not started is reported lost by
    /// reconciliation.
    ///
    /// Why the process (command format 15): a node that restarted with its log catches up in
    /// batches, and its first round trip proves its lease long before it has. An assignment
    /// given to its previous process just before or while it was down, which the leader then
    /// expired as lost and retried elsewhere, looks running here at the end of the batch that
    /// applied it whenever the expiry falls into a later batch; named for the directory it was
    /// started (the scheduler simulator, seed 1058 with five nodes and `--prefetch 4`), and the
    /// clock rule's second of margin let one given within a second before a restart start too
    /// (seed 1214). The leader names a process only after a probe from it proved a round trip,
    /// so an assignment naming this one was given to it and is covered by its own lease; the
    /// lapse rule below still applies.
    ///
    /// Why the incarnation (issue #15, the `wipe` finding): a node without a log applies the
    /// whole history live, in many batches, and its lease is proven by its first round trip,
    /// long before it has caught up. An assignment its previous incarnation ran and finished then
    /// looks running at the end of the batch that applied it whenever the entry that finished it
    /// falls into a later batch. The leader names in each assignment the incarnation it last
    /// heard from the executor; it can name this process's only after hearing from it, so an
    /// assignment naming it was never given to the predecessor — and one naming another was,
    /// or to nobody alive. No clock is involved.
    ///
    /// Assignments that name none (a leader of an older build, or a cluster mid-upgrade) keep the
    /// clock rule: a process without a log never starts one stamped before it started (less a
    /// second for clock differences — the known gap: one assigned within about a second before a
    /// quick wipe and restart can run twice). A node that kept its log replays what its previous
    /// process ran from disk (nothing past its log was ever started there), so for it the proven
    /// lease lifts the cut-off, which a wall clock ahead of the cluster's stamps would otherwise
    /// hold too long.
    ///
    /// And nothing assigned more than a second (for clock differences, as the start rule
    /// above) before the lease last came back after running out (`lapseEnded`): while it was out the leader may have expired the
    /// attempt as lost and retried it elsewhere, and a node that applies the assignment only
    /// now — it was cut off from the log, or paused — would run it beside its retry. Those
    /// are reported lost by reconciliation too (the scheduler simulator found this with
    /// held assignments, which leave more work assigned to a node when it is cut off).
    public static func admitted(_ starts: [AttemptOrder], in state: SchedulerState, fenced: Bool, proven: Bool,
                                startedWithoutLog: Bool = false, incarnation: UInt64 = 0, process: UInt64 = 0,
                                startedAt: Timestamp,
                                now: Timestamp?, killGraceMs: Int64, lapseEnded: Timestamp? = nil) -> [AttemptOrder] {
        guard !starts.isEmpty, !fenced else { return [] }
        let starts = notAssignedBefore(lapseEnded, starts, in: state)
        guard !starts.isEmpty else { return [] }
        var fresh: [AttemptOrder] = []
        // Unnamed, or named for this directory before the lease is proven: the clock rule decides.
        var clockJudged: [AttemptOrder] = []
        for order in starts {
            if process != 0, order.assignedIncarnation == process {
                fresh.append(order)  // given to this very process after it proved a round trip
            } else if order.assignedIncarnation == 0 || incarnation == 0 {
                clockJudged.append(order)
            } else if order.assignedIncarnation == incarnation {
                // Named for this directory: given after the leader heard from it, so it is
                // this process's (or, for a node that kept its log, one its predecessor never
                // started: it is past the log on disk). The proven-lease rule still applies.
                if proven { fresh.append(order) } else { clockJudged.append(order) }
            }
            // Named for another directory under this id: its predecessor's. Never started.
        }
        let clockRuled = proven && !startedWithoutLog ? clockJudged : withoutStale(clockJudged, in: state, startedAt: startedAt)
        let admittedKeys = Set((fresh + clockRuled).map { AttemptKey(runID: $0.runID, attempt: $0.attempt) })
        let allowed = starts.filter { admittedKeys.contains(AttemptKey(runID: $0.runID, attempt: $0.attempt)) }
        guard let now else { return allowed }
        return timeBoxed(allowed, in: state, now: now, killGraceMs: killGraceMs)
    }
}
