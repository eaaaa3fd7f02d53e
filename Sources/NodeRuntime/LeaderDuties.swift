import Logging
import Node
import NodeCore
import RaftCore
import SchedulerCore
import SchedulerPlanning
import Synchronization

/// The leader's loop: whenever this node leads, it takes a duty round's inputs from the peer
/// link's ``NodeCore/LeaderSide`` (the value the scheduler simulator runs: who may get work,
/// whose attempts are lost, the common command format), plans it on the current state
/// (``NodeCore/DutyRound/entries(state:stamp:nextRunID:)``) and proposes what is due (cron fires, due runs, expired deadlines, lost executors'
/// attempts, assignments) as one entry — or several, each under `max_entry_bytes` — waiting for
/// them to apply before planning again.
///
/// Rounds run when something was applied, every ``NodeSettings/dutyPeriod``, and at the state's
/// next due instant (``SchedulerCore/SchedulerState/nextDueInstant``: a delayed run, a cron fire,
/// a deadline) when that comes before the next period: a job due in 120 ms is queued at 120 ms,
/// not at the next 50 ms boundary after it.
///
/// Nothing here survives a leader change, and nothing needs to: every timer is recomputed from
/// the replicated state on each round, so a new leader picks up exactly where the old one was.
final class LeaderDuties: Sendable {
    private let driver: RaftDriver
    private let stateMachine: SchedulerStateMachine
    private let link: PeerLink
    private let settings: NodeSettings
    /// The stamp clock (``StampClock/now()``); monotonic time and sleeps come from `settings.clock`.
    private let clock: @Sendable () -> Timestamp
    private let ids: RunIDSource
    private let logger: Logger
    /// Sends the notifications each round finds due (nil: this node sends none, but still
    /// stamps its `[notify]` settings).
    private let courier: NotificationCourier?
    private let wakeups: AsyncStream<Void>
    private let wakeupInput: AsyncStream<Void>.Continuation
    /// The wake-up armed for the state's next due instant (replaced by each round).
    private let dueTimer = Mutex<Task<Void, Never>?>(nil)

    /// Duties for `driver`'s node.
    init(driver: RaftDriver, stateMachine: SchedulerStateMachine, link: PeerLink, settings: NodeSettings,
         clock: @escaping @Sendable () -> Timestamp, ids: RunIDSource, logger: Logger,
         courier: NotificationCourier? = nil) {
        self.courier = courier
        self.driver = driver
        self.stateMachine = stateMachine
        self.link = link
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
            dueTimer.withLock { $0?.cancel() }
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
            await round(commitIndex: status.commitIndex)
        }
    }

    private func round(commitIndex: Raft.LogIndex) async {
        // The recorded builds first: a member that is down counts as its record (MemberBuilds).
        link.recordMemberFormats(await stateMachine.read { $0.memberFormats })
        // Assignments name each executor's data directory incarnation (a wiped node never
        // starts what its predecessor was given: docs/node.md, "Executors, leases and fencing").
        let incarnations = await driver.knownIncarnations()
        guard let round = link.dutyRound(commitIndex: commitIndex, incarnations: incarnations) else { return }
        let now = clock()
        let ids = self.ids
        let inFlight = await courier?.keysInFlight() ?? []
        let (entries, notifications, nextDue, record) = await stateMachine.read { state in
            (round.entries(state: state, stamp: now, nextRunID: { ids.next() }),
             round.notifications(state: state, stamp: now, inFlight: inFlight),
             // A notification's retry is due work too: wake for whichever comes first.
             [state.nextDueInstant, state.notifications.nextDueAt].compactMap { $0 }.min(),
             round.memberFormatRecord(state: state))
        }
        armDueTimer(at: nextDue, now: now)
        if let record {
            do {
                _ = try await driver.propose(CommandCodec.encode(record, at: clock()))
                logger.info("recorded members' builds in the replicated state", metadata: ["record": "\(record)"])
            } catch {
                logger.debug("member build record not applied", metadata: ["error": "\(error)"])
            }
        }
        if let settings = notifications.settings {
            do {
                _ = try await driver.propose(CommandCodec.encode(settings, at: clock()))
                logger.info("stamped this node's [notify] settings into the replicated state")
            } catch {
                logger.debug("notification settings not applied", metadata: ["error": "\(error)"])
            }
        }
        if let courier, !notifications.deliveries.isEmpty { await courier.start(notifications.deliveries) }
        guard !entries.isEmpty else { return }
        // Usually one entry; several when the round's commands would not fit max_entry_bytes
        // (a cron storm, a large assignment round), proposed in order, each applied first.
        for entry in entries {
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

    /// Wakes a round at `due` if that is in the future and before the next periodic round
    /// would come (a later instant is re-armed by that round). Replaces the previous timer: the
    /// state's earliest due instant is the only one that matters.
    private func armDueTimer(at due: Timestamp?, now: Timestamp) {
        guard let delay = Self.dueWakeDelay(due: due, now: now, period: settings.dutyPeriod) else { return }
        let timer = Task { [settings, wakeupInput] in
            do {
                try await settings.clock.sleep(for: delay)
                wakeupInput.yield()
            } catch {
                // Replaced or stopped: nothing to wake.
            }
        }
        dueTimer.withLock { armed in
            armed?.cancel()
            armed = timer
        }
    }

    /// How long to wait for `due` (nil: nothing to arm — no due instant, one already past,
    /// which this round handled, or one no sooner than the next periodic round).
    static func dueWakeDelay(due: Timestamp?, now: Timestamp, period: Duration) -> Duration? {
        guard let due, due > now else { return nil }
        let (gap, overflow) = due.milliseconds.subtractingReportingOverflow(now.milliseconds)
        guard !overflow, Duration.milliseconds(gap) < period else { return nil }
        return .milliseconds(gap)
    }
}
