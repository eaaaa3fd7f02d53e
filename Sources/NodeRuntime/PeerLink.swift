import BinaryCoding
import Logging
import NIOCore
import Node
import NodeCore
import RaftCore
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

    private struct State {
        var driver: RaftDriver?
        var forwardHandler: ForwardHandler?
        var pending: [UInt64: CheckedContinuation<ForwardedOutcome.Result, Never>] = [:]
        var nextRequestID: UInt64 = 1
        var lastHeard: [Raft.NodeID: MonotonicTime] = [:]
        /// Executor side: probes, echoes and when the lease runs out.
        var executorLease: ExecutorLease
        /// Leader side: which executors proved a round trip, and when.
        var ledger = LeaseLedger()
        /// Leader side: peers that sent a version-1 probe (the others keep the any-frame rule).
        var probingPeers: Set<Raft.NodeID> = []
        /// Leader side: peers' reported wall clocks.
        var clocks: ClockBound
        /// Leader side: when this node took office (nil while it does not lead).
        var leadingSince: MonotonicTime?
        /// When this node last sent each peer a hello.
        var helloSent: [Raft.NodeID: MonotonicTime] = [:]
        /// When each peer's latest hello arrived: it reads stamped Raft frames until then + 5 s.
        var helloHeard: [Raft.NodeID: MonotonicTime] = [:]
        /// Leader side: the build format version each member reported (the format gate).
        var builds: MemberBuilds
        /// Executor side: the features each leader advertised in its latest echo.
        var leaderFeatures: [Raft.NodeID: PeerFeatures] = [:]
    }

    /// This node's data-directory incarnation (0: stamp nothing, send no hello).
    let incarnation: UInt64
    /// How often a hello is repeated to a peer this node talks to.
    static let helloInterval: Duration = .seconds(1)
    /// How long a peer's hello lets this node send it stamped frames.
    static let helloValidity: Duration = .seconds(5)

    let transport: Transport.PeerTransport
    private let state: Mutex<State>
    private let lease: Duration
    private let margin: Duration
    private let clock: NodeClock
    private let logger: Logger

    /// A link over `transport`; `lease` is the executor lease and `margin` the fencing margin; `clockTolerance` bounds how far
    /// ahead of its peers' clocks this node, leading, stamps commands (``boundedStamp(_:voters:)``),
    /// using reports at most `clockReportAge` old (default half the lease: probes come every eighth).
    /// Every time it keeps or compares is read from `clock` (the node's ``NodeClock``).
    /// `incarnation` is this node's data-directory incarnation, carried with every Raft message
    /// to peers that said they read it (docs/raft.md, "Incarnations").
    init(transport: Transport.PeerTransport, lease: Duration = .seconds(5), margin: Duration = .milliseconds(6_850),
         clockTolerance: Duration = .seconds(1), clockReportAge: Duration? = nil, clock: NodeClock, incarnation: UInt64 = 0,
         logger: Logger) {
        self.transport = transport
        self.incarnation = incarnation
        self.lease = lease
        self.margin = margin
        self.clock = clock
        self.logger = logger
        let started = clock.monotonic()
        state = Mutex(State(executorLease: ExecutorLease(lease: lease, started: started),
                            clocks: ClockBound(tolerance: clockTolerance, maxReportAge: clockReportAge ?? lease / 2,
                                               startClock: (clock.wall(), started)),
                            builds: MemberBuilds(probeFreshness: lease / 2)))
    }

    /// Connects the driver and the forward handler (they are created after this link).
    func attach(driver: RaftDriver, forwardHandler: @escaping ForwardHandler) {
        state.withLock { $0.driver = driver }
        setForwardHandler(forwardHandler)
    }

    /// Sets what answers forwarded proposals.
    func setForwardHandler(_ handler: @escaping ForwardHandler) {
        state.withLock { $0.forwardHandler = handler }
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

    /// Sends a lease probe to `leader` carrying this node's applied index, wall clock and the
    /// latest echo it received from `leader`. When it is echoed, ``lastLeaderRoundTrip``
    /// becomes this probe's send time: proof that messages went both ways since then.
    ///
    /// While `leader` has not answered a version-1 probe for `legacyAfter` (an older build), a
    /// legacy ping goes too, so an upgrade does not fence executors.
    func probeLease(of leader: Raft.NodeID, appliedIndex: Raft.LogIndex, wallClock: Timestamp, legacyAfter: Duration) {
        let now = clock.monotonic()
        let (probe, sendLegacy) = state.withLock {
            $0.executorLease.probe(leader, at: now, appliedIndex: appliedIndex, wallClock: wallClock, legacyAfter: legacyAfter)
        }
        transport.send(Transport.Frame(type: PeerFrameType.leaseProbe.rawValue, bytes: probe.encoded()), to: leader)
        if sendLegacy {
            var w = BinaryWriter(capacity: 10)
            w.write(probe.sequence)
            transport.send(Transport.Frame(type: PeerFrameType.leasePing.rawValue, bytes: w.bytes), to: leader)
        }
    }

    /// The send time of the latest lease probe a leader answered (see ``probeLease(of:appliedIndex:wallClock:legacyAfter:)``).
    var lastLeaderRoundTrip: MonotonicTime? { state.withLock { $0.executorLease.lastRoundTrip } }

    /// Executor side: whether a round trip (or leading) proves this node's lease now.
    func executorLeaseProven() -> Bool {
        let now = clock.monotonic()
        return state.withLock { $0.executorLease.isProven(at: now) }
    }

    /// Executor side: whether the lease ran out (no round trip with a leader, no term as leader,
    /// within the lease); `leading` records that this node leads now.
    func executorMustFence(leading: Bool) -> Bool {
        let now = clock.monotonic()
        return state.withLock { state in
            if leading { state.executorLease.leading(at: now) }
            return state.executorLease.mustFence(at: now)
        }
    }

    /// Leader side: whether `peer`'s executor lease holds at `now` (see ``LeaseLedger``). A peer
    /// that never sent a version-1 probe (an older build) is judged by the last frame heard.
    func leaseHolds(_ peer: Raft.NodeID, at now: MonotonicTime, lease: Duration, leadingSince: MonotonicTime) -> Bool {
        state.withLock { state in
            if state.probingPeers.contains(peer) {
                return state.ledger.holds(peer, at: now, lease: lease, leadingSince: leadingSince)
            }
            let heard = max(state.lastHeard[peer] ?? leadingSince, leadingSince)
            return now - heard <= lease
        }
    }

    /// Leader side: this node took office at `since` (nil: it no longer leads). Echoes follow the
    /// ledger's policy only while leading.
    func setLeading(since: MonotonicTime?) {
        state.withLock { state in
            // What members reported before this term may be stale (see ``MemberBuilds``).
            if since != nil, state.leadingSince == nil { state.builds.forgetAll() }
            state.leadingSince = since
        }
    }

    /// Leader side: the build format versions members reported this term.
    func memberBuilds() -> MemberBuilds {
        state.withLock { $0.builds }
    }

    /// Executor side: whether `leader` advertised unstamped forwards in its latest echo.
    /// Executor side: the newest command format `leader` is known to decode, from the features
    /// of its latest echo — a leader advertising ``NodeCore/PeerFeatures/clusterDefaults`` runs
    /// this build's format, one advertising ``NodeCore/PeerFeatures/lostAttemptCaps`` format 4;
    /// one advertising only unstamped forwards may run format 2, and one that advertised nothing
    /// (an older build) format 1. Forwards are downgraded to it
    /// (``RaftReplica``), so a rolling upgrade never sends a leader a command it cannot decode.
    func leaderFormat(_ leader: Raft.NodeID) -> UInt32 {
        let features = state.withLock { $0.leaderFeatures[leader] ?? [] }
        if features.contains(.clusterDefaults) { return CommandCodec.buildFormatVersion }
        if features.contains(.lostAttemptCaps) { return CommandCodec.lostAttemptCaps }
        return features.contains(.unstampedForwarding) ? 2 : CommandCodec.baselineFormatVersion
    }

    func leaderTakesUnstamped(_ leader: Raft.NodeID) -> Bool {
        state.withLock { $0.leaderFeatures[leader]?.contains(.unstampedForwarding) ?? false }
    }

    /// Leader side: whether `peer`'s attempts may be expired as lost (``NodeCore/LeaseLedger/isLost(_:at:lease:margin:leadingSince:)``);
    /// a peer that never sent a version-1 probe is judged by the last frame heard.
    func executorLost(_ peer: Raft.NodeID, at now: MonotonicTime, lease: Duration, margin: Duration,
                      leadingSince: MonotonicTime) -> Bool {
        state.withLock { state in
            if state.probingPeers.contains(peer) {
                return state.ledger.isLost(peer, at: now, lease: lease, margin: margin, leadingSince: leadingSince)
            }
            let heard = max(state.lastHeard[peer] ?? leadingSince, leadingSince)
            return now - heard > lease + margin
        }
    }

    /// Leader side: the applied index `peer` reported in its latest probe.
    func reportedAppliedIndex(of peer: Raft.NodeID) -> Raft.LogIndex? {
        state.withLock { $0.ledger.appliedIndex(of: peer).map { Raft.LogIndex($0) } }
    }

    /// Leader side: `own` (this node's wall clock now), bounded by the clocks `voters` reported
    /// (see ``ClockBound``); `jumped` when the bound applied.
    func boundedStamp(_ own: Timestamp, voters: Set<Raft.NodeID>) -> (stamp: Timestamp, jumped: Bool) {
        let me = transport.configuration.nodeID
        let now = clock.monotonic()
        return state.withLock { $0.clocks.bound(own, at: now, voters: voters, self: me) }
    }

    /// A live entry stamped `stamp` was just applied while this node's wall clock read `own`
    /// (see ``NodeCore/ClockBound/observe(logStamp:own:at:)``).
    func observe(logStamp stamp: Timestamp, own: Timestamp) {
        let now = clock.monotonic()
        state.withLock { $0.clocks.observe(logStamp: stamp, own: own, at: now) }
    }

    /// Records a probe's echo from `peer` (`echoID` nil for a legacy pong, which says nothing
    /// about features; an echo's ``LeaseEcho/features`` replace what `peer` advertised before).
    private func probeAnswered(_ sequence: UInt64, by peer: Raft.NodeID, echoID: UInt64?, features: PeerFeatures? = nil) {
        let now = clock.monotonic()
        state.withLock { state in
            state.executorLease.echoed(sequence, by: peer, echoID: echoID, at: now)
            if echoID != nil { state.leaderFeatures[peer] = features ?? [] }
        }
    }

    /// Leader side: records `peer`'s probe and returns the echo to send back, if any (the ledger
    /// stops echoing an executor whose probes show the echoes are not arriving).
    private func probeReceived(_ probe: LeaseProbe, from peer: Raft.NodeID) -> LeaseEcho? {
        let now = clock.monotonic()
        let lease = self.lease, margin = self.margin
        return state.withLock { state in
            state.probingPeers.insert(peer)
            state.ledger.probe(from: peer, lastEcho: probe.lastEcho, appliedIndex: probe.appliedIndex, at: now)
            state.clocks.record(peer, wallClock: Timestamp(probe.wallClockMilliseconds), at: now)
            state.builds.probe(from: peer, formatVersion: probe.commandFormatVersion, at: now)
            guard let since = state.leadingSince,
                  state.ledger.shouldEcho(peer, lastEcho: probe.lastEcho, at: now, leadingSince: since, lease: lease, margin: margin)
            else { return nil }
            return LeaseEcho.answering(probe, echoID: state.ledger.echo(to: peer, at: now), features: .thisBuild)
        }
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

    /// Forwards a command with relative times to `leader` (frame 8), as ``forward(_:to:timeout:poll:)``.
    /// Call only when ``leaderTakesUnstamped(_:)``: an older leader drops the frame.
    func forward(unstamped command: UnstampedCommand, to leader: Raft.NodeID, timeout: Duration,
                 poll: Duration) async -> ForwardedOutcome.Result {
        await forward(to: leader, timeout: timeout, poll: poll) { requestID in
            Transport.Frame(type: PeerFrameType.forwardUnstamped.rawValue,
                            bytes: ForwardedUnstamped(requestID: requestID, command: command).encoded())
        }
    }

    /// Sends the frame `makeFrame` builds for a fresh request id to `leader` and waits for the
    /// answer with that id (the two forwards above; tests send malformed frames through it).
    func forward(to leader: Raft.NodeID, timeout: Duration, poll: Duration,
                         frame makeFrame: (UInt64) -> Transport.Frame) async -> ForwardedOutcome.Result {
        guard transport.isConnected(to: leader) else {
            return .notProposed(leaderHint: leader, message: "no connection to leader \(leader)")
        }
        let driver = state.withLock { $0.driver }
        let requestID = state.withLock { state -> UInt64 in
            defer { state.nextRequestID += 1 }
            return state.nextRequestID
        }
        let frame = makeFrame(requestID)
        return await withTaskGroup(of: ForwardedOutcome.Result?.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    self.state.withLock { $0.pending[requestID] = continuation }
                    let outcome = self.transport.send(frame, to: leader)
                    switch outcome {
                    case .queued, .queuedDroppingOldest: return
                    default: break
                    }
                    self.resolve(requestID, .notProposed(leaderHint: leader,
                                                         message: "could not queue the request for leader \(leader) (\(outcome))"))
                }
            }
            group.addTask {
                let deadline = self.clock.monotonic() + timeout
                while self.clock.monotonic() < deadline {
                    try? await self.clock.sleep(for: poll)
                    if Task.isCancelled { return nil }
                    if let driver, await driver.status.leader != leader { return nil }
                }
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            if let first {
                return first
            }
            resolve(requestID, .outcomeUnknown(message: "leader \(leader) did not answer (within \(timeout), or before another "
                + "leader took over); the outcome is unknown"))
            return await group.next().flatMap { $0 } ?? .outcomeUnknown(message: "the forwarded request was abandoned")
        }
    }

    private func resolve(_ requestID: UInt64, _ result: ForwardedOutcome.Result) {
        let continuation = state.withLock { $0.pending.removeValue(forKey: requestID) }
        continuation?.resume(returning: result)
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

    // MARK: Inbound

    /// Handles every inbound frame until the transport's stream ends.
    func runInbound() async {
        await withDiscardingTaskGroup { group in
            for await message in transport.inbound {
                let heardAt = clock.monotonic()
                let driver = state.withLock { state -> RaftDriver? in
                    state.lastHeard[message.from] = heardAt
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
                case .forwardOutcome:
                    guard let outcome = try? ForwardedOutcome(decoding: bytes) else {
                        logger.warning("dropped an undecodable forward answer", metadata: ["from": "\(message.from)"])
                        continue
                    }
                    resolve(outcome.requestID, outcome.result)
                case .leasePing:
                    // Echo at once: the prober only needs proof that both directions work.
                    let now = clock.monotonic()
                    state.withLock { $0.builds.legacyPing(from: message.from, at: now) }
                    transport.send(Transport.Frame(type: PeerFrameType.leasePong.rawValue, bytes: bytes), to: message.from)
                case .leasePong:
                    var r = BinaryReader(bytes)
                    if let sequence = try? r.readUInt64() { probeAnswered(sequence, by: message.from, echoID: nil) }
                case .leaseProbe:
                    guard let probe = try? LeaseProbe(decoding: bytes) else {
                        logger.warning("dropped an undecodable lease probe", metadata: ["from": "\(message.from)"])
                        continue
                    }
                    guard let echo = probeReceived(probe, from: message.from) else { continue }
                    transport.send(Transport.Frame(type: PeerFrameType.leaseEcho.rawValue, bytes: echo.encoded()), to: message.from)
                case .leaseEcho:
                    guard let echo = try? LeaseEcho(decoding: bytes) else {
                        logger.warning("dropped an undecodable lease echo", metadata: ["from": "\(message.from)"])
                        continue
                    }
                    probeAnswered(echo.sequence, by: message.from, echoID: echo.echoID, features: echo.features)
                case nil:
                    logger.warning("dropped a frame of unknown type", metadata: ["from": "\(message.from)", "type": "\(message.type)"])
                }
            }
        }
    }
}
