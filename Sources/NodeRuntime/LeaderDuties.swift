import Logging
import Node
import NodeCore
import RaftCore
import SchedulerCore
import SchedulerPlanning
import Synchronization

/// The leader's loop: whenever this node leads, it runs ``DutyPlanner`` on the current state
/// and proposes what is due (cron fires, due runs, expired deadlines, lost executors'
/// attempts, assignments) as one entry — or several, each under `max_entry_bytes` — waiting for
/// them to apply before planning again.
///
/// Nothing here survives a leader change, and nothing needs to: every timer is recomputed from
/// the replicated state on each round, so a new leader picks up exactly where the old one was.
final class LeaderDuties: Sendable {
    private let driver: RaftDriver
    private let stateMachine: SchedulerStateMachine
    private let link: PeerLink
    private let executors: [ExecutorID: Int]
    private let settings: NodeSettings
    /// The stamp clock (``StampClock/now()``); monotonic time and sleeps come from `settings.clock`.
    private let clock: @Sendable () -> Timestamp
    private let ids: RunIDSource
    private let logger: Logger
    private let commits = Mutex(CommitHistory())
    private let wakeups: AsyncStream<Void>
    private let wakeupInput: AsyncStream<Void>.Continuation

    /// Duties for `driver`'s node; `executors` maps every member to its slots.
    init(driver: RaftDriver, stateMachine: SchedulerStateMachine, link: PeerLink, executors: [ExecutorID: Int],
         settings: NodeSettings, clock: @escaping @Sendable () -> Timestamp, ids: RunIDSource, logger: Logger) {
        self.driver = driver
        self.stateMachine = stateMachine
        self.link = link
        self.executors = executors
        self.settings = settings
        self.clock = clock
        self.ids = ids
        self.logger = logger
        (wakeups, wakeupInput) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Asks for a round soon (something was applied). Never blocks.
    func wake() { wakeupInput.yield() }

    /// Runs until cancelled.
    func run() async {
        let ticker = Task { [wakeupInput, settings] in
            while !Task.isCancelled {
                try? await settings.clock.sleep(for: settings.dutyPeriod)
                wakeupInput.yield()
            }
        }
        // Leadership is an event: a new leader starts its duties (and a deposed one stops) at
        // once, not at the next tick.
        let follower = Task { [driver, wakeupInput] in
            for await _ in driver.leadership.subscribe() { wakeupInput.yield() }
        }
        defer {
            ticker.cancel()
            follower.cancel()
        }
        var leadingSince: MonotonicTime?
        for await _ in wakeups {
            let status = await driver.status
            guard status.leader == driver.id, status.role == .leader else {
                if leadingSince != nil {
                    logger.info("leader duties stopped", metadata: ["term": "\(status.term)"])
                    link.setLeading(since: nil)
                }
                leadingSince = nil
                continue
            }
            if leadingSince == nil {
                leadingSince = settings.clock.monotonic()
                link.setLeading(since: leadingSince)
                logger.info("leader duties started: timers and dispatch rebuilt from the state", metadata: ["term": "\(status.term)"])
            }
            await round(leadingSince: leadingSince ?? settings.clock.monotonic(), commitIndex: status.commitIndex)
        }
    }

    private func round(leadingSince: MonotonicTime, commitIndex: Raft.LogIndex) async {
        let now = clock()
        let monotonic = settings.clock.monotonic()
        let caughtUp = commits.withLock { history -> Set<ExecutorID> in
            history.record(commitIndex, at: monotonic)
            return Set(executors.keys.filter { id in
                id.rawValue == driver.id.rawValue
                    || history.isCaughtUp(applied: link.reportedAppliedIndex(of: Raft.NodeID(id.rawValue)), at: monotonic,
                                          lag: settings.executorLease / 4)
            })
        }
        let capacities = executors.keys.sorted().map { id in
            ExecutorCapacity(id: id, slots: executors[id] ?? 0, isLeader: id.rawValue == driver.id.rawValue,
                             isReachable: caughtUp.contains(id)
                                && isReachable(id, since: leadingSince, within: settings.executorLease, at: monotonic))
        }
        let lost = Set(executors.keys.filter { peer in
            peer.rawValue != driver.id.rawValue
                && link.executorLost(Raft.NodeID(peer.rawValue), at: monotonic, lease: settings.executorLease,
                                     margin: settings.leaseMargin, leadingSince: leadingSince)
        })
        let maxAssignments = settings.maxAssignmentsPerEntry
        let slack = settings.deadlineSlackMilliseconds
        let ids = self.ids
        let commands = await stateMachine.read { state in
            DutyPlanner.plan(state: state, now: now, executors: capacities, lost: lost, maxAssignments: maxAssignments,
                             deadlineSlackMs: slack, nextRunID: { ids.next() })
        }
        guard !commands.isEmpty else { return }
        // Usually one entry; several when the round's commands would not fit max_entry_bytes
        // (a cron storm, a large assignment round), proposed in order, each applied first.
        // Cron fires of DAG jobs in the spelling every member can decode (a rolling upgrade).
        let format = link.memberBuilds().commonFormat(members: executors.keys.map { Raft.NodeID($0.rawValue) }, self: driver.id)
        let compatible = commands.map { $0.compatible(withFormat: format) }
        for entry in EntrySplitter.entries(compatible, maxEntryBytes: driver.maxEntryBytes) {
            do {
                _ = try await driver.propose(CommandCodec.encode(entry, at: clock()))
            } catch where error.code == .entryTooLarge {
                // One command alone over the limit: it can never be proposed; skip it, not the rest.
                logger.error("a leader command is over max_entry_bytes and was skipped", metadata: ["error": "\(error)"])
            } catch {
                logger.debug("leader duties round not applied", metadata: ["error": "\(error)"])
                return
            }
        }
        wake()  // more may be due (e.g. runs queued by this round's fires)
    }

    /// Whether `peer` proved a round trip within `limit` (the leader counts itself reachable; a
    /// peer gets the benefit of the doubt for `limit` after this node took office). See
    /// ``LeaseLedger``: a probe that arrives proves nothing unless it names a recent echo.
    private func isReachable(_ peer: ExecutorID, since leadingSince: MonotonicTime, within limit: Duration,
                             at now: MonotonicTime) -> Bool {
        if peer.rawValue == driver.id.rawValue { return true }
        return link.leaseHolds(Raft.NodeID(peer.rawValue), at: now, lease: limit, leadingSince: leadingSince)
    }
}
