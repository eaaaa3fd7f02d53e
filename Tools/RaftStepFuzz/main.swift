import Foundation
import RaftCore
import RaftWire

// Fuzzes the decode-and-step path: seeded generated and mutated Raft message bytes "from a
// certified peer" (the transport authenticated the connection as one member) are decoded with
// RaftWireCodec, checked against the authenticated sender as PeerLink does, and stepped into
// RaftCore instances in interesting states: a follower with a committed log, a leader with
// followers, a (pre-)candidate, a follower restored from a snapshot, a leader sending one. Any
// trap is a bug; so is a step that loses a committed entry or commits beyond the log.
//
//   RaftStepFuzz [COUNT] [SEED]     (defaults: 1000000 inputs, seed 1)

let arguments = CommandLine.arguments
let count = arguments.count > 1 ? Int(arguments[1]) ?? 1_000_000 : 1_000_000
let seed = arguments.count > 2 ? UInt64(arguments[2]) ?? 1 : 1

let members: [Raft.NodeID] = ["n1", "n2", "n3"]
let membership = Raft.Membership(voters: Set(members))

func config(_ id: Raft.NodeID) -> Raft.Config {
    var config = Raft.Config(id: id)
    config.snapshotChunkBytes = 8
    config.maxEntriesPerAppend = 4
    return config
}

/// Entries 1...8 in terms 1,1,2,2,3,3,3,3; a configuration entry at 3.
let log: [Raft.Entry] = (1...8).map { index in
    let term = UInt64([1, 1, 2, 2, 3, 3, 3, 3][index - 1])
    return index == 3
        ? Raft.Entry(term: Raft.Term(term), index: Raft.LogIndex(UInt64(index)), kind: .configChange, data: membership.encoded)
        : Raft.Entry(term: Raft.Term(term), index: Raft.LogIndex(UInt64(index)), data: Array("e\(index)".utf8))
}

/// Feeds `instance` every durability and apply notice its actions ask for.
func settle(_ instance: inout Raft.Instance, _ actions: [Raft.Action]) {
    var pending = actions
    var rounds = 0
    while !pending.isEmpty, rounds < 8 {
        rounds += 1
        var next: [Raft.Action] = []
        for action in pending {
            switch action {
            case .persistHardState(let state): next += instance.persisted(hardState: state)
            case .appendLog(let entries):
                if let last = entries.last { next += instance.persisted(through: last.index, term: last.term) }
            case .installSnapshot(let snapshot):
                next += instance.persisted(through: snapshot.metadata.index, term: snapshot.metadata.term)
            case .apply(let entries):
                if let last = entries.last { next += instance.applied(through: last.index) }
            default: break
            }
        }
        pending = next
    }
}

