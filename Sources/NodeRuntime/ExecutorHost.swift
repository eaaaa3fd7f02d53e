import Executor
import Logging
import NodeCore
import SchedulerCore
import Synchronization

/// Runs the attempts the log assigns to this node and reports how they ended.
///
/// - An attempt starts when its assignment is applied live (``accept(_:)``, called
///   synchronously by the state machine, so the attempt is in ``runningKeys`` before any reader
///   sees the assignment). Assignments replayed at start-up are not started: the leader learns
///   they are lost from ``attemptsNotRunningHere(_:)`` reconciliation.
/// - The finish is proposed through the leader, retried across leader changes; a duplicate or a
///   late report is harmless because the state machine fences by attempt number. Finishes that
///   end while another round's proposal is in flight go together in the next round, as one
///   entry (``FinishRounds``).
/// - ``fence(reason:)`` stops every running attempt without reporting (the node lost touch
///   with the leader for its lease: the leader will expire those attempts and retry them, so
///   they must not keep running — that is what keeps `forbid` true across a partition).
/// - At most ``slots`` attempts execute at once; an assignment beyond them (`[executor]
///   prefetch`) is held and starts the moment a slot frees — when the attempt before it ends,
///   not when its finish is applied — time-boxed to its deadline then (``NodeCore/AttemptSlots``).
public final class ExecutorHost: Sendable {
    /// Proposes how an attempt ended — a `finishAttempt`, or an `expireAttempt` with reason
    /// `executorLost` when this node gave it up, or a `.batch` of them (a round of several) — and
    /// returns `true` once it is applied (or is moot), `false` to retry.
    public typealias Reporter = @Sendable (Command) async -> Bool

    private struct Running {
        var task: Task<Void, Never>
        var fenced = false
        var stopRequested = false
    }

    private struct State {
        /// Every attempt this process has taken and not yet reported, executing or reporting.
        var running: [AttemptKey: Running] = [:]
        /// Which of them occupy a slot, and the assignments held for one.
        var slots: AttemptSlots
        var draining = false
        /// New assignments are reported lost instead of run (``stopTakingAttempts()``); unlike
        /// `draining` this can be undone, and it leaves running attempts alone.
        var refusingNew = false
    }

    private let runner: AttemptRunner
    private let rounds: FinishRounds
    private let clock: NodeClock
    private let logger: Logger
    private let outputs: AttemptOutputStore?
    private let state: Mutex<State>
    /// A held attempt is time-boxed to end this long (plus a second) before its deadline.
    private let killGraceMs: Int64
    /// The configured slots: at most this many attempts execute here at once.
    public let slots: Int

    /// A host running attempts with `runner` and reporting through `reporter`; its waits (report
    /// retries, the drain's grace) are on `clock`. With `outputs`, each finished attempt's full
    /// output tail is kept there before its finish is reported, and the report carries only
    /// the short ``ReplicatedOutputTail``; without, the report carries the tail as the runner made it.
    /// A round of reports holds about `maxRoundBytes` at most (keep it well under `max_entry_bytes`).
    /// `killGraceMs` is the runner's kill grace: a held attempt starts only with that much (and a
    /// second) left before its deadline.
    /// With `holdsAssignments` (`[executor] prefetch` above 0) at most `slots` attempts execute
    /// at once and the rest wait (``NodeCore/AttemptSlots``); without, every assignment starts at once.
    public init(slots: Int, runner: AttemptRunner, clock: NodeClock, logger: Logger, outputs: AttemptOutputStore? = nil,
                maxRoundBytes: Int = 512 << 10, killGraceMs: Int64 = 5_000, holdsAssignments: Bool = false,
                reporter: @escaping Reporter) {
        self.slots = slots
        self.killGraceMs = killGraceMs
        self.state = Mutex(State(slots: AttemptSlots(slots: slots, holds: holdsAssignments)))
        self.outputs = outputs
        self.runner = runner
        self.clock = clock
        self.rounds = FinishRounds(maxBytes: maxRoundBytes, proposer: reporter)
        self.logger = logger
    }

    /// The attempts running here now (executing, or reporting how they ended).
    public var runningKeys: Set<AttemptKey> { state.withLock { Set($0.running.keys) } }

    /// How many attempts run here now (executing, or reporting how they ended).
    public var busy: Int { state.withLock { $0.running.count } }

    /// How many slots an attempt occupies now (its report may still be on its way after).
    public var executing: Int { state.withLock { $0.slots.executing.count } }

    /// How many assignments wait here for a slot (`[executor] prefetch`).
    public var held: Int { state.withLock { $0.slots.held.count } }

