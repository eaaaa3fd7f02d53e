import RaftCore
import SchedulerCore
import SchedulerPlanning

/// One node's scheduling decisions as a value: applied entries, ticks with timestamps, peers'
/// lease probes and echoes in; ordered directives out. No sockets, files, clocks or threads —
/// the shell (a running node, or the scheduler simulator) passes the time in and carries the
/// directives out, so a seeded simulator can run thousands of cluster histories and check the
/// scheduler's promises on every step.
///
/// What it decides:
/// - **Executor orders** from each applied batch (``ExecutorOrders``): which attempts to start
///   or stop here, never one the batch already ended.
/// - **The executor's lease** (``ExecutorLease``): when to probe the leader, when to fence.
/// - **The leader's view of executors** (``LeaseLedger``, ``CommitHistory``): who proved a round
///   trip, who is caught up, whose attempts are lost.
/// - **Stamps** (``ClockBound``): the time the leader writes into commands, bounded by a
///   majority's clocks or by the log's own time; clients' commands arrive with relative times
///   and the leader resolves them with that stamp (``resolve(_:followerClock:members:at:wallClock:)``),
///   after the format gate (``MemberBuilds``).
/// - **The leader's duties** (``SchedulerPlanning/DutyPlanner``): what to propose each round.
public struct NodeCore: Sendable {
    /// Timing and shape, shared by every node of a cluster.
    public struct Settings: Sendable {
        /// The executor lease.
        public var lease: Duration
        /// How long past the lease the leader waits before expiring a silent executor's attempts.
        public var leaseMargin: Duration
        /// How far ahead of or behind the majority's clocks a stamp may be (``ClockBound``).
        public var clockTolerance: Duration = .seconds(1)
        /// Clock reports older than this are ignored (half the lease: probes come every eighth).
        public var clockReportAge: Duration
        /// Most assignments per duty round.
        public var maxAssignments: Int = 1_024
        /// Added to an attempt's timeout for its deadline.
        public var deadlineSlackMs: Int64 = 10_000
        /// `[raft] max_entry_bytes`: a duty round's commands are split into entries under it.
        public var maxEntryBytes: Int = 4 << 20
        /// SIGTERM→SIGKILL of a stopped task (attempts are time-boxed to end this long before their deadline).
        public var killGraceMs: Int64 = 5_000
        /// Every voter.
        public var voters: Set<Raft.NodeID>
        /// Every executor and its slots.
        public var slots: [ExecutorID: Int]
        /// `[executor] prefetch`: assignments beyond its slots the leader may give each executor
        /// to hold (at most `DutyPlanner.maxHeldPerSlot` × its slots; only to members whose build
        /// holds them).
        public var prefetch: Int = 0
        /// `[scheduler]`: what the leader stamps into submits that left a value to the cluster.
        public var submissionDefaults = SubmissionDefaults.builtIn
        /// This node's `[notify]` defaults and cap: what it stamps into the state while it leads
        /// (``NotificationDuty``).
        public var notificationSettings = NotificationSettings()
        /// `[cluster] digest_interval_entries`: every member digests its state at applied indexes
        /// that are multiples of it, and the leader compares them (``ReplicaDigestCheck``); 0 = off.
        public var digestInterval: UInt64 = 0

        /// Settings.
        public init(lease: Duration, leaseMargin: Duration, voters: Set<Raft.NodeID>, slots: [ExecutorID: Int]) {
            self.lease = lease
            self.leaseMargin = leaseMargin
            clockReportAge = lease / 2
            self.voters = voters
            self.slots = slots
        }
    }

