import BinaryCoding
import Logging
import NIOCore
import Node
import NodeCore
import RaftCore
import RaftStorage
import RaftWire
import SchedulerCore
import SchedulerPlanning
import Synchronization
import Transport

/// This node's side of the peer transport: Raft messages out and in, proposals forwarded to
/// the leader and answered, and when each peer was last heard from (the leader's lease view).
final class PeerLink: PeerMessenger, Sendable {
    /// What a follower forwarded: a stamped command (frame 2, any build) or one with relative
    /// times (frame 8, this build on).
    enum ForwardRequest: Sendable {
        /// A ``ForwardedProposal``'s command bytes.
        case stamped([UInt8])
        /// A ``ForwardedUnstamped``'s command.
        case unstamped(UnstampedCommand)
    }

    /// Answers a forwarded proposal (set by the runtime: propose on the local driver).
    typealias ForwardHandler = @Sendable (_ request: ForwardRequest) async -> ForwardedOutcome.Result
    /// Answers a batch of forwarded proposals, one outcome per request in order (set by the
    /// runtime: propose them together). Without one, each goes to the ``ForwardHandler``.
    typealias BatchForwardHandler = @Sendable (_ requests: [ForwardRequest]) async -> [ForwardedOutcome.Result]

    private struct State {
        var driver: RaftDriver?
        var forwardHandler: ForwardHandler?
        var batchHandler: BatchForwardHandler?
        /// Follower side: forwards coalesced per leader (frame 20).
        var coalescer = ForwardCoalescer()
        /// Follower side: forwards waiting for their answer (``watchForwards()`` gives up on them).
        var pending: [UInt64: PendingForward] = [:]
        /// Follower side: resumes ``watchForwards()`` when a forward starts waiting while none did.
        var forwardWatchIdle: CheckedContinuation<Void, Never>?
        var nextRequestID: UInt64 = 1
        var lastHeard: [Raft.NodeID: MonotonicTime] = [:]
        /// Executor side: the lease and what leaders advertised (the value the scheduler simulator runs).
        var executor: ExecutorSide
        /// The highest applied index a probe carried (what an immediate re-probe carries).
        var lastProbedAppliedIndex = Raft.LogIndex.zero
        /// Leader side: leases, clocks, builds and duty rounds (the value the scheduler simulator runs).
        var leader: LeaderSide
        /// When this node last sent each peer a hello.
        var helloSent: [Raft.NodeID: MonotonicTime] = [:]
        /// When each peer's latest hello arrived: it reads stamped Raft frames until then + 5 s.
        var helloHeard: [Raft.NodeID: MonotonicTime] = [:]
        /// Peers whose latest cluster hello named another cluster: every frame of theirs is dropped.
        var foreign: [Raft.NodeID: ClusterID] = [:]
        /// When a foreign peer was last logged about (at most once per ``foreignLogInterval``).
        var foreignLogged: [Raft.NodeID: MonotonicTime] = [:]
        /// This node's latest state digest (its probes carry it to leaders that read it).
        var ownDigest: ReplicaDigest?
        /// This node's latest digest at a checkpoint pacing nodes digest too (what its probes to a
        /// leader that paces carry: ``NodeCore/ExecutorSide/tick(at:wallClock:leader:appliedIndex:digest:pacedDigest:)``).
        var ownPacedDigest: ReplicaDigest?
        /// Told of every replica-check mismatch, the leader's own included (logs are written
        /// here; the node counts it).
        var onDigestMismatch: (@Sendable () -> Void)?
        /// Told of every decodable removal notice, with its sender (``setRemovalNoticeHandler(_:)``).
        var onRemovalNotice: (@Sendable (RemovalNotice, Raft.NodeID) -> Void)?
    }

    /// The cluster this node belongs to (`nil`: none presented, none checked — unit tests).
    let clusterIdentity: ClusterIdentity?
    /// Counts one frame dropped because its sender belongs to another cluster.
    private let onForeignFrame: @Sendable () -> Void
    /// How often a peer of another cluster is logged about while it keeps sending.
    static let foreignLogInterval: Duration = .seconds(10)

    /// This node's data-directory incarnation (0: stamp nothing, send no hello).
    let incarnation: UInt64
    /// How often a hello is repeated to a peer this node talks to.
    static let helloInterval: Duration = .seconds(1)
    /// How long a peer's hello lets this node send it stamped frames.
    static let helloValidity: Duration = .seconds(5)

    let transport: Transport.PeerTransport
    private let state: Mutex<State>
    private let clock: NodeClock
    private let logger: Logger

    /// A link over `transport` for a node whose decisions follow `settings` (``NodeCore/Settings``:
    /// the executor lease, the fencing margin, the clock tolerance, every member's slots). Every
    /// time it keeps or compares is read from `clock` (the node's ``NodeClock``). `incarnation` is
    /// this node's data-directory incarnation, carried with every Raft message to peers that said
    /// they read it (docs/raft.md, "Incarnations"). `processIncarnation` is this process's,
    /// reported in lease probes to a leader that takes it and named by this node's duty rounds
    /// when it leads (``NodeCore/LeaderSide/dutyRound(at:commitIndex:incarnations:)``).
    ///
    /// `clusterIdentity` is presented to every peer with the hello (``PeerFrameType/clusterHello``);
    /// a peer presenting another cluster's id is refused (its frames dropped, `onForeignFrame`
    /// called for each, a warning logged).
    init(transport: Transport.PeerTransport, settings: NodeCore.Settings, clock: NodeClock, incarnation: UInt64 = 0,
         processIncarnation: UInt64 = 0, clusterIdentity: ClusterIdentity? = nil, onForeignFrame: @escaping @Sendable () -> Void = {}, logger: Logger) {
        self.transport = transport
        self.clusterIdentity = clusterIdentity
        self.onForeignFrame = onForeignFrame
        self.incarnation = incarnation
        self.clock = clock
        self.logger = logger
        let started = clock.monotonic()
        let id = transport.configuration.nodeID
        state = Mutex(State(executor: ExecutorSide(id: id, lease: settings.lease, started: started,
                                                   processIncarnation: processIncarnation),
                            leader: LeaderSide(id: id, settings: settings, started: started, startedWall: clock.wall(),
                                               processIncarnation: processIncarnation)))
    }