    /// ``executing`` and ``held`` read together (one lock: a held attempt that starts between two
    /// reads is counted once), for the gauges.
    public var occupancy: (executing: Int, held: Int) {
        state.withLock { ($0.slots.executing.count, $0.slots.held.count) }
    }

    /// How many finish reports wait for the round in flight to return (they go together next).
    var reportsAwaitingRound: Int { rounds.waitingCount }

    /// Whether ``drain(grace:)`` has begun.
    public var isDraining: Bool { state.withLock { $0.draining } }

    /// Whether new assignments are refused (``stopTakingAttempts()`` or a drain).
    public var isRefusingNewAttempts: Bool { state.withLock { $0.refusingNew || $0.draining } }

    /// From now on every new assignment is reported lost at once (it retries on another node)
    /// instead of run; attempts already running go on and report as usual. Called the moment the
    /// node sees a configuration that lists it as removed: the leader stops renewing its lease
    /// anyway, but until that lapses an assignment applied here would start work nobody can
    /// collect (docs/raft.md, "Removal").
    public func stopTakingAttempts() {
        state.withLock { state in
            state.refusingNew = true
            // Held ones have not started: they go back at once too.
            for order in state.slots.dropAllHeld() { launch(order, refused: true, occupiesSlot: false, in: &state) }
        }
    }

    /// Undoes ``stopTakingAttempts()``: the removal this node saw was truncated away by a new
    /// leader before it committed, so the node is a member again. A drain stays in force.
    public func resumeTakingAttempts() {
        state.withLock { $0.refusingNew = false }
    }

    /// Starts the attempts assigned here (or holds them for a slot) and stops the cancelled
    /// ones. Never blocks.
    public func accept(_ changes: AppliedChanges) {
        if let active = changes.restoredActiveHere {
            // A snapshot replaced the state: its stops were never events.
            state.withLock { state in
                for order in state.slots.held where !active.contains(order.key) { _ = state.slots.dropHeld(order.key) }
            }
        }
        for key in changes.stops {
            let task = state.withLock { state -> Task<Void, Never>? in
                // A held attempt never started: the entry that stopped it ended it, nothing to report.
                if state.slots.dropHeld(key) { return nil }
                state.running[key]?.stopRequested = true
                return state.running[key]?.task
            }
            if let task {
                logger.info("stopping attempt", metadata: ["attempt": "\(key)"])
                task.cancel()
            }
        }
        for order in changes.starts { start(order) }
    }

    private func start(_ order: AttemptOrder) {
        state.withLock { state in
            guard state.running[order.key] == nil else { return }
            if state.draining || state.refusingNew {
                launch(order, refused: true, occupiesSlot: false, in: &state)
            } else if let now = state.slots.take(order) {
                launch(now, refused: false, occupiesSlot: true, in: &state)
            }
        }
    }

    /// Runs `order` (or, `refused`, reports it lost at once) as a task registered in `state`.
    /// A task that `occupiesSlot` frees it when its runner returns — before its report — and
    /// starts what was held for it. `timeCut`: its timeout was cut to its deadline after it was
    /// held, so a time-out is this node's doing, not the task's: it is reported lost (it retries;
    /// under `max_lost_attempts` it does not spend `max_attempts`).
    private func launch(_ order: AttemptOrder, refused: Bool, occupiesSlot: Bool, timeCut: Bool = false,
                        in state: inout State) {
        let key = order.key
        let task = Task { [self] in
            var result: AttemptReport?
            if !refused {
                result = await runner.run(ExecutionRequest(
                    runID: order.runID, attempt: order.attempt, task: order.task,
                    timeout: .milliseconds(order.timeoutMs))).report
                if timeCut, result?.outcome == .timedOut { result = nil }
            }
            if occupiesSlot { slotFreed(by: key) }
            await finished(key, report: result)
        }
        state.running[key] = Running(task: task)
    }

    /// `key` left its slot: start the held attempts that take it, each time-boxed to its deadline
    /// now (one with no time left, or arriving while the node drains, is reported lost instead).
    private func slotFreed(by key: AttemptKey) {
        let now = clock.wall()
        state.withLock { state in
            var starts = state.slots.ended(key)
            while !starts.isEmpty {
                let order = starts.removeFirst()
                if !(state.draining || state.refusingNew), let boxed = ExecutorOrders.timeBoxed(order, now: now, killGraceMs: killGraceMs) {
                    launch(boxed, refused: false, occupiesSlot: true, timeCut: boxed.timeoutMs < order.timeoutMs, in: &state)
                } else {
                    // Not run: its slot is free again at once.
                    launch(order, refused: true, occupiesSlot: false, in: &state)
                    starts += state.slots.ended(order.key)
                }
            }
        }
    }