    /// What the shell must do, in order.
    public enum Directive: Hashable, Sendable {
        /// Start this attempt on this node's executor.
        case start(AttemptOrder)
        /// Stop this attempt (SIGTERM, then SIGKILL after the kill grace); report how it ended.
        case stop(AttemptKey)
        /// Stop every running attempt without reporting: the lease ran out.
        case fence
        /// Propose this command, stamped with this time (only the leader's are ever proposed).
        case propose(Command, at: Timestamp)
        /// Send a lease probe to the leader (and a legacy ping if `legacy`).
        case sendProbe(to: Raft.NodeID, LeaseProbe, legacy: Bool)
        /// Send this echo back to a probing executor.
        case sendEcho(to: Raft.NodeID, LeaseEcho)
        /// Deliver these notifications (the leader's; the shell sends them and proposes one
        /// ``SchedulerCore/Command/notificationOutcomes(_:)`` entry with what happened).
        case deliver([NotificationDelivery])
    }

    /// This node.
    public let id: Raft.NodeID
    /// Timing and shape.
    public let settings: Settings
    /// The replicated scheduler state as applied here.
    public private(set) var state: SchedulerState
    /// The last applied log index.
    public private(set) var appliedIndex = Raft.LogIndex.zero
    /// The executor's half: its lease and what leaders advertised (a running node's peer link
    /// holds the same value).
    public private(set) var executor: ExecutorSide
    /// The leader's half: leases, clocks, builds and duty rounds (a running node's peer link
    /// holds the same value).
    public private(set) var leader: LeaderSide
    /// The executor side of the lease.
    public var executorLease: ExecutorLease { executor.lease }
    /// Wall clock minus monotonic clock when peers last confirmed this node's clock (see ``ClockBound``).
    public var trustedClockOffset: Int64? { leader.trustedClockOffset }
    /// When this node took office, while it leads.
    public var leadingSince: MonotonicTime? { leader.leadingSince }
    /// Leader side: the build format version each member reported (the format gate).
    public var memberBuilds: MemberBuilds { leader.memberBuilds }
    private let replayThrough: Raft.LogIndex
    /// This process's data directory incarnation (0 = unknown).
    public let incarnation: UInt64
    /// This process's incarnation (0 = none), reported in lease probes and named by the leader in
    /// assignments from command format 15 (``LeaderSide/dutyRound(at:commitIndex:incarnations:)``).
    public var processIncarnation: UInt64 { executor.processIncarnation }
    private let startedWall: Timestamp
    private let mutations: MutationSwitch

    /// A node that started at `started` (its wall clock then: `startedWall`) with entries through
    /// `replayThrough` on its own disk (they replay without starting anything), its data
    /// directory's incarnation `incarnation` (0 = unknown: assignments naming one are judged by
    /// the clock rule, ``ExecutorOrders/admitted(_:in:fenced:proven:startedWithoutLog:incarnation:process:startedAt:now:killGraceMs:lapseEnded:)``),
    /// and `processIncarnation` this process's (drawn afresh at every start, never 0 in a running
    /// node; 0 here: none, and assignments never name processes).
    public init(id: Raft.NodeID, settings: Settings, started: MonotonicTime, startedWall: Timestamp = .zero,
                replayThrough: Raft.LogIndex = .zero, incarnation: UInt64 = 0, processIncarnation: UInt64 = 0,
                mutations: MutationSwitch = MutationSwitch()) {
        self.id = id
        self.incarnation = incarnation
        self.startedWall = startedWall
        self.settings = settings
        self.replayThrough = replayThrough
        self.mutations = mutations
        var config = SchedulerConfig()
        config.mutations = mutations
        state = SchedulerState(config: config)
        executor = ExecutorSide(id: id, lease: settings.lease, started: started, processIncarnation: processIncarnation)
        leader = LeaderSide(id: id, settings: settings, started: started, startedWall: startedWall,
                            processIncarnation: processIncarnation, mutations: mutations)
    }

    private var executorID: ExecutorID { ExecutorID(id.rawValue) }

    // MARK: Applying