    /// Connects the driver and the forward handlers (they are created after this link).
    func attach(driver: RaftDriver, forwardHandler: @escaping ForwardHandler, batchHandler: BatchForwardHandler? = nil) {
        state.withLock { $0.driver = driver }
        setForwardHandler(forwardHandler, batchHandler: batchHandler)
    }

    /// Sets what answers forwarded proposals, one at a time and in batches.
    func setForwardHandler(_ handler: @escaping ForwardHandler, batchHandler: BatchForwardHandler? = nil) {
        state.withLock {
            $0.forwardHandler = handler
            $0.batchHandler = batchHandler
        }
    }

    /// Leader side: what this node's echoes advertise (tests take features away to play an older leader).
    func setAdvertisedFeatures(_ features: PeerFeatures) {
        state.withLock { $0.leader.advertisedFeatures = features }
    }

    // MARK: Raft

    /// Sends a Raft message (best effort; Raft retries).
    ///
    /// The sender's incarnation travels in each frame (``PeerFrameType/raftStamped``) rather than
    /// once per connection: a per-connection hello can be dropped by a full inbound queue, and a
    /// dead process's connection can still deliver frames after its successor's hello, so a
    /// receiver stamping "the latest hello" could credit a wiped node's vote to the directory
    /// that had voted before. A per-frame stamp is never wrong; a missing one (0) only makes the
    /// receiver more careful.
    func send(_ message: Raft.Message) {
        let peer = message.to
        guard incarnation != 0 else {
            transport.send(Transport.Frame(type: PeerFrameType.raft.rawValue, bytes: RaftWireCodec.encode(message)), to: peer)
            return
        }
        let now = clock.monotonic()
        let (sayHello, stamp) = state.withLock { state -> (Bool, Bool) in
            let due = state.helloSent[peer].map { now - $0 >= Self.helloInterval } ?? true
            if due { state.helloSent[peer] = now }
            return (due, state.helloHeard[peer].map { now - $0 < Self.helloValidity } ?? false)
        }
        if sayHello {
            if let identity = clusterIdentity, let cluster = identity.current {
                transport.send(Transport.Frame(type: PeerFrameType.clusterHello.rawValue,
                                               bytes: RaftFrames.clusterHello(cluster, provisional: identity.isProvisional)), to: peer)
            }
            transport.send(Transport.Frame(type: PeerFrameType.hello.rawValue, bytes: RaftFrames.hello(incarnation: incarnation)), to: peer)
        }
        if stamp {
            transport.send(Transport.Frame(type: PeerFrameType.raftStamped.rawValue,
                                           bytes: RaftFrames.stamped(message, incarnation: incarnation)), to: peer)
        } else {
            transport.send(Transport.Frame(type: PeerFrameType.raft.rawValue, bytes: RaftWireCodec.encode(message)), to: peer)
        }
    }

    /// When `peer` was last heard from, if ever since this process started.
    func lastHeard(from peer: Raft.NodeID) -> MonotonicTime? {
        state.withLock { $0.lastHeard[peer] }
    }

    // MARK: Lease probes

    /// The executor's tick (``ExecutorSide/tick(at:wallClock:leader:appliedIndex:)``): sends the
    /// probe it asks for — to `leader`, carrying this node's applied index, wall clock and the
    /// latest echo it received from `leader` (and a legacy ping while `leader` has not answered
    /// a version-1 probe for half a lease: an older build, so an upgrade does not fence
    /// executors) — and returns whether the lease ran out (every running attempt must stop).
    func executorTick(leader: Raft.NodeID?, appliedIndex: Raft.LogIndex, wallClock: Timestamp) -> Bool {
        let now = clock.monotonic()
        let tick = state.withLock {
            $0.lastProbedAppliedIndex = max($0.lastProbedAppliedIndex, appliedIndex)
            return $0.executor.tick(at: now, wallClock: wallClock, leader: leader, appliedIndex: appliedIndex, digest: $0.ownDigest,
                                    pacedDigest: $0.ownPacedDigest)
        }
        if let (to, probe, legacy) = tick.probe {
            transport.send(Transport.Frame(type: PeerFrameType.leaseProbe.rawValue, bytes: probe.encoded()), to: to)
            if legacy {
                var w = BinaryWriter(capacity: 10)
                w.write(probe.sequence)
                transport.send(Transport.Frame(type: PeerFrameType.leasePing.rawValue, bytes: w.bytes), to: to)
            }
        }
        return tick.fence
    }

    /// The send time of the latest lease probe a leader answered: proof that messages went both
    /// ways since then.
    var lastLeaderRoundTrip: MonotonicTime? { state.withLock { $0.executor.lease.lastRoundTrip } }

