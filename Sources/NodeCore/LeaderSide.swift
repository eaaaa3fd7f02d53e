import RaftCore
import SchedulerCore
import SchedulerPlanning

/// The leader's half of a node's decisions, kept on every node so it is ready the moment the
/// node takes office: which executors proved a round trip (``LeaseLedger``), what applied index
/// and wall clock and build each one reported (``CommitHistory``, ``ClockBound``,
/// ``MemberBuilds``), and from those the inputs of a duty round (``dutyRound(at:commitIndex:incarnations:)``).
///
/// A pure value. ``NodeCore`` holds one, and so does a running node's peer link: the simulator
/// and the real node decide with the same code, so what the scheduler simulator proves about
/// leases, fencing and stamps holds for the runtime too.
public struct LeaderSide: Sendable {
    /// This node.
    public let id: Raft.NodeID
    /// Timing and shape. The voters and executor slots follow the replicated configuration
    /// (``membersChanged(voters:slots:)``).
    public private(set) var settings: NodeCore.Settings
    /// The latest configuration's member directory: labels and drain marks duty rounds place by.
    public private(set) var directory = MemberDirectory()
    private var ledger: LeaseLedger
    /// Peers that sent a lease probe (a build that probes). The others — an older build that
    /// only pings — keep the older rule: any frame heard renews them.
    private var probingPeers: Set<Raft.NodeID> = []
    private var lastHeard: [Raft.NodeID: MonotonicTime] = [:]
    private var clocks: ClockBound
    private var commits = CommitHistory()
    /// The build format version each member reported this term (the format gate).
    public private(set) var memberBuilds: MemberBuilds
    /// The replica check: the leader's own state digests and its members' reports
    /// (``ReplicaDigestCheck``); a member it holds as diverged gets no work.
    public private(set) var replicaCheck: ReplicaDigestCheck
    /// Each executor's process incarnation, from its latest probe that proved a round trip
    /// (``LeaseProbe/processIncarnation``): named in its assignments from command format 15.
    /// Forgotten when a probe names another process (or none) until that one proves itself.
    private var processes: [Raft.NodeID: UInt64] = [:]
    /// This node's own process incarnation (0: none; then assignments never name processes).
    public let processIncarnation: UInt64
    /// When this node took office, while it leads.
    public private(set) var leadingSince: MonotonicTime?
    /// The latest scheduler time this node has stamped or seen applied (``stamp(at:wallClock:)``,
    /// ``noteApplied(time:)``, ``observe(logStamp:own:at:)``): an entry applies at the later of
    /// its stamp and the time before it, so an echo's ``LeaseEcho/leaderStamp`` is at least this
    /// — also when this node's own clock is behind what earlier leaders stamped (replayed from
    /// its log, or installed from a snapshot).
    private var latestStamp: Timestamp?
    /// What this node's echoes advertise: this build's features (tests take some away to play a
    /// leader of an older build).
    public var advertisedFeatures: PeerFeatures = .thisBuild
    private let mutations: MutationSwitch

    /// The leader side of node `id`, started at `started` with wall clock `startedWall` (`.zero`:
    /// unknown, so the clock bound waits for the log or for peers), in the process whose
    /// incarnation is `processIncarnation` (0: none; assignments then never name processes).
    public init(id: Raft.NodeID, settings: NodeCore.Settings, started: MonotonicTime, startedWall: Timestamp = .zero,
                processIncarnation: UInt64 = 0, mutations: MutationSwitch = MutationSwitch()) {
        self.id = id
        self.processIncarnation = processIncarnation
        self.settings = settings
        self.mutations = mutations
        ledger = LeaseLedger(mutations: mutations)
        memberBuilds = MemberBuilds(probeFreshness: settings.lease / 2)
        replicaCheck = ReplicaDigestCheck(interval: settings.digestInterval)
        replicaCheck.majority = settings.voters.count / 2 + 1
        clocks = ClockBound(tolerance: settings.clockTolerance, maxReportAge: settings.clockReportAge,
                            startClock: startedWall == .zero ? nil : (startedWall, started))
    }

    /// Wall clock minus monotonic clock when peers last confirmed this node's clock (see ``ClockBound``).
    public var trustedClockOffset: Int64? { clocks.trustedOffset }