    /// Applies committed entries `(index, command)` in order; returns the starts and stops
    /// for this node's executor (none for replayed entries), and the events of each entry.
    /// `clock` (the monotonic time and this node's wall clock now) lets a live entry's stamp
    /// confirm this node's clock (see ``ClockBound/observe(logStamp:own:at:)``); with it, until a
    /// round trip proves this node's lease (``ExecutorLease/isProven(at:)``), attempts assigned
    /// before this process started are not started (``ExecutorOrders/withoutStale(_:in:startedAt:)``).
    public mutating func apply(_ entries: [(index: Raft.LogIndex, command: StampedCommand)],
                               clock: (now: MonotonicTime, wall: Timestamp)? = nil)
        -> (directives: [Directive], events: [[SchedulerEvent]]) {
        var live: [SchedulerEvent] = []
        var perEntry: [[SchedulerEvent]] = []
        for (index, stamped) in entries {
            var events: [SchedulerEvent] = []
            state.apply(stamped.command, at: stamped.at, index: index.rawValue, into: &events)
            if index > replayThrough { live.append(contentsOf: events) }
            perEntry.append(events)
            appliedIndex = index
        }
        if let clock, let last = entries.last, last.index > replayThrough {
            leader.observe(logStamp: last.command.at, own: clock.wall, at: clock.now)
        }
        if !entries.isEmpty { leader.noteApplied(time: state.now) }
        var (starts, stops) = ExecutorOrders.collect(from: live, for: executorID, in: state, mutations: mutations)
        if let clock {
            starts = ExecutorOrders.admitted(starts, in: state, fenced: executor.mustFence(at: clock.now),
                                             proven: executor.isProven(at: clock.now),
                                             startedWithoutLog: replayThrough == .zero, incarnation: incarnation,
                                             process: processIncarnation, startedAt: startedWall, now: clock.wall, killGraceMs: settings.killGraceMs,
                                             lapseEnded: executor.lastLapseEnded(now: clock.now, wall: clock.wall))
        }
        // Stops first: with the batch's own start/stop pairs already cancelled out the keys are
        // disjoint, so the order only matters to the `start-after-stop` mutation, which keeps both.
        return (stops.map(Directive.stop) + starts.map(Directive.start), perEntry)
    }

    // MARK: The executor's lease

    /// Every lease/8: probe the leader, or fence if the lease ran out. `leader` is who this node
    /// believes leads (itself when leading).
    public mutating func executorTick(at now: MonotonicTime, wallClock: Timestamp, leader: Raft.NodeID?) -> [Directive] {
        let tick = executor.tick(at: now, wallClock: wallClock, leader: leader, appliedIndex: appliedIndex)
        var directives: [Directive] = []
        if let probe = tick.probe { directives.append(.sendProbe(to: probe.to, probe.probe, legacy: probe.legacy)) }
        if tick.fence { directives.append(.fence) }
        return directives
    }

    /// The leader echoed probe `echo.sequence`.
    /// Returns whether to probe `peer` again at once (``ExecutorSide/echoed(_:by:echoID:features:leaderStamp:at:)``:
    /// the first echo from the leader this node now probes).
    @discardableResult
    public mutating func echoReceived(_ echo: LeaseEcho, from peer: Raft.NodeID, at now: MonotonicTime) -> Bool {
        executor.echoed(echo.sequence, by: peer, echoID: echo.echoID, features: echo.features,
                        leaderStamp: echo.leaderStamp, at: now)
    }

    /// Whether `leader` advertised unstamped forwards in its latest echo (see ``ExecutorSide``).
    public func takesUnstampedForwards(_ leader: Raft.NodeID) -> Bool {
        executor.takesUnstampedForwards(leader)
    }

    /// `command` as `leader` can decode it when forwarded (``ExecutorSide/forwardable(_:to:)``).
    public func forwardable(_ command: Command, to leader: Raft.NodeID) -> Command {
        executor.forwardable(command, to: leader)
    }