    /// Executor side: whether a round trip (or leading) proves this node's lease now.
    /// Executor side: when the lease last came back after running out, as a wall-clock time
    /// (``NodeCore/ExecutorSide/lastLapseEnded(now:wall:)``); nil if it never ran out.
    func executorLapseEnded() -> Timestamp? {
        let now = clock.monotonic()
        let wall = clock.wall()
        return state.withLock { $0.executor.lastLapseEnded(now: now, wall: wall) }
    }

    func executorLeaseProven() -> Bool {
        let now = clock.monotonic()
        return state.withLock { $0.executor.isProven(at: now) }
    }

    /// Executor side: whether the lease ran out (no round trip with a leader, no term as leader,
    /// within the lease); `leading` records that this node leads now.
    func executorMustFence(leading: Bool = false) -> Bool {
        let now = clock.monotonic()
        return state.withLock { $0.executor.mustFence(at: now, leading: leading) }
    }

    /// The configuration changed (``LeaderSide/membersChanged(voters:slots:directory:)``).
    func membersChanged(voters: Set<Raft.NodeID>, slots: [ExecutorID: Int], directory: MemberDirectory) {
        state.withLock { $0.leader.membersChanged(voters: voters, slots: slots, directory: directory) }
    }

    /// Leader side: whether `peer`'s executor lease holds now (``LeaderSide/holds(_:at:)``).
    func leaseHolds(_ peer: Raft.NodeID) -> Bool {
        let now = clock.monotonic()
        return state.withLock { $0.leader.holds(peer, at: now) }
    }

    /// Leader side: this node took office at `since` (nil: it no longer leads). Echoes follow the
    /// ledger's policy only while leading.
    func setLeading(since: MonotonicTime?) {
        state.withLock { $0.leader.leadership(since: since) }
    }

    /// Leader side: the members' formats the applied state records (``LeaderSide/recordMemberFormats(_:)``).
    func recordMemberFormats(_ formats: [String: UInt32]) {
        state.withLock { $0.leader.recordMemberFormats(formats) }
    }

    /// Leader side: the process incarnation known for `peer` (``LeaderSide/knownProcess(of:)``).
    func knownProcess(of peer: Raft.NodeID) -> UInt64? {
        state.withLock { $0.leader.knownProcess(of: peer) }
    }

    /// Leader side: the build format versions members reported this term.
    func memberBuilds() -> MemberBuilds {
        state.withLock { $0.leader.memberBuilds }
    }

    /// Executor side: the newest command format `leader` is known to decode
    /// (``ExecutorSide/leaderFormat(_:)``). Forwards are downgraded to it (``RaftReplica``), so a
    /// rolling upgrade never sends a leader a command it cannot decode.
    func leaderFormat(_ leader: Raft.NodeID) -> UInt32 {
        state.withLock { $0.executor.leaderFormat(leader) }
    }

    /// Executor side: whether `leader` advertised unstamped forwards in its latest echo.
    func leaderTakesUnstamped(_ leader: Raft.NodeID) -> Bool {
        state.withLock { $0.executor.takesUnstampedForwards(leader) }
    }

    /// Executor side: whether `leader` advertised batched forwards (frame 20) in its latest echo.
    func leaderTakesBatches(_ leader: Raft.NodeID) -> Bool {
        state.withLock { $0.executor.takesBatchedForwards(leader) }
    }

    /// Follower side: forwards to `leader` waiting in the coalescer, and in its batch in flight.
    func coalescedForwards(to leader: Raft.NodeID) -> (waiting: Int, inFlight: Int) {
        state.withLock { $0.coalescer.count(for: leader) }
    }

    /// Leader side: whether `peer`'s attempts may be expired as lost now (``LeaderSide/isLost(_:at:)``).
    func executorLost(_ peer: Raft.NodeID) -> Bool {
        let now = clock.monotonic()
        return state.withLock { $0.leader.isLost(peer, at: now) }
    }

    /// Leader side: the applied index `peer` reported in its latest probe.
    func reportedAppliedIndex(of peer: Raft.NodeID) -> Raft.LogIndex? {
        state.withLock { $0.leader.reportedAppliedIndex(of: peer) }
    }

    /// Leader side: the inputs of a duty round now (``LeaderSide/dutyRound(at:commitIndex:incarnations:)``),
    /// assignments naming the executors' `incarnations` (nil: none);
    /// nil while this node does not lead.
    func dutyRound(commitIndex: Raft.LogIndex, incarnations: [Raft.NodeID: UInt64]? = nil) -> DutyRound? {
        let now = clock.monotonic()
        return state.withLock { $0.leader.dutyRound(at: now, commitIndex: commitIndex, incarnations: incarnations) }
    }

    /// Leader side: `own` (this node's wall clock now), bounded by the clocks the voters reported
    /// (see ``ClockBound``); `jumped` when the bound applied.
    func boundedStamp(_ own: Timestamp) -> (stamp: Timestamp, jumped: Bool) {
        let now = clock.monotonic()
        return state.withLock { $0.leader.stamp(at: now, wallClock: own) }
    }

    /// A live entry stamped `stamp` was just applied while this node's wall clock read `own`
    /// (see ``NodeCore/ClockBound/observe(logStamp:own:at:)``).
    func observe(logStamp stamp: Timestamp, own: Timestamp) {
        let now = clock.monotonic()
        state.withLock { $0.leader.observe(logStamp: stamp, own: own, at: now) }
    }

