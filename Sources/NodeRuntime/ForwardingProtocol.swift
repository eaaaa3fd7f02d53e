import BinaryCoding
import NodeCore
import RaftCore
import SchedulerPlanning

/// The frame types this node puts on the peer transport.
enum PeerFrameType: UInt8 {
    /// A Raft message (``RaftWire`` encoding).
    case raft = 1
    /// A follower asks the leader to propose a command (``ForwardedProposal``).
    case forwardProposal = 2
    /// The leader's answer (``ForwardedOutcome``).
    case forwardOutcome = 3
    /// An older build's lease probe: a sequence number (varint) the receiver echoes at once.
    /// Still answered, and sent as a fallback while a leader does not answer ``leaseProbe``.
    case leasePing = 4
    /// The echo of a ``leasePing``.
    case leasePong = 5
    /// An executor's lease probe (``LeaseProbe``).
    case leaseProbe = 6
    /// The leader's echo of a ``leaseProbe`` (``LeaseEcho``).
    case leaseEcho = 7
    /// "I read ``raftStamped`` frames; my data directory's incarnation is X" (a varint). Sent
    /// at most every second to each peer this node sends Raft messages to; older builds log it
    /// as a frame of unknown type and ignore it (docs/raft.md, "Incarnations").
    case hello = 16
    /// A Raft message with the sender's incarnation: a varint, then the ``RaftWire`` bytes.
    /// Sent only to peers whose hello arrived within the last 5 seconds; others get ``raft``.
    case raftStamped = 17
    /// "My data directory belongs to cluster X": the 16 bytes of the sender's ``RaftStorage/ClusterID``
    /// and a flags byte (bit 0: provisional, see ``ClusterIdentity``). Sent with every ``hello``.
    /// A confirmed receiver of another confirmed cluster drops every frame of that peer until a
    /// hello it accepts arrives (docs/security.md, "Cluster identity"); older builds log it as a
    /// frame of unknown type and ignore it.
    case clusterHello = 18
    /// "You were removed from cluster X at index I" (``RemovalNotice``): the only frame a member
    /// writes on a connection a node whose removal committed (and whose farewell window passed)
    /// dials in on, before closing it (``Transport/PeerTransport/setRemovalNotices(_:)``). The
    /// receiver exits as on a farewell if it believes it
    /// (``RemovalNotice/isBelieved(from:by:ownCluster:members:)``). Sent without asking for a
    /// feature bit: older builds log it as a frame of unknown type and ignore it.
    case removalNotice = 19
    /// A follower asks the leader to resolve and propose a command with relative times
    /// (``ForwardedUnstamped``); answered with ``forwardOutcome``. Sent only to a leader whose
    /// latest echo advertised ``NodeCore/PeerFeatures/unstampedForwarding`` (older builds drop it).
    case forwardUnstamped = 8
    /// Many forwarded commands with relative times in one frame (``ForwardBatch``), answered with
    /// ``forwardBatchOutcome``. Sent only to a leader whose latest echo advertised
    /// ``NodeCore/PeerFeatures/batchedForwarding`` (older builds log it as unknown and drop it).
    case forwardBatch = 20
    /// The leader's answer to a ``forwardBatch``: every request's outcome (``ForwardBatchOutcome``).
    case forwardBatchOutcome = 21
}

/// A command a follower forwards with its times still relative: the leader resolves them with
/// its own stamp (``NodeCore/LeaderRefusal/resolve(_:at:defaults:builds:members:self:)``), proposes the
/// result and answers with a ``ForwardedOutcome``.
struct ForwardedUnstamped: Hashable, Sendable {
    /// Matches the answer to the waiting request.
    var requestID: UInt64
    /// The command as the follower's client asked for it.
    var command: UnstampedCommand

    func encoded() -> [UInt8] {
        let inner = command.encoded()
        var w = BinaryWriter(capacity: inner.count + 16)
        w.write(requestID)
        w.write(inner)
        return w.bytes
    }

    init(requestID: UInt64, command: UnstampedCommand) {
        self.requestID = requestID
        self.command = command
    }

    init(decoding bytes: [UInt8]) throws(DecodeError) {
        var r = BinaryReader(bytes)
        requestID = try r.readUInt64()
        let innerOffset = r.offset
        do {
            command = try UnstampedCommand(decoding: try r.readBytes())
        } catch {
            throw DecodeError("forwarded unstamped command: \(error.message)", offset: innerOffset + error.offset)
        }
        guard r.isAtEnd else { throw DecodeError("\(r.remaining) trailing bytes after a forwarded unstamped command", offset: r.offset) }
    }
}

/// A command a follower forwards to the leader: the leader stamps it with its own clock and
/// proposes it, then answers with the index it was applied at.
struct ForwardedProposal: Hashable, Sendable {
    /// Matches the answer to the waiting request.
    var requestID: UInt64
    /// The command, encoded with ``SchedulerCore/CommandCodec`` (the leader re-stamps the time).
    var command: [UInt8]

    func encoded() -> [UInt8] {
        var w = BinaryWriter(capacity: command.count + 16)
        w.write(requestID)
        w.write(command)
        return w.bytes
    }

    init(requestID: UInt64, command: [UInt8]) {
        self.requestID = requestID
        self.command = command
    }