    /// Attempts the applied state says run on this node but its executor does not run (a restart
    /// replayed them, a lost log replayed them live, or they were not started without a proven
    /// lease): report them lost so they retry at once. Call when applied up to the leader's commit.
    public func lostAttempts(runningHere: Set<AttemptKey>) -> [AttemptKey] {
        state.activeAttempts(on: executorID).map { AttemptKey(runID: $0.runID, attempt: $0.attempt) }
            .filter { !runningHere.contains($0) }
    }

    // MARK: Leading

    /// A probe from `peer`: record its proof, applied index and clock; echo it unless its probes
    /// show the echoes are not arriving (``LeaderSide/probeReceived(_:from:at:wallClock:)``).
    public mutating func probeReceived(_ probe: LeaseProbe, from peer: Raft.NodeID, at now: MonotonicTime,
                                       wallClock: Timestamp) -> [Directive] {
        guard let echo = leader.probeReceived(probe, from: peer, at: now, wallClock: wallClock) else { return [] }
        return [.sendEcho(to: peer, echo)]
    }

    /// The time to stamp at `now` given this node's `wallClock` (bounded; see ``ClockBound``).
    public mutating func stamp(at now: MonotonicTime, wallClock: Timestamp) -> (stamp: Timestamp, jumped: Bool) {
        leader.stamp(at: now, wallClock: wallClock)
    }

    /// The leader's one step from a client's command to an entry, for its own clients and for
    /// forwards alike: the bounded stamp, every relative time resolved against it, and the
    /// format gate over every voter and learner. `followerClock` is the forwarding node's wall
    /// clock; only the `follower-clock` mutation (a leader that lets a follower's clock decide)
    /// uses it.
    ///
    /// - Throws: ``LeaderRefusal``: the command is invalid at the stamp (422), or a member's
    ///   build could not apply it (503).
    public mutating func resolve(_ unstamped: UnstampedCommand, followerClock: Timestamp? = nil, members: Set<Raft.NodeID>,
                                 at now: MonotonicTime, wallClock: Timestamp) throws(LeaderRefusal) -> StampedCommand {
        var stamp = leader.stamp(at: now, wallClock: wallClock).stamp
        if mutations.isOn("follower-clock"), let followerClock { stamp = followerClock }
        return try leader.resolve(unstamped, at: stamp, members: members)
    }

    /// This node took office (or lost it, with `nil`): taking office forgets what members
    /// reported before (``MemberBuilds/forgetAll()``).
    public mutating func leadership(since: MonotonicTime?) {
        leader.leadership(since: since)
    }

    /// One duty round while leading: the entries to propose, in order (one unless the round's
    /// commands are over `Settings.maxEntryBytes` once encoded), if anything is due. `nextRunID`
    /// makes fresh run ids for cron fires. `incarnations`: each member's data directory
    /// incarnation as the consensus layer last saw it, named in assignments
    /// (``LeaderSide/dutyRound(at:commitIndex:incarnations:)``; `nil`: not tracked).
    public mutating func leaderTick(at now: MonotonicTime, wallClock: Timestamp, commitIndex: Raft.LogIndex,
                                    incarnations: [Raft.NodeID: UInt64]? = nil, nextRunID: () -> RunID) -> [Directive] {
        leader.recordMemberFormats(state.memberFormats)
        guard let round = leader.dutyRound(at: now, commitIndex: commitIndex, incarnations: incarnations) else { return [] }
        let stamp = leader.stamp(at: now, wallClock: wallClock).stamp
        var directives: [Directive] = round.entries(state: state, stamp: stamp, nextRunID: nextRunID).map { .propose($0, at: stamp) }
        if let record = round.memberFormatRecord(state: state) { directives.append(.propose(record, at: stamp)) }
        let notifications = round.notifications(state: state, stamp: stamp, inFlight: [])
        if let settings = notifications.settings { directives.append(.propose(settings, at: stamp)) }
        if !notifications.deliveries.isEmpty { directives.append(.deliver(notifications.deliveries)) }
        return directives
    }
}