/// The states the fuzzer starts from.
func baseStates() -> [Raft.Instance] {
    let committed = Raft.PersistedState(hardState: Raft.HardState(term: Raft.Term(3), vote: "n1", commit: Raft.LogIndex(6)),
                                        entries: log, bootstrapMembership: membership)
    var follower = Raft.Instance(config: config("n2"), restoring: committed, seed: seed)
    settle(&follower, follower.receive(Raft.Message(from: "n1", to: "n2", term: Raft.Term(3),
                                                    body: .heartbeat(Raft.Heartbeat(commit: Raft.LogIndex(6))))))
    var candidate = Raft.Instance(config: config("n3"), restoring: committed, seed: seed &+ 1)
    while candidate.leadershipState.role == .follower { settle(&candidate, candidate.tick()) }

    var leader = Raft.Instance(config: config("n1"), restoring: committed, seed: seed &+ 2)
    while leader.leadershipState.role != .leader {
        var actions = leader.tick()
        for voter in ["n2", "n3"] as [Raft.NodeID] {
            for preVote in [true, false] {
                let term = preVote ? Raft.Term(leader.term.rawValue + 1) : leader.term
                actions += leader.receive(Raft.Message(from: voter, to: "n1", term: term,
                                                       body: .voteResponse(Raft.VoteResponse(granted: true, isPreVote: preVote))))
            }
        }
        settle(&leader, actions)
    }
    // n2 has caught up; n3 lags behind (probe).
    settle(&leader, leader.receive(Raft.Message(from: "n2", to: "n1", term: leader.term,
                                                body: .appendResponse(.success(matchIndex: leader.lastLogIndex)))))

    let snapshot = Raft.Snapshot(metadata: Raft.SnapshotMetadata(index: Raft.LogIndex(5), term: Raft.Term(3), membership: membership),
                                 data: Array("snapshot through five".utf8))
    let afterSnapshot = Raft.PersistedState(hardState: Raft.HardState(term: Raft.Term(3), vote: "n1", commit: Raft.LogIndex(6)),
                                            snapshot: snapshot, entries: Array(log[5...]), bootstrapMembership: membership)
    let restored = Raft.Instance(config: config("n3"), restoring: afterSnapshot, seed: seed &+ 3)
    var snapshotLeader = Raft.Instance(config: config("n1"), restoring: afterSnapshot, seed: seed &+ 4)
    while snapshotLeader.leadershipState.role != .leader {
        var actions = snapshotLeader.tick()
        for voter in ["n2", "n3"] as [Raft.NodeID] {
            for preVote in [true, false] {
                let term = preVote ? Raft.Term(snapshotLeader.term.rawValue + 1) : snapshotLeader.term
                actions += snapshotLeader.receive(Raft.Message(from: voter, to: "n1", term: term,
                                                               body: .voteResponse(Raft.VoteResponse(granted: true, isPreVote: preVote))))
            }
        }
        settle(&snapshotLeader, actions)
    }
    // n2 rejects everything down to index 1, which the leader compacted: it must send the snapshot.
    settle(&snapshotLeader, snapshotLeader.receive(Raft.Message(
        from: "n2", to: "n1", term: snapshotLeader.term,
        body: .appendResponse(.rejected(rejectedIndex: Raft.LogIndex(snapshotLeader.lastLogIndex.rawValue - 1), hintIndex: Raft.LogIndex(1),
                                        hintTerm: Raft.Term(1))))))
    if snapshotLeader.replicationState(of: "n2")?.mode != "snapshot" {
        print("FAIL seed=\(seed): the snapshot-sending leader is not sending a snapshot (setup drifted from RaftCore)")
        exit(1)
    }
    return [follower, candidate, leader, restored, snapshotLeader]
}

/// Generates messages near an instance's state, so that the interesting checks are reached.
struct Generator {
    var samples: RaftMessageSamples

    mutating func pick<T>(_ values: [T]) -> T { values[samples.below(values.count)] }

    mutating func near(_ value: UInt64) -> UInt64 {
        switch samples.below(8) {
        case 0: return UInt64.max - UInt64(samples.below(2))
        case 1: return Raft.maximumTermOrIndex + UInt64(samples.below(3)) - 1
        case 2: return samples.next() >> UInt64(samples.below(64))
        default:
            let delta = UInt64(samples.below(7))
            return value >= 3 ? (value - 3) &+ delta : delta
        }
    }

    mutating func message(to instance: Raft.Instance) -> Raft.Message {
        if samples.below(6) == 0 { return samples.message() }
        let last = instance.lastLogIndex.rawValue
        let term = Raft.Term(near(instance.term.rawValue))
        let index = Raft.LogIndex(near(last))
        let body: Raft.Body
        switch samples.below(11) {
        case 0:
            var entries: [Raft.Entry] = []
            let count = samples.below(5)
            let contiguous = samples.below(8) != 0
            for offset in 0..<count {
                let entryIndex = contiguous ? index.rawValue &+ UInt64(offset + 1) : near(last)
                entries.append(Raft.Entry(term: Raft.Term(samples.below(4) == 0 ? near(term.rawValue) : term.rawValue),
                                          index: Raft.LogIndex(entryIndex), kind: pick([.normal, .noop, .configChange]),
                                          data: samples.below(3) == 0 ? membership.encoded : [UInt8(offset)]))
            }
            // Half the time the previous entry matches, so the append reaches the log.
            let previousTerm = samples.below(2) == 0 ? instance.term(at: index) ?? Raft.Term(near(2)) : Raft.Term(near(2))
            body = .append(Raft.Append(prevLogIndex: index, prevLogTerm: previousTerm, entries: entries,
                                       leaderCommit: Raft.LogIndex(near(last))))
        case 1: body = .heartbeat(Raft.Heartbeat(commit: Raft.LogIndex(near(last)), readSequence: near(1)))
        case 2: body = .appendResponse(.success(matchIndex: index))
        case 3: body = .appendResponse(.rejected(rejectedIndex: index, hintIndex: Raft.LogIndex(near(last)), hintTerm: Raft.Term(near(2))))
        case 4: body = .heartbeatResponse(Raft.HeartbeatResponse(readSequence: near(1)))
        case 5:
            let snapshotIndex = Raft.LogIndex(near(last))
            body = .installSnapshot(Raft.InstallSnapshot(
                metadata: Raft.SnapshotMetadata(index: snapshotIndex, term: Raft.Term(near(3)), membership: membership),
                offset: Int(near(8) >> 1), chunk: Array(repeating: 7, count: samples.below(10)), isLast: samples.below(2) == 0))
        case 6: body = .snapshotResponse(Raft.SnapshotResponse(index: Raft.LogIndex(near(5)), receivedBytes: Int(near(8) >> 1)))
        case 7:
            body = .voteRequest(Raft.VoteRequest(lastLogIndex: index, lastLogTerm: Raft.Term(near(3)), isPreVote: samples.below(2) == 0,
                                                 isLeadershipTransfer: samples.below(4) == 0))
        case 8: body = .voteResponse(Raft.VoteResponse(granted: samples.below(2) == 0, isPreVote: samples.below(2) == 0))
        case 9: body = samples.below(2) == 0 ? .readIndexRequest(Raft.ReadContext(near(1)))
            : .readIndexResponse(context: Raft.ReadContext(near(1)), index: samples.below(2) == 0 ? nil : index)
        default: body = .timeoutNow
        }
        let others = members.filter { $0 != instance.config.id }
        return Raft.Message(from: pick(others), to: instance.config.id, term: term, body: body)
    }
}

