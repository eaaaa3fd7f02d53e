import DeterministicRandom
import Testing
@testable import RaftCore

@Suite("Quorum arithmetic against a brute-force oracle")
struct QuorumTests {
    static let seeds: [UInt64] = Array(1...20)

    /// The largest index that at least a majority has acknowledged, by trying every candidate.
    static func oracleCommitted(_ matches: [Raft.NodeID: UInt64]) -> UInt64 {
        let quorum = matches.count / 2 + 1
        let candidates = Set(matches.values).union([0])
        return candidates.filter { candidate in matches.values.filter { $0 >= candidate }.count >= quorum }.max() ?? 0
    }

    /// Won if granted already form a majority, lost if no way of filling in the missing votes wins.
    static func oracleVote(voters: [Raft.NodeID], votes: [Raft.NodeID: Bool]) -> Raft.VoteResult {
        let quorum = voters.count / 2 + 1
        let missing = voters.filter { votes[$0] == nil }
        let granted = voters.filter { votes[$0] == true }.count
        if granted >= quorum { return .won }
        var anyWin = false
        for mask in 0..<(1 << missing.count) where granted + mask.nonzeroBitCount >= quorum { anyWin = true }
        return anyWin ? .pending : .lost
    }

    @Test("majority commit index equals the oracle", arguments: seeds)
    func committedIndex(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        for _ in 0..<500 {
            let size = 1 + random.below(7)
            let voters = (0..<size).map { Raft.NodeID("v\($0)") }
            var matches: [Raft.NodeID: UInt64] = [:]
            for voter in voters { matches[voter] = UInt64(random.below(12)) }
            let computed = Raft.Quorum.committedIndex(voters: Set(voters)) { Raft.LogIndex(matches[$0] ?? 0) }
            #expect(computed.rawValue == Self.oracleCommitted(matches), "seed \(seed): \(matches)")
        }
    }

    @Test("vote result equals the oracle, ignoring non-voters", arguments: seeds)
    func voteResult(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        for _ in 0..<500 {
            let size = 1 + random.below(7)
            let voters = (0..<size).map { Raft.NodeID("v\($0)") }
            var votes: [Raft.NodeID: Bool] = [:]
            for voter in voters {
                switch random.below(3) {
                case 0: votes[voter] = true
                case 1: votes[voter] = false
                default: break
                }
            }
            votes["learner"] = true  // never counts
            let computed = Raft.Quorum.voteResult(voters: Set(voters), votes: votes)
            #expect(computed == Self.oracleVote(voters: voters, votes: votes), "seed \(seed): \(votes)")
        }
    }
}

@Suite("Configuration validation")
struct ConfigTests {
    @Test("invalid tunables are reported with the field name")
    func invalidConfig() {
        var config = Raft.Config(id: n1)
        config.electionTicks = 1
        #expect(throws: Raft.ConfigError(field: "electionTicks",
                                         message: "must be greater than heartbeatTicks (1), got 1; 10× is typical")) {
            try config.validate()
        }
        config = Raft.Config(id: n1, maxEntriesPerAppend: 0)
        #expect(throws: Raft.ConfigError.self) { try config.validate() }
        #expect(throws: Never.self) { try Raft.Config(id: n1).validate() }
    }
}