    /// The configuration changed: `voters` bound the clock, `slots` are the executors duty rounds
    /// place work on. Give a removed member 0 slots rather than dropping it, so its running
    /// attempts are still expired as lost once its lease runs out. `directory` gives each
    /// member's labels and drain mark (placement).
    public mutating func membersChanged(voters: Set<Raft.NodeID>, slots: [ExecutorID: Int],
                                        directory: MemberDirectory = MemberDirectory()) {
        settings.voters = voters
        settings.slots = slots
        replicaCheck.majority = voters.count / 2 + 1
        self.directory = directory
    }

    // MARK: Facts

    /// Any frame from `peer` arrived at `now` (renews only peers that never probed: older builds).
    public mutating func heard(from peer: Raft.NodeID, at now: MonotonicTime) {
        lastHeard[peer] = now
    }

    /// A lease probe from `peer`: records its proof, applied index, clock and build; returns the
    /// echo to send back unless its probes show the echoes are not arriving
    /// (``LeaseLedger/shouldEcho(_:lastEcho:at:leadingSince:lease:margin:)``), or this node does not lead.
    ///
    /// The echo carries the leader's scheduler time (``LeaseEcho/leaderStamp``, to builds that
    /// decode it): this node's stamp for `wallClock` at `now`, and no earlier than any time it
    /// stamped or saw applied — so every assignment it made before echoing applies no later.
    public mutating func probeReceived(_ probe: LeaseProbe, from peer: Raft.NodeID, at now: MonotonicTime,
                                       wallClock: Timestamp) -> LeaseEcho? {
        probingPeers.insert(peer)
        // Another process than the one recorded (or a probe without one, which the process that
        // sent the recorded one never sends this leader): the node restarted.
        let recorded = processes[peer]
        let restarted = recorded != nil && probe.processIncarnation != recorded
        let roundTrip = ledger.probe(from: peer, lastEcho: probe.lastEcho, appliedIndex: probe.appliedIndex, at: now)
        // A process is named only once it proved a round trip with this leader: an assignment
        // naming it is then covered by its own lease, never by its predecessor's.
        if let process = probe.processIncarnation, roundTrip {
            processes[peer] = process
        } else if recorded != probe.processIncarnation {
            processes[peer] = nil
        }
        // For the replica check a probe counts once it carries a digest (judged before this
        // call) or proves an echo of this term: a member adds its digest only for a leader whose
        // echo advertised `replicaDigests`, so its first probe to a new leader carries none, and
        // counting that one would give a diverged member work until its next probe.
        let provesThisTerm = leadingSince.map { since in ledger.proof(of: peer).map { $0 >= since } ?? false } ?? false
        if probe.digest != nil || provesThisTerm { replicaCheck.heard(from: peer) }
        clocks.record(peer, wallClock: Timestamp(probe.wallClockMilliseconds), at: now)
        memberBuilds.probe(from: peer, formatVersion: probe.commandFormatVersion, at: now)
        // A restarted node's first probe names no echo, so the ledger would wait out a lease, the
        // margin and half a lease before echoing it again (its rule for echoes that do not
        // arrive). It is echoed at once instead: the process that was not answered is gone (its
        // shell tasks killed by its successor before anything starts), its assignments name it
        // and never start in the new one, and the one echo per restart delays expiring them by at
        // most a lease and the margin — while the new process proves itself a round trip later,
        // reports them lost and gets work. Once per restart: the record is forgotten above.
        guard let since = leadingSince,
              restarted || ledger.shouldEcho(peer, lastEcho: probe.lastEcho, at: now, leadingSince: since,
                                             lease: settings.lease, margin: settings.leaseMargin) else { return nil }
        let bounded = stamp(at: now, wallClock: wallClock).stamp  // raises `latestStamp` to it
        return LeaseEcho.answering(probe, echoID: ledger.echo(to: peer, at: now), features: advertisedFeatures,
                                   leaderStamp: latestStamp ?? bounded)
    }

    /// The digest a probe from `peer` carried (``LeaseProbe/digest``), judged against this
    /// node's own (``ReplicaDigestCheck/report(_:from:)``). Judged on every node, leading or
    /// not: the digests say nothing about leadership, and a follower that takes office then
    /// already knows what it heard (a probe goes only to the node its sender believes leads).
    public mutating func digestReported(_ digest: ReplicaDigest, from peer: Raft.NodeID) -> ReplicaDigestCheck.Outcome {
        replicaCheck.report(digest, from: peer)
    }