let bases = baseStates()
var generator = Generator(samples: RaftMessageSamples(seed: seed))
var stepped = 0
var undecodable = 0
var forged = 0
var dropped: [String: Int] = [:]
/// How often a step had each effect, to show that the inputs reach past the checks.
var effects: [String: Int] = [:]
var iteration = 0
while iteration < count {
    // One episode: a few messages (and ticks) into a copy of one base state.
    var instance = bases[generator.samples.below(bases.count)]
    var committedTerm = instance.term(at: instance.commitIndex)
    var committed = instance.commitIndex
    for _ in 0..<8 where iteration < count {
        iteration += 1
        // The transport authenticated the connection as one of the other members.
        let authenticated = generator.pick(members.filter { $0 != instance.config.id })
        var original = generator.message(to: instance)
        if generator.samples.below(4) != 0 { original.from = authenticated }
        var bytes = RaftWireCodec.encode(original)
        if generator.samples.below(3) == 0 { bytes = generator.samples.mutate(bytes) }
        let message: Raft.Message
        do {
            message = try RaftWireCodec.decode(bytes)
        } catch {
            undecodable += 1
            continue
        }
        if let mismatch = message.senderMismatch(authenticatedAs: authenticated) {
            guard mismatch.reason == .forgedSender, message.from != authenticated else {
                print("FAIL seed=\(seed) iteration=\(iteration): wrong sender check for \(message)")
                exit(1)
            }
            forged += 1
            continue
        }
        stepped += 1
        var actions = instance.receive(message)
        if generator.samples.below(4) == 0 { actions += instance.tick() }
        for action in actions {
            switch action {
            case .droppedMessage(let drop): dropped[drop.reason.rawValue, default: 0] += 1
            case .appendLog: effects["appended", default: 0] += 1
            case .truncateLog: effects["truncated", default: 0] += 1
            case .installSnapshot: effects["snapshot installed", default: 0] += 1
            case .leadershipChanged: effects["role changed", default: 0] += 1
            case .send, .sendSnapshotChunk: effects["answered", default: 0] += 1
            default: break
            }
        }
        settle(&instance, actions)
        // Committed entries are never lost and the commit index never passes the log.
        guard instance.commitIndex >= committed, instance.commitIndex <= instance.lastLogIndex,
              committed < instance.firstLogIndex || instance.term(at: committed) == committedTerm
        else {
            print("FAIL seed=\(seed) iteration=\(iteration): \(message) broke the log: commit \(committed) -> \(instance.commitIndex), "
                + "last \(instance.lastLogIndex), term at \(committed) \(committedTerm.map { "\($0)" } ?? "-") -> "
                + "\(instance.term(at: committed).map { "\($0)" } ?? "-")")
            exit(1)
        }
        committed = instance.commitIndex
        committedTerm = instance.term(at: committed)
    }
}
let drops = dropped.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
let reached = effects.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
print("RaftStepFuzz seed=\(seed): \(count) inputs, \(stepped) stepped, \(forged) forged senders dropped, "
    + "\(undecodable) undecodable, 0 crashes\n  dropped by the core: \(drops)\n  steps that: \(reached)")
