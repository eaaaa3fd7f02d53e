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
        /// How far ahead of the majority's clocks a stamp may be.
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
        /// `[scheduler]`: what the leader stamps into submits that left a value to the cluster.
        public var submissionDefaults = SubmissionDefaults.builtIn

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
    }

    /// This node.
    public let id: Raft.NodeID
    /// Timing and shape.
    public let settings: Settings
    /// The replicated scheduler state as applied here.
    public private(set) var state: SchedulerState
    /// The last applied log index.
    public private(set) var appliedIndex = Raft.LogIndex.zero
    /// The executor side of the lease.
    public private(set) var executorLease: ExecutorLease
    /// Wall clock minus monotonic clock when peers last confirmed this node's clock (see ``ClockBound``).
    public var trustedClockOffset: Int64? { clocks.trustedOffset }
    /// When this node took office, while it leads.
    public private(set) var leadingSince: MonotonicTime?
    private var ledger: LeaseLedger
    private var clocks: ClockBound
    private var commits = CommitHistory()
    /// Leader side: the build format version each member reported (the format gate).
    public private(set) var memberBuilds: MemberBuilds
    /// Executor side: the features each leader advertised in its latest echo.
    private var leaderFeatures: [Raft.NodeID: PeerFeatures] = [:]
    private let replayThrough: Raft.LogIndex
    private let startedWall: Timestamp
    private let mutations: MutationSwitch

    /// A node that started at `started` (its wall clock then: `startedWall`) with entries through
    /// `replayThrough` on its own disk (they replay without starting anything).
    public init(id: Raft.NodeID, settings: Settings, started: MonotonicTime, startedWall: Timestamp = .zero,
                replayThrough: Raft.LogIndex = .zero, mutations: MutationSwitch = MutationSwitch()) {
        self.id = id
        self.startedWall = startedWall
        self.settings = settings
        self.replayThrough = replayThrough
        self.mutations = mutations
        var config = SchedulerConfig()
        config.mutations = mutations
        state = SchedulerState(config: config)
        executorLease = ExecutorLease(lease: settings.lease, started: started)
        ledger = LeaseLedger(mutations: mutations)
        memberBuilds = MemberBuilds(probeFreshness: settings.lease / 2)
        clocks = ClockBound(tolerance: settings.clockTolerance, maxReportAge: settings.clockReportAge,
                            startClock: startedWall == .zero ? nil : (startedWall, started))
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
            state.apply(stamped.command, at: stamped.at, into: &events)
            if index > replayThrough { live.append(contentsOf: events) }
            perEntry.append(events)
            appliedIndex = index
        }
        if let clock, let last = entries.last, last.index > replayThrough {
            clocks.observe(logStamp: last.command.at, own: clock.wall, at: clock.now)
        }
        var (starts, stops) = ExecutorOrders.collect(from: live, for: executorID, in: state, mutations: mutations)
        if let clock {
            starts = ExecutorOrders.admitted(starts, in: state, fenced: executorLease.mustFence(at: clock.now),
                                             proven: executorLease.isProven(at: clock.now), startedAt: startedWall,
                                             now: clock.wall, killGraceMs: settings.killGraceMs)
        }
        // Stops first: with the batch's own start/stop pairs already cancelled out the keys are
        // disjoint, so the order only matters to the `start-after-stop` mutation, which keeps both.
        return (stops.map(Directive.stop) + starts.map(Directive.start), perEntry)
    }

    // MARK: The executor's lease

    /// Every lease/8: probe the leader, or fence if the lease ran out. `leader` is who this node
    /// believes leads (itself when leading).
    public mutating func executorTick(at now: MonotonicTime, wallClock: Timestamp, leader: Raft.NodeID?) -> [Directive] {
        var directives: [Directive] = []
        if leader == id {
            executorLease.leading(at: now)
        } else if let leader {
            let (probe, legacy) = executorLease.probe(leader, at: now, appliedIndex: appliedIndex, wallClock: wallClock,
                                                      legacyAfter: settings.lease / 2)
            directives.append(.sendProbe(to: leader, probe, legacy: legacy))
        }
        if executorLease.mustFence(at: now) { directives.append(.fence) }
        return directives
    }

    /// The leader echoed probe `echo.sequence`.
    public mutating func echoReceived(_ echo: LeaseEcho, from peer: Raft.NodeID, at now: MonotonicTime) {
        executorLease.echoed(echo.sequence, by: peer, echoID: echo.echoID, at: now)
        leaderFeatures[peer] = echo.features ?? []
    }

    /// Whether `leader` advertised unstamped forwards in its latest echo (a version-1 echo, from
    /// an older build, advertises nothing): only then does this node send it relative times.
    public func takesUnstampedForwards(_ leader: Raft.NodeID) -> Bool {
        leaderFeatures[leader]?.contains(.unstampedForwarding) ?? false
    }

    /// `command` as `leader` can decode it when forwarded: without lost caps unless its latest echo
    /// advertised ``PeerFeatures/lostAttemptCaps`` (a leader on a build before command format 4
    /// would refuse the forward as undecodable; stripped, the job keeps the old retry rule, as
    /// the leader's own downgrade would have given it). Everything else is unchanged.
    public func forwardable(_ command: Command, to leader: Raft.NodeID) -> Command {
        if leaderFeatures[leader]?.contains(.lostAttemptCaps) == true { return command }
        // Format 3 is the newest without caps: only the caps go, task run id styles stay.
        return command.compatible(withFormat: CommandCodec.lostAttemptCaps - 1)
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
    /// show the echoes are not arriving (``LeaseLedger/shouldEcho(_:lastEcho:at:leadingSince:lease:margin:)``).
    public mutating func probeReceived(_ probe: LeaseProbe, from peer: Raft.NodeID, at now: MonotonicTime) -> [Directive] {
        ledger.probe(from: peer, lastEcho: probe.lastEcho, appliedIndex: probe.appliedIndex, at: now)
        clocks.record(peer, wallClock: Timestamp(probe.wallClockMilliseconds), at: now)
        memberBuilds.probe(from: peer, formatVersion: probe.commandFormatVersion, at: now)
        guard let since = leadingSince,
              ledger.shouldEcho(peer, lastEcho: probe.lastEcho, at: now, leadingSince: since, lease: settings.lease,
                                margin: settings.leaseMargin) else { return [] }
        return [.sendEcho(to: peer, LeaseEcho.answering(probe, echoID: ledger.echo(to: peer, at: now), features: .thisBuild))]
    }

    /// The time to stamp at `now` given this node's `wallClock` (bounded; see ``ClockBound``).
    public mutating func stamp(at now: MonotonicTime, wallClock: Timestamp) -> (stamp: Timestamp, jumped: Bool) {
        clocks.bound(wallClock, at: now, voters: settings.voters, self: id)
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
        var stamp = self.stamp(at: now, wallClock: wallClock).stamp
        if mutations.isOn("follower-clock"), let followerClock { stamp = followerClock }
        return try LeaderRefusal.resolve(unstamped, at: stamp, defaults: settings.submissionDefaults, builds: memberBuilds,
                                         members: members, self: id)
    }

    /// This node took office (or lost it, with `nil`): taking office forgets what members
    /// reported before (``MemberBuilds/forgetAll()``).
    public mutating func leadership(since: MonotonicTime?) {
        if since != nil, leadingSince == nil { memberBuilds.forgetAll() }
        leadingSince = since
    }

    /// One duty round while leading: the entries to propose, in order (one unless the round's
    /// commands are over `Settings.maxEntryBytes` once encoded), if anything is due. `nextRunID`
    /// makes fresh run ids for cron fires.
    public mutating func leaderTick(at now: MonotonicTime, wallClock: Timestamp, commitIndex: Raft.LogIndex,
                                    nextRunID: () -> RunID) -> [Directive] {
        guard let since = leadingSince else { return [] }
        commits.record(commitIndex, at: now)
        let stamp = self.stamp(at: now, wallClock: wallClock).stamp
        let capacities = settings.slots.keys.sorted().map { executor in
            let peer = Raft.NodeID(executor.rawValue)
            let isLeader = peer == id
            let caughtUp = isLeader
                || commits.isCaughtUp(applied: ledger.appliedIndex(of: peer).map { Raft.LogIndex($0) }, at: now, lag: settings.lease / 4)
            let reachable = isLeader || ledger.holds(peer, at: now, lease: settings.lease, leadingSince: since)
            return ExecutorCapacity(id: executor, slots: settings.slots[executor] ?? 0, isLeader: isLeader,
                                    isReachable: caughtUp && reachable)
        }
        let lost = Set(settings.slots.keys.filter { executor in
            let peer = Raft.NodeID(executor.rawValue)
            return peer != id && ledger.isLost(peer, at: now, lease: settings.lease, margin: settings.leaseMargin, leadingSince: since)
        })
        let commands = DutyPlanner.plan(state: state, now: stamp, executors: capacities, lost: lost,
                                        maxAssignments: settings.maxAssignments, deadlineSlackMs: settings.deadlineSlackMs,
                                        nextRunID: nextRunID)
        return EntrySplitter.entries(commands, maxEntryBytes: settings.maxEntryBytes).map { .propose($0, at: stamp) }
    }
}