    /// This node computed its own digest (``ReplicaDigestCheck/recordOwn(_:)``): the mismatches
    /// among the reports that waited for it.
    public mutating func ownDigest(_ digest: ReplicaDigest, paced: Bool = true) -> [DigestMismatch] {
        replicaCheck.recordOwn(digest, paced: paced)
    }

    /// This node applied checkpoint `index`, digesting its state there or not
    /// (``ReplicaDigestCheck/passed(_:digesting:)``).
    public mutating func checkpointPassed(_ index: UInt64, digesting: Bool) {
        replicaCheck.passed(index, digesting: digesting)
    }

    /// An operator repaired `peer`: it gets work again (``ReplicaDigestCheck/clear(_:)``; this
    /// node's own id clears ``ReplicaDigestCheck/leaderOutvoted``). Whether anything was held.
    @discardableResult
    public mutating func clearDivergence(of peer: Raft.NodeID) -> Bool {
        peer == id ? replicaCheck.clearLeader() != nil : replicaCheck.clear(peer) != nil
    }

    /// The members' formats as the applied state records them
    /// (``SchedulerCore/SchedulerState/memberFormats``): a member not heard from since this node
    /// took office counts as its record (``MemberBuilds/version(of:)``). The shell passes them
    /// before each duty round.
    public mutating func recordMemberFormats(_ formats: [String: UInt32]) {
        if formats != memberBuilds.recorded.reduce(into: [:], { $0[$1.key.rawValue] = $1.value }) { memberBuilds.record(formats) }
    }

    /// A legacy ping from `peer` (a build before lease probes): its build is the baseline format.
    public mutating func legacyPing(from peer: Raft.NodeID, at now: MonotonicTime) {
        replicaCheck.heard(from: peer)
        memberBuilds.legacyPing(from: peer, at: now)
    }

    /// A live entry stamped `stamp` was applied while this node's wall clock read `own`
    /// (see ``ClockBound/observe(logStamp:own:at:)``).
    public mutating func observe(logStamp stamp: Timestamp, own: Timestamp, at now: MonotonicTime) {
        clocks.observe(logStamp: stamp, own: own, at: now)
        latestStamp = max(latestStamp ?? stamp, stamp)
    }

    /// The applied state's scheduler time after a batch, a replay or a snapshot
    /// (`SchedulerState.now`): echoes carry no earlier time.
    public mutating func noteApplied(time: Timestamp) {
        latestStamp = max(latestStamp ?? time, time)
    }

    /// This node took office at `since` (nil: it no longer leads). Taking office forgets what
    /// members reported before (``MemberBuilds/forgetAll()``): it may be stale; and judges every
    /// member's digest afresh (``ReplicaDigestCheck/tookOffice()``), so a member another leader
    /// held as diverged is held again at its first probe.
    public mutating func leadership(since: MonotonicTime?) {
        if since != nil, leadingSince == nil {
            memberBuilds.forgetAll()
            processes.removeAll()
            replicaCheck.tookOffice()
        }
        leadingSince = since
    }

    // MARK: Judgements

    /// Whether `peer`'s executor lease holds at `now` (see ``LeaseLedger``; the leader holds its own).
    public func holds(_ peer: Raft.NodeID, at now: MonotonicTime) -> Bool {
        guard peer != id else { return true }
        guard let since = leadingSince else { return false }
        if probingPeers.contains(peer) {
            return ledger.holds(peer, at: now, lease: settings.lease, leadingSince: since)
        }
        return now - max(lastHeard[peer] ?? since, since) <= settings.lease
    }

    /// Whether `peer`'s attempts may be expired as lost at `now`
    /// (``LeaseLedger/isLost(_:at:lease:margin:leadingSince:)``).
    public func isLost(_ peer: Raft.NodeID, at now: MonotonicTime) -> Bool {
        guard peer != id, let since = leadingSince else { return false }
        if probingPeers.contains(peer) {
            return ledger.isLost(peer, at: now, lease: settings.lease, margin: settings.leaseMargin, leadingSince: since)
        }
        return now - max(lastHeard[peer] ?? since, since) > settings.lease + settings.leaseMargin
    }