    /// The scheduler time after an applied batch, replay or snapshot: this node's lease echoes,
    /// when it leads, carry no earlier time (``NodeCore/LeaderSide/noteApplied(time:)``).
    func noteApplied(time: Timestamp) {
        state.withLock { $0.leader.noteApplied(time: time) }
    }

    // MARK: Replica checks

    /// Sets what is told of each digest mismatch (the node counts `quorum_replica_digest_mismatch_total`).
    func setDigestMismatchHandler(_ handler: @escaping @Sendable () -> Void) {
        state.withLock { $0.onDigestMismatch = handler }
    }

    /// Sets who judges a member's "you were removed" notice (the node: ``RemovalNotice/isBelieved(from:by:ownCluster:members:)``).
    func setRemovalNoticeHandler(_ handler: @escaping @Sendable (RemovalNotice, Raft.NodeID) -> Void) {
        state.withLock { $0.onRemovalNotice = handler }
    }

    /// This node computed its state digest at a checkpoint: its next probes carry it, and the
    /// leader side compares the reports that waited for it (``LeaderSide/ownDigest(_:)``).
    func ownDigest(_ digest: ReplicaDigest, paced: Bool) {
        let (found, outvoted, handler) = state.withLock { state in
            state.ownDigest = digest
            if paced { state.ownPacedDigest = digest }
            let before = state.leader.replicaCheck.leaderOutvoted
            let found = state.leader.ownDigest(digest, paced: paced)
            let after = state.leader.replicaCheck.leaderOutvoted
            return (found, before == nil ? after : nil, state.onDigestMismatch)
        }
        for mismatch in found { reportMismatch(mismatch, handler) }
        if let outvoted { reportOutvoted(outvoted, handler) }
    }

    /// This node's state was replaced by a snapshot: its digests describe a state it no longer
    /// holds, so its probes carry none until its next checkpoint.
    func forgetOwnDigests() {
        state.withLock { state in
            state.ownDigest = nil
            state.ownPacedDigest = nil
        }
    }

    /// Whether this node paces its replica-check digests now (``NodeCore/ExecutorSide/pacesDigests(leading:)``).
    func pacesDigests() -> Bool {
        state.withLock { $0.executor.pacesDigests(leading: $0.leader.leadingSince != nil) }
    }

    /// This node applied checkpoint `index`, digesting there or not (``NodeCore/LeaderSide/checkpointPassed(_:digesting:)``).
    func checkpointPassed(_ index: UInt64, digesting: Bool) {
        state.withLock { $0.leader.checkpointPassed(index, digesting: digesting) }
    }

    /// Leader side: the replica check as it stands (who diverged, the leader's own digests).
    func replicaCheck() -> ReplicaDigestCheck {
        state.withLock { $0.leader.replicaCheck }
    }

    /// Leader side: an operator repaired `peer` (``LeaderSide/clearDivergence(of:)``; this node's
    /// own id: the leader itself); whether anything was held.
    func clearDivergence(of peer: Raft.NodeID) -> Bool {
        let cleared = state.withLock { $0.leader.clearDivergence(of: peer) }
        if cleared {
            logger.notice("replica check cleared by an operator: work is dispatched to the member again", metadata: ["member": "\(peer)"])
        }
        return cleared
    }

    private func digestReported(_ digest: ReplicaDigest, from peer: Raft.NodeID) {
        let (outcome, wasOutvoted, handler) = state.withLock {
            let was = $0.leader.replicaCheck.leaderOutvoted != nil
            return ($0.leader.digestReported(digest, from: peer), was, $0.onDigestMismatch)
        }
        switch outcome {
        case .mismatch(let mismatch): reportMismatch(mismatch, handler)
        case .leaderOutvoted(let outvoted) where !wasOutvoted: reportOutvoted(outvoted, handler)
        default: break
        }
    }

    private func reportOutvoted(_ outvoted: LeaderOutvoted, _ handler: (@Sendable () -> Void)?) {
        logger.critical("replica digest mismatch: this leader's scheduler state diverged from a majority of the voters",
                        metadata: ["index": "\(outvoted.index)",
                                   "leader_digest": "\(ReplicaDigest(index: outvoted.index, value: outvoted.leaderDigest).hex)",
                                   "majority_digest": "\(ReplicaDigest(index: outvoted.index, value: outvoted.majorityDigest).hex)",
                                   "members": "\(outvoted.members.map(\.rawValue))", "action": "\(outvoted)"])
        handler?()
    }

    private func reportMismatch(_ mismatch: DigestMismatch, _ handler: (@Sendable () -> Void)?) {
        logger.error("replica digest mismatch: a member's scheduler state diverged from the leader's",
                     metadata: ["member": "\(mismatch.member)", "index": "\(mismatch.index)",
                                "leader_digest": "\(ReplicaDigest(index: mismatch.index, value: mismatch.leaderDigest).hex)",
                                "member_digest": "\(ReplicaDigest(index: mismatch.index, value: mismatch.memberDigest).hex)",
                                "action": "\(mismatch)"])
        handler?()
    }

