import BinaryCoding
import Logging
import NIOCore
import Node
import RaftCore
import RaftWire
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
        /// Lease probes in flight: sequence → (the leader probed, when it was sent).
        var probes: [UInt64: (peer: Raft.NodeID, sentAt: ContinuousClock.Instant)] = [:]
        var nextProbe: UInt64 = 1
        /// The send time of the latest probe a leader answered.
        var lastLeaderRoundTrip: ContinuousClock.Instant?
    }

    let transport: Transport.PeerTransport
    private let state = Mutex(State())
    private let logger: Logger

    init(transport: Transport.PeerTransport, logger: Logger) {
        self.transport = transport
        self.logger = logger
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
    func send(_ message: Raft.Message) {
        transport.send(Transport.Frame(type: PeerFrameType.raft.rawValue, bytes: RaftWireCodec.encode(message)), to: message.to)
    }

    /// When `peer` was last heard from, if ever since this process started.
    func lastHeard(from peer: Raft.NodeID) -> ContinuousClock.Instant? {
        state.withLock { $0.lastHeard[peer] }
    }

    // MARK: Lease probes

    /// Sends a lease probe to `leader`. When it answers, ``lastLeaderRoundTrip`` becomes this
    /// probe's send time: proof that messages went both ways since then.
    func probeLease(of leader: Raft.NodeID) {
        let sequence = state.withLock { state -> UInt64 in
            defer { state.nextProbe += 1 }
            state.probes[state.nextProbe] = (leader, .now)
            if state.probes.count > 64, let oldest = state.probes.keys.min() { state.probes[oldest] = nil }
            return state.nextProbe
        }
        var w = BinaryWriter(capacity: 10)
        w.write(sequence)
        transport.send(Transport.Frame(type: PeerFrameType.leasePing.rawValue, bytes: w.bytes), to: leader)
    }

    /// The send time of the latest lease probe a leader answered (see ``probeLease(of:)``).
    var lastLeaderRoundTrip: ContinuousClock.Instant? { state.withLock { $0.lastLeaderRoundTrip } }

    /// Records a probe's echo from `peer`.
    private func probeAnswered(_ sequence: UInt64, by peer: Raft.NodeID) {
        state.withLock { state in
            guard let probe = state.probes.removeValue(forKey: sequence), probe.peer == peer else { return }
            if state.lastLeaderRoundTrip.map({ $0 < probe.sentAt }) ?? true { state.lastLeaderRoundTrip = probe.sentAt }
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
                        driver?.receive(try RaftWireCodec.decode(bytes), authenticatedAs: message.from)
                    } catch {
                        logger.warning("dropped an undecodable Raft message", metadata: ["from": "\(message.from)", "error": "\(error)"])
                    }
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
                    if let sequence = try? r.readUInt64() { probeAnswered(sequence, by: message.from) }
                case nil:
                    logger.warning("dropped a frame of unknown type", metadata: ["from": "\(message.from)", "type": "\(message.type)"])
                }
            }
        }
    }
}