    /// The process incarnation this node knows for `peer` — its own for itself — and names in
    /// `peer`'s assignments once the cluster runs command format 15; `nil` while unknown (a
    /// leader gives an executor whose process it does not know no work).
    public func knownProcess(of peer: Raft.NodeID) -> UInt64? {
        guard peer != id else { return processIncarnation == 0 ? nil : processIncarnation }
        return processes[peer]
    }

    /// The applied index `peer` reported in its latest probe.
    public func reportedAppliedIndex(of peer: Raft.NodeID) -> Raft.LogIndex? {
        ledger.appliedIndex(of: peer).map { Raft.LogIndex($0) }
    }

    /// The time to stamp at `now` given this node's `wallClock` (bounded; see ``ClockBound``);
    /// `jumped` when the bound applied.
    public mutating func stamp(at now: MonotonicTime, wallClock: Timestamp) -> (stamp: Timestamp, jumped: Bool) {
        let bounded = clocks.bound(wallClock, at: now, voters: settings.voters, self: id)
        latestStamp = max(latestStamp ?? bounded.stamp, bounded.stamp)
        return bounded
    }

    /// The leader's step from a client's command to an entry: every relative time resolved
    /// against `stamp`, the cluster's defaults (`Settings.submissionDefaults`) stamped where the
    /// client left them out, and the format gate over `members`.
    ///
    /// - Throws: ``LeaderRefusal`` (422: invalid at the stamp; 503: a member's build could not apply it).
    public func resolve(_ unstamped: UnstampedCommand, at stamp: Timestamp, members: Set<Raft.NodeID>)
        throws(LeaderRefusal) -> StampedCommand {
        try LeaderRefusal.resolve(unstamped, at: stamp, defaults: settings.submissionDefaults, builds: memberBuilds,
                                  members: members, self: id)
    }

    // MARK: Duty rounds

    /// The inputs of a duty round at `now`, with the cluster's commit index `commitIndex`; nil
    /// while this node does not lead. An executor gets work only while its lease holds and it
    /// has applied the log up to what was committed a quarter lease ago (a node catching up,
    /// a wiped one included, gets none) and its state digest never disagreed with this leader's
    /// (``ReplicaDigestCheck/diverged``: until an operator clears it), nor, with the check on,
    /// before its first probe since this node took office — which carries its digest, judged first —
    /// or while that first check waits (``ReplicaDigestCheck/isAwaitingCheck(_:)``); the leader itself gets none
    /// once a majority agreed against its digest (``ReplicaDigestCheck/leaderOutvoted``).
    ///
    /// Assignments name the executor they are for, so that only it starts them. Once every member
    /// heard from this term reports command format 15 (``SchedulerCore/CommandCodec/assignmentProcesses``)
    /// and this node has a process incarnation, they name the executor's **process**, as its
    /// latest probe that proved a round trip reported it: a restarted process never starts what
    /// was given to the one before it — which the leader may have expired as lost and retried
    /// elsewhere while the new process was still catching up — and no clock is involved. An
    /// executor whose process is not known yet gets no work (until its second probe to this
    /// leader: the first goes out before it has seen this leader's features).
    ///
    /// Below 15, `incarnations` is each member's data directory incarnation as the consensus
    /// layer last saw it (the leader's own included), named in the round's assignments; `nil` when
    /// the caller does not track incarnations (assignments then name none). They are named once
    /// every member heard from this term decodes them (``SchedulerCore/CommandCodec/assignmentIncarnations``;
    /// ``MemberBuilds/reportedFormat(members:self:)``: a member that is down does not hold it
    /// up — were it counted as the baseline, as the format gate does, every outage would reopen
    /// the clock rule's gap for a wiped node). While they are named, an executor whose
    /// incarnation is unknown gets no work: an assignment naming none would leave a wiped node
    /// only the clock cut-off to tell its predecessor's work from its own.
    public mutating func dutyRound(at now: MonotonicTime, commitIndex: Raft.LogIndex,
                                   incarnations: [Raft.NodeID: UInt64]? = nil) -> DutyRound? {
        guard leadingSince != nil else { return nil }
        commits.record(commitIndex, at: now)
        let members = settings.slots.filter { $0.value > 0 }.keys.map { Raft.NodeID($0.rawValue) }
        let format = memberBuilds.commonFormat(members: members, self: id)
        let reported = memberBuilds.reportedFormat(members: members, self: id)
        let namesProcesses = processIncarnation != 0 && reported >= CommandCodec.assignmentProcesses
        let namesIncarnations = !namesProcesses && incarnations != nil && reported >= CommandCodec.assignmentIncarnations
        let capacities = settings.slots.keys.sorted().map { executor in
            let peer = Raft.NodeID(executor.rawValue)
            let isLeader = peer == id
            let caughtUp = isLeader || commits.isCaughtUp(applied: reportedAppliedIndex(of: peer), at: now, lag: settings.lease / 4)
            let diverged = isLeader ? replicaCheck.leaderOutvoted != nil
                : settings.digestInterval > 0 && replicaCheck.isHeld(peer)
            let name = namesProcesses ? (isLeader ? processIncarnation : processes[peer] ?? 0)
                : namesIncarnations ? incarnations?[peer] ?? 0 : 0
            let nameable = !(namesProcesses || namesIncarnations) || name != 0
            let record = directory[peer]
            let slots = settings.slots[executor] ?? 0
            // An older build would start held assignments at once, over its slots.
            let holdsAssignments = isLeader || memberBuilds.version(of: peer) >= CommandCodec.heldAssignments
            return ExecutorCapacity(id: executor, slots: slots, isLeader: isLeader,
                                    isReachable: caughtUp && holds(peer, at: now) && !diverged && nameable,
                                    labels: record?.labels ?? [:], isDraining: record?.draining ?? false,
                                    incarnation: name,
                                    prefetch: holdsAssignments ? max(0, settings.prefetch) : 0)
        }
        let lost = Set(settings.slots.keys.filter { isLost(Raft.NodeID($0.rawValue), at: now) })
        let everyMember = settings.voters.union(members)
        return DutyRound(executors: capacities, lost: lost, format: format,
                         settings: settings,
                         memberFormats: memberBuilds.commonFormat(members: everyMember, self: id) >= CommandCodec.memberFormatRecords
                             ? memberBuilds.reported(self: id) : [:])
    }
}

