import BinaryCoding
import Logging
import NIOCore
import Node
import NodeCore
import RaftCore
import RaftWire
import SchedulerCore
import Synchronization
import Transport

/// This node's side of the peer transport: Raft messages out and in, proposals forwarded to
/// the leader and answered, and when each peer was last heard from (the leader's lease view).
final class PeerLink: PeerMessenger, Sendable {
    /// Answers a forwarded proposal (set by the runtime: propose on the local driver).
    typealias ForwardHandler = @Sendable (_ command: [UInt8]) async -> ForwardedOutcome.Result

    private struct State {
        var driver: RaftDriver?
        var forwardHandler: ForwardHandler?
        var pending: [UInt64: CheckedContinuation<ForwardedOutcome.Result, Never>] = [:]
        var nextRequestID: UInt64 = 1
        var lastHeard: [Raft.NodeID: ContinuousClock.Instant] = [:]
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
        var helloSent: [Raft.NodeID: ContinuousClock.Instant] = [:]
        /// When each peer's latest hello arrived: it reads stamped Raft frames until then + 5 s.
        var helloHeard: [Raft.NodeID: ContinuousClock.Instant] = [:]
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
    private let logger: Logger

    /// A link over `transport`; `lease` is the executor lease and `margin` the fencing margin; `clockTolerance` bounds how far
    /// ahead of its peers' clocks this node, leading, stamps commands (``boundedStamp(_:voters:)``),
    /// using reports at most `clockReportAge` old (default half the lease: probes come every eighth).
    /// `incarnation` is this node's data-directory incarnation, carried with every Raft message
    /// to peers that said they read it (docs/raft.md, "Incarnations").
    init(transport: Transport.PeerTransport, lease: Duration = .seconds(5), margin: Duration = .milliseconds(6_850),
         clockTolerance: Duration = .seconds(1), clockReportAge: Duration? = nil, incarnation: UInt64 = 0, logger: Logger) {
        self.transport = transport
        self.incarnation = incarnation
        self.lease = lease
        self.margin = margin
        self.logger = logger
        state = Mutex(State(executorLease: ExecutorLease(lease: lease, started: Monotonic.now()),
                            clocks: ClockBound(tolerance: clockTolerance, maxReportAge: clockReportAge ?? lease / 2,
                                               startClock: (StampClock.system(), Monotonic.now()))))
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
        let now = ContinuousClock.now
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
    func lastHeard(from peer: Raft.NodeID) -> ContinuousClock.Instant? {
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
        let now = Monotonic.now()
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
        let now = Monotonic.now()
        return state.withLock { $0.executorLease.isProven(at: now) }
    }

    /// Executor side: whether the lease ran out (no round trip with a leader, no term as leader,
    /// within the lease); `leading` records that this node leads now.
    func executorMustFence(leading: Bool) -> Bool {
        let now = Monotonic.now()
        return state.withLock { state in
            if leading { state.executorLease.leading(at: now) }
            return state.executorLease.mustFence(at: now)
        }
    }

    /// Leader side: whether `peer`'s executor lease holds at `now` (see ``LeaseLedger``). A peer
    /// that never sent a version-1 probe (an older build) is judged by the last frame heard.
    func leaseHolds(_ peer: Raft.NodeID, at now: ContinuousClock.Instant, lease: Duration,
                    leadingSince: ContinuousClock.Instant) -> Bool {
        state.withLock { state in
            if state.probingPeers.contains(peer) {
                return state.ledger.holds(peer, at: Monotonic.time(of: now), lease: lease,
                                          leadingSince: Monotonic.time(of: leadingSince))
            }
            let heard = max(state.lastHeard[peer] ?? leadingSince, leadingSince)
            return now - heard <= lease
        }
    }

    /// Leader side: this node took office at `since` (nil: it no longer leads). Echoes follow the
    /// ledger's policy only while leading.
    func setLeading(since: ContinuousClock.Instant?) {
        state.withLock { $0.leadingSince = since.map(Monotonic.time(of:)) }
    }

    /// Leader side: whether `peer`'s attempts may be expired as lost (``NodeCore/LeaseLedger/isLost(_:at:lease:margin:leadingSince:)``);
    /// a peer that never sent a version-1 probe is judged by the last frame heard.
    func executorLost(_ peer: Raft.NodeID, at now: ContinuousClock.Instant, lease: Duration, margin: Duration,
                      leadingSince: ContinuousClock.Instant) -> Bool {
        state.withLock { state in
            if state.probingPeers.contains(peer) {
                return state.ledger.isLost(peer, at: Monotonic.time(of: now), lease: lease, margin: margin,
                                           leadingSince: Monotonic.time(of: leadingSince))
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
        let now = Monotonic.now()
        return state.withLock { $0.clocks.bound(own, at: now, voters: voters, self: me) }
    }

    /// A live entry stamped `stamp` was just applied while this node's wall clock read `own`
    /// (see ``NodeCore/ClockBound/observe(logStamp:own:at:)``).
    func observe(logStamp stamp: Timestamp, own: Timestamp) {
        let now = Monotonic.now()
        state.withLock { $0.clocks.observe(logStamp: stamp, own: own, at: now) }
    }

    /// Records a probe's echo from `peer` (`echoID` nil for a legacy pong).
    private func probeAnswered(_ sequence: UInt64, by peer: Raft.NodeID, echoID: UInt64?) {
        let now = Monotonic.now()
        state.withLock { $0.executorLease.echoed(sequence, by: peer, echoID: echoID, at: now) }
    }

    /// Leader side: records `peer`'s probe and returns the echo to send back, if any (the ledger
    /// stops echoing an executor whose probes show the echoes are not arriving).
    private func probeReceived(_ probe: LeaseProbe, from peer: Raft.NodeID) -> LeaseEcho? {
        let now = Monotonic.now()
        let lease = self.lease, margin = self.margin
        return state.withLock { state in
            state.probingPeers.insert(peer)
            state.ledger.probe(from: peer, lastEcho: probe.lastEcho, appliedIndex: probe.appliedIndex, at: now)
            state.clocks.record(peer, wallClock: Timestamp(probe.wallClockMilliseconds), at: now)
            guard let since = state.leadingSince,
                  state.ledger.shouldEcho(peer, lastEcho: probe.lastEcho, at: now, leadingSince: since, lease: lease, margin: margin)
            else { return nil }
            return LeaseEcho(sequence: probe.sequence, echoID: state.ledger.echo(to: peer, at: now))
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
        guard transport.isConnected(to: leader) else {
            return .notProposed(leaderHint: leader, message: "no connection to leader \(leader)")
        }
        let driver = state.withLock { $0.driver }
        let requestID = state.withLock { state -> UInt64 in
            defer { state.nextRequestID += 1 }
            return state.nextRequestID
        }
        let frame = Transport.Frame(type: PeerFrameType.forwardProposal.rawValue,
                                    bytes: ForwardedProposal(requestID: requestID, command: command).encoded())
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
                let deadline = ContinuousClock.now + timeout
                while ContinuousClock.now < deadline {
                    try? await Task.sleep(for: poll)
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

    // MARK: Inbound

    /// Handles every inbound frame until the transport's stream ends.
    func runInbound() async {
        await withDiscardingTaskGroup { group in
            for await message in transport.inbound {
                let driver = state.withLock { state -> RaftDriver? in
                    state.lastHeard[message.from] = .now
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
                    state.withLock { $0.helloHeard[message.from] = .now }
                case .forwardProposal:
                    guard let request = try? ForwardedProposal(decoding: bytes) else {
                        logger.warning("dropped an undecodable forwarded proposal", metadata: ["from": "\(message.from)"])
                        continue
                    }
                    let handler = state.withLock { $0.forwardHandler }
                    group.addTask {
                        let result = await handler?(request.command)
                            ?? .notProposed(leaderHint: nil, message: "node \(self.transport.configuration.nodeID) is still starting")
                        let answer = ForwardedOutcome(requestID: request.requestID, result: result)
                        self.transport.send(Transport.Frame(type: PeerFrameType.forwardOutcome.rawValue, bytes: answer.encoded()),
                                            to: message.from)
                    }
                case .forwardOutcome:
                    guard let outcome = try? ForwardedOutcome(decoding: bytes) else {
                        logger.warning("dropped an undecodable forward answer", metadata: ["from": "\(message.from)"])
                        continue
                    }
                    resolve(outcome.requestID, outcome.result)
                case .leasePing:
                    // Echo at once: the prober only needs proof that both directions work.
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
                    probeAnswered(echo.sequence, by: message.from, echoID: echo.echoID)
                case nil:
                    logger.warning("dropped a frame of unknown type", metadata: ["from": "\(message.from)", "type": "\(message.type)"])
                }
            }
        }
    }
}