    /// Reports the end of an attempt. `report == nil`, or a cancellation nobody asked for (the
    /// node is draining), is reported as lost: the attempt retries elsewhere without the node's
    /// shutdown counting as the task's failure.
    private func finished(_ key: AttemptKey, report: AttemptReport?) async {
        let (fenced, stopRequested, draining) = state.withLock { state in
            (state.running[key]?.fenced ?? false, state.running[key]?.stopRequested ?? false, state.draining)
        }
        if fenced {
            logger.warning("attempt stopped by self-fencing; the leader will expire it", metadata: ["attempt": "\(key)"])
        } else {
            let command: Command
            if var report, !(report.outcome == .cancelled && draining && !stopRequested) {
                report.outputTail = keepOutput(report.outputTail, of: key)
                command = .finishAttempt(FinishAttempt(runID: key.runID, attempt: key.attempt, report: report))
            } else {
                command = .expireAttempt(ExpireAttempt(runID: key.runID, attempt: key.attempt, reason: .executorLost))
            }
            var delay = Duration.milliseconds(50)
            while !(await rounds.report(command)) {
                // The cluster has no leader right now: keep the result and try again.
                do {
                    try await clock.sleep(for: delay)
                } catch {
                    break
                }
                delay = min(delay * 2, .seconds(2))
            }
        }
        state.withLock { _ = $0.running.removeValue(forKey: key) }
    }

    /// Writes the full tail to the store (before the finish is reported, so whoever reads the
    /// finish can fetch it from here) and returns the short tail to replicate. A failed write is
    /// logged: the attempt's finish matters more than its output.
    private func keepOutput(_ tail: String, of key: AttemptKey) -> String {
        // A tail the short one holds whole needs no file: most attempts print little or nothing,
        // and a file created and later evicted per attempt cost a third of a node's CPU per job
        // (docs/benchmarks.md, "CPU per drained job").
        guard let outputs, tail.utf8.count > ReplicatedOutputTail.limit else { return tail }
        do {
            try outputs.write(tail, for: AttemptOutputStore.Key(runID: key.runID, attempt: key.attempt))
        } catch {
            logger.warning("the attempt's full output is not kept on this node; only its short tail is replicated",
                           metadata: ["attempt": "\(key)", "error": "\(error)"])
        }
        return ReplicatedOutputTail.shortened(tail)
    }

    /// Stops every running attempt without reporting it, and drops the held ones (see the type's
    /// documentation).
    public func fence(reason: String) {
        let tasks = state.withLock { state -> [Task<Void, Never>] in
            // Never started, never reported: the leader expires them with the rest.
            _ = state.slots.dropAllHeld()
            var tasks: [Task<Void, Never>] = []
            for key in state.running.keys where !(state.running[key]?.fenced ?? true) {
                state.running[key]?.fenced = true
                if let task = state.running[key]?.task { tasks.append(task) }
            }
            return tasks
        }
        guard !tasks.isEmpty else { return }
        logger.warning("self-fencing: stopping running attempts", metadata: ["count": "\(tasks.count)", "reason": "\(reason)"])
        for task in tasks { task.cancel() }
    }

    /// Of `assigned` (attempts the state says run here), those this process is not running:
    /// they were started by a previous incarnation of this node and are lost.
    public func attemptsNotRunningHere(_ assigned: [AttemptKey]) -> [AttemptKey] {
        state.withLock { state in assigned.filter { state.running[$0] == nil && !state.slots.isHeld($0) } }
    }

    /// Stops taking attempts (new assignments are reported lost at once), waits up to `grace`
    /// for running ones, then stops the rest — reported lost, so they retry elsewhere — and
    /// waits for their reports.
    public func drain(grace: Duration) async {
        let tasks = state.withLock { state in
            state.draining = true
            // Held ones have not started: reported lost at once, they retry elsewhere.
            for order in state.slots.dropAllHeld() { launch(order, refused: true, occupiesSlot: false, in: &state) }
            return state.running.values.map(\.task)
        }
        let deadline = clock.monotonic() + grace
        while busy > 0, clock.monotonic() < deadline {
            try? await clock.sleep(for: .milliseconds(20))
        }
        for task in state.withLock({ $0.running.values.map(\.task) }) { task.cancel() }
        for task in tasks { await task.value }
    }
}