    /// Records a probe's echo from `peer` (`echoID` nil for a legacy pong).
    private func probeAnswered(_ sequence: UInt64, by peer: Raft.NodeID, echoID: UInt64?, features: PeerFeatures? = nil,
                               leaderStamp: Timestamp? = nil) {
        let now = clock.monotonic()
        let (again, applied) = state.withLock {
            ($0.executor.echoed(sequence, by: peer, echoID: echoID, features: features, leaderStamp: leaderStamp, at: now),
             $0.lastProbedAppliedIndex)
        }
        // The first echo advertising process incarnations: probe again now, carrying this process
        // (``NodeCore/ExecutorSide/echoed(_:by:echoID:features:leaderStamp:at:)``). The applied index is the
        // last one probed with, which can only be behind: the leader judges it as it would a
        // probe sent a moment earlier.
        if again { _ = executorTick(leader: peer, appliedIndex: applied, wallClock: clock.wall()) }
    }

    /// Leader side: records `peer`'s probe and returns the echo to send back, if any.
    private func probeReceived(_ probe: LeaseProbe, from peer: Raft.NodeID) -> LeaseEcho? {
        let now = clock.monotonic()
        let wall = clock.wall()
        return state.withLock { $0.leader.probeReceived(probe, from: peer, at: now, wallClock: wall) }
    }

    // MARK: Forwarding

    /// Forwards an encoded command to `leader` and waits for its answer, at most `timeout`
    /// (then the outcome is unknown: `.outcomeUnknown`).
    ///
    /// Fails fast, as not proposed, when there is no connection to `leader` (it may be dead:
    /// queueing would only wait for the timeout); gives up early, as outcome unknown, when this
    /// node learns of another leader meanwhile.
    func forward(_ command: [UInt8], to leader: Raft.NodeID, timeout: Duration, poll: Duration) async -> ForwardedOutcome.Result {
        await forward(to: leader, timeout: timeout, poll: poll) { requestID in
            Transport.Frame(type: PeerFrameType.forwardProposal.rawValue,
                            bytes: ForwardedProposal(requestID: requestID, command: command).encoded())
        }
    }

    /// Forwards a command with relative times to `leader`, as ``forward(_:to:timeout:poll:)``:
    /// coalesced with the other forwards waiting for it into frame 20 when it advertised
    /// ``NodeCore/PeerFeatures/batchedForwarding``, else alone in frame 8. Call only when
    /// ``leaderTakesUnstamped(_:)``: an older leader drops both frames.
    func forward(unstamped command: UnstampedCommand, to leader: Raft.NodeID, timeout: Duration,
                 poll: Duration) async -> ForwardedOutcome.Result {
        guard leaderTakesBatches(leader) else {
            return await forward(to: leader, timeout: timeout, poll: poll) { requestID in
                Transport.Frame(type: PeerFrameType.forwardUnstamped.rawValue,
                                bytes: ForwardedUnstamped(requestID: requestID, command: command).encoded())
            }
        }
        let encoded = command.encoded()
        return await forward(to: leader, timeout: timeout, poll: poll) { .batched(ForwardBatch.Item(requestID: $0, command: encoded)) }
    }

    /// Sends the frame `makeFrame` builds for a fresh request id to `leader` and waits for the
    /// answer with that id (the forwards above; tests send malformed frames through it).
    func forward(to leader: Raft.NodeID, timeout: Duration, poll: Duration,
                 frame makeFrame: (UInt64) -> Transport.Frame) async -> ForwardedOutcome.Result {
        await forward(to: leader, timeout: timeout, poll: poll) { .alone(makeFrame($0)) }
    }

    /// How a forward leaves this node: in a frame of its own, or coalesced into a batch.
    private enum Dispatch: Sendable {
        case alone(Transport.Frame)
        case batched(ForwardBatch.Item)
    }

    /// A forward waiting for its leader's answer.
    private struct PendingForward {
        var continuation: CheckedContinuation<ForwardedOutcome.Result, Never>
        var leader: Raft.NodeID
        var timeout: Duration
        /// When it stops waiting (its outcome is then unknown, or "not proposed" if never sent).
        var deadline: MonotonicTime
        /// How often ``watchForwards()`` looks at it.
        var poll: Duration
    }