/// One duty round's inputs, taken from a ``LeaderSide``; ``entries(state:stamp:nextRunID:)``
/// plans it on the applied state (the shell runs that where the state lives).
public struct DutyRound: Sendable {
    /// Every executor, its slots and whether it may get work now.
    public let executors: [ExecutorCapacity]
    /// Executors whose attempts are lost.
    public let lost: Set<ExecutorID>
    /// The newest command format every member decodes (commands are downgraded to it).
    public let format: UInt32
    /// Limits of a round.
    public let settings: NodeCore.Settings
    /// What members reported this term (and this node's own build), by node id, when every
    /// member can decode a record of it (``SchedulerCore/CommandCodec/memberFormatRecords``);
    /// empty otherwise.
    public let memberFormats: [String: UInt32]

    /// The record of members' formats to propose this round, if any member reported more than
    /// the state records (docs/upgrades.md, "Recorded builds").
    public func memberFormatRecord(state: SchedulerState) -> Command? {
        let records = state.memberFormatsToRecord(memberFormats)
        return records.isEmpty ? nil : .recordMemberFormats(records)
    }

    /// What to propose, as entries in order (one unless the round's commands are over
    /// `max_entry_bytes` once encoded), stamped `stamp`; empty when nothing is due.
    public func entries(state: SchedulerState, stamp: Timestamp, nextRunID: () -> RunID) -> [Command] {
        let commands = DutyPlanner.plan(state: state, now: stamp, executors: executors, lost: lost,
                                        maxAssignments: settings.maxAssignments, deadlineSlackMs: settings.deadlineSlackMs,
                                        killGraceMs: settings.killGraceMs, nextRunID: nextRunID)
        guard !commands.isEmpty else { return [] }
        // Cron fires of DAG jobs in the spelling every member can decode (a rolling upgrade).
        // Assignments name an incarnation only when ``LeaderSide/dutyRound(at:commitIndex:incarnations:)``
        // found every member heard from able to decode it; they have nothing else to downgrade.
        let downgraded = commands.map { command -> Command in
            if case .assignAttempt = command { return command }
            return command.compatible(withFormat: format)
        }
        return EntrySplitter.entries(downgraded, maxEntryBytes: settings.maxEntryBytes)
    }
}