    init(decoding bytes: [UInt8]) throws(DecodeError) {
        var r = BinaryReader(bytes)
        requestID = try r.readUInt64()
        command = try r.readBytes()
        guard r.isAtEnd else { throw DecodeError("\(r.remaining) trailing bytes after a forwarded proposal", offset: r.offset) }
    }
}

/// The leader's answer to a ``ForwardedProposal``.
struct ForwardedOutcome: Hashable, Sendable {
    /// How it went.
    enum Result: Hashable, Sendable {
        /// Committed and applied on the leader at this index.
        case applied(Raft.LogIndex)
        /// Certainly not proposed (the node is not the leader, or refused): safe to retry.
        case notProposed(leaderHint: Raft.NodeID?, message: String)
        /// Proposed, but whether it committed is unknown (leadership lost, no answer in time).
        case outcomeUnknown(message: String)
        /// Certainly not proposed, and never will be: the re-stamped command is `size` bytes,
        /// over the leader's `max_entry_bytes` (`limit`). The follower answers 413, not 503.
        ///
        /// A separate tag (3) rather than `notProposed`, which a follower retries until its
        /// leader wait runs out. A follower of an older build cannot decode it and answers
        /// "outcome unknown" after its forward timeout, as it did for such a command before.
        case entryTooLarge(size: Int, limit: Int)
        /// Certainly not proposed: invalid at the leader's stamp (tag 4; the follower answers 422
        /// naming the field). Only in answer to a ``ForwardedUnstamped``, which older builds never send.
        case invalid(UnstampedCommand.ResolveError)
        /// Certainly not proposed: a member's build could not apply it (tag 5; the follower
        /// answers 503 with the message). Only in answer to a ``ForwardedUnstamped``; an older
        /// follower's ``ForwardedProposal`` gets `notProposed` with the same message instead.
        case upgradeInProgress(message: String)
        /// Certainly not proposed: a `[quotas]` limit refused it (tag 6; the follower answers
        /// 429 or 507 with the leader's numbers). Only in answer to a ``ForwardedUnstamped``.
        case quotaExceeded(QuotaRefusal)
    }

    var requestID: UInt64
    var result: Result

    func encoded() -> [UInt8] {
        var w = BinaryWriter(capacity: 32)
        w.write(requestID)
        switch result {
        case .applied(let index):
            w.write(UInt8(0))
            w.write(index.rawValue)
        case .notProposed(let leaderHint, let message):
            w.write(UInt8(1))
            w.write(leaderHint?.rawValue ?? "")
            w.write(message)
        case .outcomeUnknown(let message):
            w.write(UInt8(2))
            w.write(message)
        case .entryTooLarge(let size, let limit):
            w.write(UInt8(3))
            w.write(UInt64(clamping: size))
            w.write(UInt64(clamping: limit))
        case .invalid(let error):
            w.write(UInt8(4))
            w.write(error.batchIndex.map { UInt64(clamping: $0) &+ 1 } ?? 0)
            w.write(error.field)
            w.write(error.message)
        case .upgradeInProgress(let message):
            w.write(UInt8(5))
            w.write(message)
        case .quotaExceeded(let refusal):
            w.write(UInt8(6))
            w.write(refusal.quota.rawValue)
            w.write(UInt64(clamping: refusal.current))
            w.write(UInt64(clamping: refusal.adding))
            w.write(UInt64(clamping: refusal.limit))
        }
        return w.bytes
    }

    init(requestID: UInt64, result: Result) {
        self.requestID = requestID
        self.result = result
    }

    init(decoding bytes: [UInt8]) throws(DecodeError) {
        var r = BinaryReader(bytes)
        requestID = try r.readUInt64()
        switch try r.readByte() {
        case 0:
            result = .applied(Raft.LogIndex(try r.readUInt64()))
        case 1:
            let hint = try r.readString()
            result = .notProposed(leaderHint: hint.isEmpty ? nil : Raft.NodeID(hint), message: try r.readString())
        case 2:
            result = .outcomeUnknown(message: try r.readString())
        case 3:
            let size = Int(clamping: try r.readUInt64())
            result = .entryTooLarge(size: size, limit: Int(clamping: try r.readUInt64()))
        case 4:
            let index = try r.readUInt64()
            let field = try r.readString()
            result = .invalid(UnstampedCommand.ResolveError(batchIndex: index == 0 ? nil : Int(clamping: index - 1), field: field,
                                                            message: try r.readString()))
        case 5:
            result = .upgradeInProgress(message: try r.readString())
        case 6:
            let name = try r.readString()
            guard let quota = QuotaRefusal.Quota(rawValue: name) else {
                throw DecodeError("unknown quota '\(name)' in a forwarded outcome", offset: r.offset)
            }
            let current = Int(clamping: try r.readUInt64())
            let adding = Int(clamping: try r.readUInt64())
            result = .quotaExceeded(QuotaRefusal(quota: quota, current: current, adding: adding, limit: Int(clamping: try r.readUInt64())))
        case let tag:
            throw DecodeError("unknown forwarded outcome tag \(tag)", offset: r.offset - 1)
        }
        guard r.isAtEnd else { throw DecodeError("\(r.remaining) trailing bytes after a forwarded outcome", offset: r.offset) }
    }
}
