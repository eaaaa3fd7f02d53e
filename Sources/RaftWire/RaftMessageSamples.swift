import DeterministicRandom
import RaftCore

/// Seeded generation of arbitrary Raft messages, for round-trip and fuzz tests of the codec.
///
/// Lives in the library (not a test target) so the fuzz executable and the unit tests share one
/// generator; it reads no clock and no global randomness.
public struct RaftMessageSamples {
    private var random: SplitMix64

    /// A generator whose output is a pure function of `seed`.
    public init(seed: UInt64) { random = SplitMix64(seed: seed) }

    /// The next pseudo-random 64-bit value.
    public mutating func next() -> UInt64 { random.next() }

    /// A value in `0..<bound` (bound > 0).
    public mutating func below(_ bound: Int) -> Int { random.below(bound) }

    /// An integer with a skewed size: often small, sometimes near the type's limit.
    mutating func number() -> UInt64 {
        switch below(4) {
        case 0: UInt64(below(4))
        case 1: UInt64(below(1000))
        case 2: next() >> UInt64(below(64))
        default: UInt64.max - UInt64(below(3))
        }
    }

    mutating func bytes(maxCount: Int) -> [UInt8] {
        (0..<below(maxCount + 1)).map { _ in UInt8(truncatingIfNeeded: next()) }
    }

    mutating func nodeID() -> Raft.NodeID {
        Raft.NodeID(["n1", "n2", "n3", "node-42", "", "ü-ñ"][below(6)])
    }

    mutating func entry() -> Raft.Entry {
        let kinds: [Raft.EntryKind] = [.normal, .configChange, .noop]
        return Raft.Entry(
            term: Raft.Term(number()), index: Raft.LogIndex(number()), kind: kinds[below(3)], data: bytes(maxCount: 64))
    }

    mutating func membership() -> Raft.Membership {
        let voters = Set((0..<below(4)).map { _ in nodeID() })
        var incarnations: [Raft.NodeID: UInt64] = [:]
        // Half the samples record incarnations (configuration format 3), half do not (format 2).
        if below(2) == 0 {
            for voter in voters.sorted() { incarnations[voter] = number() }
        }
        return Raft.Membership(
            voters: voters, learners: Set((0..<below(3)).map { _ in nodeID() }),
            removed: Set((0..<below(3)).map { _ in nodeID() }), incarnations: incarnations)
    }

    /// One message of a kind chosen at random, with fields drawn from the whole range.
    public mutating func message() -> Raft.Message {
        let body: Raft.Body
        switch below(12) {
        case 0:
            body = .voteRequest(
                Raft.VoteRequest(
                    lastLogIndex: Raft.LogIndex(number()), lastLogTerm: Raft.Term(number()), isPreVote: below(2) == 0,
                    isLeadershipTransfer: below(2) == 0))
        case 1: body = .voteResponse(Raft.VoteResponse(granted: below(2) == 0, isPreVote: below(2) == 0))
        case 2:
            body = .append(
                Raft.Append(
                    prevLogIndex: Raft.LogIndex(number()), prevLogTerm: Raft.Term(number()),
                    entries: (0..<below(5)).map { _ in entry() }, leaderCommit: Raft.LogIndex(number())))
        case 3: body = .appendResponse(.success(matchIndex: Raft.LogIndex(number())))
        case 4:
            body = .appendResponse(
                .rejected(rejectedIndex: Raft.LogIndex(number()), hintIndex: Raft.LogIndex(number()), hintTerm: Raft.Term(number())))
        case 5: body = .heartbeat(Raft.Heartbeat(commit: Raft.LogIndex(number()), readSequence: number()))
        case 6:
            body = .heartbeatResponse(
                Raft.HeartbeatResponse(readSequence: number(), lostEntriesAfter: below(2) == 0 ? nil : Raft.LogIndex(number())))
        case 7:
            body = .installSnapshot(
                Raft.InstallSnapshot(
                    metadata: Raft.SnapshotMetadata(index: Raft.LogIndex(number()), term: Raft.Term(number()), membership: membership()),
                    offset: Int(number() >> 1), chunk: bytes(maxCount: 256), isLast: below(2) == 0))
        case 8: body = .snapshotResponse(Raft.SnapshotResponse(index: Raft.LogIndex(number()), receivedBytes: Int(number() >> 1)))
        case 9: body = .readIndexRequest(Raft.ReadContext(number()))
        case 10: body = .readIndexResponse(context: Raft.ReadContext(number()), index: below(2) == 0 ? nil : Raft.LogIndex(number()))
        default: body = .timeoutNow
        }
        return Raft.Message(from: nodeID(), to: nodeID(), term: Raft.Term(number()), body: body)
    }

    /// `bytes` changed the way a fuzzer would: flipped bits, changed or extreme bytes, dropped,
    /// duplicated or truncated runs, random tails.
    public mutating func mutate(_ bytes: [UInt8]) -> [UInt8] {
        var result = bytes
        for _ in 0...below(3) {
            guard !result.isEmpty else { return self.bytes(maxCount: 16) }
            let position = below(result.count)
            switch below(7) {
            case 0: result[position] ^= UInt8(1) << UInt8(below(8))
            case 1: result[position] = UInt8(truncatingIfNeeded: next())
            case 2: result[position] = [0x00, 0x7F, 0x80, 0xFF][below(4)]
            case 3: result.removeSubrange(position..<min(result.count, position + 1 + below(8)))
            case 4: result.insert(contentsOf: result[position..<min(result.count, position + 1 + below(8))], at: position)
            case 5: result.removeLast(below(result.count) + 1)
            default: result.append(contentsOf: self.bytes(maxCount: 12))
            }
        }
        return result
    }
}