    /// Dispatches what `dispatch` builds for a fresh request id to `leader` and waits for the
    /// answer with that id, at most `timeout`, and no longer than `leader` leads as this node sees
    /// it (checked every `poll` by ``watchForwards()``, which runs with ``runInbound()``) or the
    /// calling task runs.
    ///
    /// One continuation per forward and one watch for all of them: a polling task and a timer per
    /// forward cost about 5 % of a follower's CPU under single submissions (docs/benchmarks.md,
    /// "Where a submission's CPU goes").
    private func forward(to leader: Raft.NodeID, timeout: Duration, poll: Duration,
                         dispatch makeDispatch: (UInt64) -> Dispatch) async -> ForwardedOutcome.Result {
        guard transport.isConnected(to: leader) else {
            return .notProposed(leaderHint: leader, message: "no connection to leader \(leader)")
        }
        let requestID = state.withLock { state -> UInt64 in
            defer { state.nextRequestID += 1 }
            return state.nextRequestID
        }
        let dispatch = makeDispatch(requestID)
        let deadline = clock.monotonic() + timeout
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let waiting = PendingForward(continuation: continuation, leader: leader, timeout: timeout, deadline: deadline, poll: poll)
                let (batch, idleWatch) = state.withLock { state -> (ForwardCoalescer.Batch?, CheckedContinuation<Void, Never>?) in
                    state.pending[requestID] = waiting
                    let idleWatch = state.forwardWatchIdle
                    state.forwardWatchIdle = nil
                    guard case .batched(let item) = dispatch else { return (nil, idleWatch) }
                    return (state.coalescer.enqueue(item, to: leader), idleWatch)
                }
                idleWatch?.resume()
                switch dispatch {
                case .batched:
                    if let batch { send(batch) }
                case .alone(let frame):
                    let outcome = transport.send(frame, to: leader)
                    switch outcome {
                    case .queued, .queuedDroppingOldest: break
                    default:
                        resolve(requestID, .notProposed(leaderHint: leader,
                                                        message: "could not queue the request for leader \(leader) (\(outcome))"))
                    }
                }
                // Cancelled before the cancellation handler could find it waiting: give up now.
                if Task.isCancelled { giveUp(requestID) }
            }
        } onCancel: {
            giveUp(requestID)
        }
    }

    /// Stops waiting for `requestID`'s answer (its time ran out, its leader no longer leads, or
    /// its caller was cancelled): its outcome is unknown if it was sent, "not proposed" if it still
    /// waited in the coalescer. Does nothing once it was answered.
    private func giveUp(_ requestID: UInt64) {
        guard let waiting = state.withLock({ $0.pending[requestID] }) else { return }
        let (leader, timeout) = (waiting.leader, waiting.timeout)
        resolve(requestID, .outcomeUnknown(message: "leader \(leader) did not answer (within \(timeout), or before another "
            + "leader took over); the outcome is unknown"),
                ifUnsent: .notProposed(leaderHint: nil, message: "the request waited for leader \(leader)'s previous batch to be "
                    + "answered (for \(timeout), or until another leader took over); it was not sent"))
    }

    /// Gives up on every forward whose deadline passed or whose leader no longer leads as the
    /// driver sees it, looking every `poll` (the smallest of the waiting forwards') while any
    /// waits, and sleeping until one does otherwise. Runs until cancelled (with ``runInbound()``).
    private func watchForwards() async {
        while !Task.isCancelled {
            guard let poll = state.withLock({ $0.pending.values.lazy.map(\.poll).min() }) else {
                await withTaskCancellationHandler {
                    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                        let waitsAlready = state.withLock { state -> Bool in
                            guard state.pending.isEmpty, !Task.isCancelled else { return true }
                            state.forwardWatchIdle = continuation
                            return false
                        }
                        if waitsAlready { continuation.resume() }
                    }
                } onCancel: {
                    state.withLock { state -> CheckedContinuation<Void, Never>? in
                        defer { state.forwardWatchIdle = nil }
                        return state.forwardWatchIdle
                    }?.resume()
                }
                continue
            }
            try? await clock.sleep(for: poll)
            let driver = state.withLock { $0.driver }
            let leading = await driver?.status.leader
            let now = clock.monotonic()
            let overdue = state.withLock { state in
                state.pending.filter { now >= $0.value.deadline || (driver != nil && leading != $0.value.leader) }.map(\.key)
            }
            for requestID in overdue { giveUp(requestID) }
        }
    }

    /// Hands `result` to the forward waiting for `requestID` (`unsent` instead when it was still
    /// waiting in the coalescer, never sent), and sends the next batch to its leader when it was
    /// the last of the batch in flight.
    private func resolve(_ requestID: UInt64, _ result: ForwardedOutcome.Result, ifUnsent unsent: ForwardedOutcome.Result? = nil) {
        let (continuation, settled, next) = state.withLock { state in
            let continuation = state.pending.removeValue(forKey: requestID)?.continuation
            let (settled, next) = state.coalescer.settle(requestID)
            return (continuation, settled, next)
        }
        continuation?.resume(returning: settled == .unsent ? unsent ?? result : result)
        if let next { send(next) }
    }

    /// Sends a coalesced batch (frame 20); when the transport cannot queue it, every forward in it
    /// is answered as not proposed (which sends the next batch, if any).
    private func send(_ batch: ForwardCoalescer.Batch) {
        let outcome = transport.send(Transport.Frame(type: PeerFrameType.forwardBatch.rawValue,
                                                     bytes: ForwardBatch(items: batch.items).encoded()), to: batch.leader)
        switch outcome {
        case .queued, .queuedDroppingOldest: return
        default: break
        }
        for item in batch.items {
            resolve(item.requestID, .notProposed(leaderHint: batch.leader,
                                                 message: "could not queue the request for leader \(batch.leader) (\(outcome))"))
        }
    }

    /// Answers a forward from `peer` with the handler's outcome, in a child task of `group`.
    private func answerForward(_ requestID: UInt64, _ request: ForwardRequest, to peer: Raft.NodeID,
                               in group: inout DiscardingTaskGroup) {
        let handler = state.withLock { $0.forwardHandler }
        group.addTask {
            let result = await handler?(request)
                ?? .notProposed(leaderHint: nil, message: "node \(self.transport.configuration.nodeID) is still starting")
            let answer = ForwardedOutcome(requestID: requestID, result: result)
            self.transport.send(Transport.Frame(type: PeerFrameType.forwardOutcome.rawValue, bytes: answer.encoded()), to: peer)
        }
    }

    /// Answers a batch of forwards from `peer` in one frame 21, in a child task of `group`: the
    /// decodable ones through the batch handler (each through the single handler without one), the
    /// others `notProposed` each, without failing their neighbours.
    private func answerForwardBatch(_ batch: ForwardBatch, to peer: Raft.NodeID, in group: inout DiscardingTaskGroup) {
        let (handler, batchHandler) = state.withLock { ($0.forwardHandler, $0.batchHandler) }
        let starting = ForwardedOutcome.Result.notProposed(leaderHint: nil, message: "node \(transport.configuration.nodeID) is still starting")
        group.addTask {
            let decoded = batch.decodedCommands()
            var results = decoded.map { item -> ForwardedOutcome.Result in
                guard case .failure(let error) = item.command else { return starting }
                return .notProposed(leaderHint: nil, message: "the leader could not decode the forwarded command (\(error)); is it an older build?")
            }
            let slots = decoded.indices.filter { if case .success = decoded[$0].command { true } else { false } }
            let requests = slots.compactMap { slot -> ForwardRequest? in
                guard case .success(let command) = decoded[slot].command else { return nil }
                return .unstamped(command)
            }
            if let batchHandler {
                for (slot, result) in zip(slots, await batchHandler(requests)) { results[slot] = result }
            } else if let handler {
                await withTaskGroup(of: (Int, ForwardedOutcome.Result).self) { each in
                    for (slot, request) in zip(slots, requests) { each.addTask { (slot, await handler(request)) } }
                    for await (slot, result) in each { results[slot] = result }
                }
            }
            let answer = ForwardBatchOutcome(outcomes: zip(decoded, results).map { ForwardedOutcome(requestID: $0.0.requestID, result: $0.1) })
            self.transport.send(Transport.Frame(type: PeerFrameType.forwardBatchOutcome.rawValue, bytes: answer.encoded()), to: peer)
        }
    }

    /// Resolves every forward a frame 21 answers; one this build cannot read is answered "outcome unknown".
    private func batchAnswered(_ bytes: [UInt8], from peer: Raft.NodeID) {
        let outcomes: [Result<ForwardedOutcome, ForwardBatchOutcome.UndecodableOutcome>]
        do {
            outcomes = try ForwardBatchOutcome.decode(bytes)
        } catch {
            logger.warning("dropped an undecodable forward batch answer", metadata: ["from": "\(peer)", "error": "\(error)"])
            return
        }
        for outcome in outcomes {
            switch outcome {
            case .success(let answer):
                resolve(answer.requestID, answer.result)
            case .failure(let undecodable):
                logger.warning("could not read one answer of a forward batch", metadata: ["from": "\(peer)", "error": "\(undecodable.error)"])
                guard let requestID = undecodable.requestID else { continue }
                resolve(requestID, .outcomeUnknown(message: "the leader's answer could not be read (\(undecodable.error)); the outcome is unknown"))
            }
        }
    }

    // MARK: Inbound

    /// Handles every inbound frame until the transport's stream ends, and gives up on forwards
    /// that wait too long meanwhile (``watchForwards()``).
    func runInbound() async {
        await withDiscardingTaskGroup { watch in
            watch.addTask { await self.watchForwards() }
            await receiveFrames()
            watch.cancelAll()
        }
    }

    /// Handles every inbound frame until the transport's stream ends.
    private func receiveFrames() async {
        await withDiscardingTaskGroup { group in
            for await message in transport.inbound {
                if message.type == Transport.FrameFormat.connectionClosedType {
                    state.withLock { $0.driver }?.linkLost(from: message.from)
                    continue
                }
                let heardAt = clock.monotonic()
                if message.type == PeerFrameType.clusterHello.rawValue {
                    clusterHelloArrived(Array(message.payload.readableBytesView), from: message.from, at: heardAt)
                    continue
                }
                if let foreign = state.withLock({ $0.foreign[message.from] }) {
                    refuseForeign(message.from, cluster: foreign, at: heardAt)
                    continue
                }
                let driver = state.withLock { state -> RaftDriver? in
                    state.lastHeard[message.from] = heardAt
                    state.leader.heard(from: message.from, at: heardAt)
                    return state.driver
                }
                let bytes = Array(message.payload.readableBytesView)
                switch PeerFrameType(rawValue: message.type) {
                case .raft:
                    do {
                        driver?.receive(try RaftFrames.decodePlain(bytes), authenticatedAs: message.from)
                    } catch {
                        logger.warning("dropped an undecodable Raft message", metadata: ["from": "\(message.from)", "error": "\(error)"])
                    }
                case .raftStamped:
                    do {
                        driver?.receive(try RaftFrames.decodeStamped(bytes), authenticatedAs: message.from)
                    } catch {
                        logger.warning("dropped an undecodable Raft message", metadata: ["from": "\(message.from)", "error": "\(error)"])
                    }
                case .hello:
                    guard (try? RaftFrames.decodeHello(bytes)) != nil else {
                        logger.warning("dropped an undecodable peer hello", metadata: ["from": "\(message.from)"])
                        continue
                    }
                    state.withLock { $0.helloHeard[message.from] = heardAt }
                case .forwardProposal:
                    guard let request = try? ForwardedProposal(decoding: bytes) else {
                        logger.warning("dropped an undecodable forwarded proposal", metadata: ["from": "\(message.from)"])
                        continue
                    }
                    answerForward(request.requestID, .stamped(request.command), to: message.from, in: &group)
                case .forwardUnstamped:
                    let request: ForwardedUnstamped
                    do {
                        request = try ForwardedUnstamped(decoding: bytes)
                    } catch {
                        // Answer when the request id is readable: the follower then retries or
                        // answers 503 at once instead of waiting out its forward timeout.
                        logger.warning("refused an undecodable unstamped forward", metadata: ["from": "\(message.from)", "error": "\(error)"])
                        var r = BinaryReader(bytes)
                        guard let requestID = try? r.readUInt64() else { continue }
                        let answer = ForwardedOutcome(requestID: requestID, result: .notProposed(
                            leaderHint: nil, message: "the leader could not decode the forwarded command (\(error)); is it an older build?"))
                        transport.send(Transport.Frame(type: PeerFrameType.forwardOutcome.rawValue, bytes: answer.encoded()), to: message.from)
                        continue
                    }
                    answerForward(request.requestID, .unstamped(request.command), to: message.from, in: &group)
                case .forwardBatch:
                    do {
                        answerForwardBatch(try ForwardBatch(decoding: bytes), to: message.from, in: &group)
                    } catch {
                        logger.warning("dropped an undecodable forward batch", metadata: ["from": "\(message.from)", "error": "\(error)"])
                    }
                case .forwardBatchOutcome:
                    batchAnswered(bytes, from: message.from)
                case .forwardOutcome:
                    guard let outcome = try? ForwardedOutcome(decoding: bytes) else {
                        logger.warning("dropped an undecodable forward answer", metadata: ["from": "\(message.from)"])
                        continue
                    }
                    resolve(outcome.requestID, outcome.result)
                case .leasePing:
                    // Echo at once: the prober only needs proof that both directions work.
                    let now = clock.monotonic()
                    state.withLock { $0.leader.legacyPing(from: message.from, at: now) }
                    transport.send(Transport.Frame(type: PeerFrameType.leasePong.rawValue, bytes: bytes), to: message.from)
                case .leasePong:
                    var r = BinaryReader(bytes)
                    if let sequence = try? r.readUInt64() { probeAnswered(sequence, by: message.from, echoID: nil) }
                case .leaseProbe:
                    guard let probe = try? LeaseProbe(decoding: bytes) else {
                        logger.warning("dropped an undecodable lease probe", metadata: ["from": "\(message.from)"])
                        continue
                    }
                    if let digest = probe.digest { digestReported(digest, from: message.from) }
                    guard let echo = probeReceived(probe, from: message.from) else { continue }
                    transport.send(Transport.Frame(type: PeerFrameType.leaseEcho.rawValue, bytes: echo.encoded()), to: message.from)
                case .leaseEcho:
                    guard let echo = try? LeaseEcho(decoding: bytes) else {
                        logger.warning("dropped an undecodable lease echo", metadata: ["from": "\(message.from)"])
                        continue
                    }
                    probeAnswered(echo.sequence, by: message.from, echoID: echo.echoID, features: echo.features,
                                  leaderStamp: echo.leaderStamp)
                case .clusterHello:
                    continue  // handled above, before any other frame of its sender
                case .removalNotice:
                    do {
                        let notice = try RemovalNotice(decoding: bytes)
                        state.withLock { $0.onRemovalNotice }?(notice, message.from)
                    } catch {
                        logger.warning("dropped an undecodable removal notice", metadata: ["from": "\(message.from)", "error": "\(error)"])
                    }
                case nil:
                    logger.warning("dropped a frame of unknown type", metadata: ["from": "\(message.from)", "type": "\(message.type)"])
                }
            }
        }
    }

    // MARK: Cluster identity

    /// A peer said which cluster it belongs to: remember it as foreign (and drop its frames)
    /// when ``ClusterIdentity/judge(_:provisional:)`` refuses it, forget an earlier verdict when
    /// it accepts it.
    private func clusterHelloArrived(_ bytes: [UInt8], from peer: Raft.NodeID, at now: MonotonicTime) {
        guard let identity = clusterIdentity else { return }
        guard let (presented, provisional) = RaftFrames.decodeClusterHello(bytes) else {
            logger.warning("dropped an undecodable cluster hello", metadata: ["from": "\(peer)", "bytes": "\(bytes.count)"])
            return
        }
        switch identity.judge(presented, provisional: provisional) {
        case .accept:
            let wasForeign = state.withLock { $0.foreign.removeValue(forKey: peer) != nil }
            if wasForeign { logger.notice("peer presents an id this node accepts again; its frames are read", metadata: ["peer": "\(peer)"]) }
        case .refuse:
            let isNew = state.withLock { state -> Bool in
                defer { state.foreign[peer] = presented }
                return state.foreign[peer] != presented
            }
            if isNew { state.withLock { $0.foreignLogged[peer] = nil } }
            refuseForeign(peer, cluster: presented, at: now)
        }
    }

    /// Drops a frame of a peer of another cluster: counted, and logged at most every ten seconds.
    private func refuseForeign(_ peer: Raft.NodeID, cluster: ClusterID, at now: MonotonicTime) {
        onForeignFrame()
        let log = state.withLock { state -> Bool in
            if let last = state.foreignLogged[peer], now - last < Self.foreignLogInterval { return false }
            state.foreignLogged[peer] = now
            return true
        }
        guard log else { return }
        let ours = clusterIdentity?.current.map { "\($0)" } ?? "?"
        let message = "refusing peer \(peer): it belongs to cluster \(cluster), this node to cluster \(ours); "
            + "its frames are dropped. A node of another cluster (or of this cluster before a restore or --force-new-cluster) "
            + "is configured with this cluster's addresses: stop it or fix its config (docs/operations.md)"
        logger.warning("\(message)", metadata: ["peer": "\(peer)", "peer_cluster_id": "\(cluster)"])
    }
}
