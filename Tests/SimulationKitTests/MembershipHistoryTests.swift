import RaftCore
import Testing

@testable import SimulationKit

/// Membership faults (issue #16): the checker's membership invariants on hand-made facts, a
/// scripted removal of the leader mid-change under a partition, and seeded `membership`
/// histories. The planted bugs (`two-changes-in-flight`, `learner-votes`, `learner-acks`) need
/// the simulator's build and are proven caught by `scripts/check-simulate.sh`.
@Suite("Membership histories")
struct MembershipHistoryTests {
    static let founding = Raft.Membership(voters: ["n1", "n2", "n3"])
    static let withLearner = Raft.Membership(voters: ["n1", "n2", "n3"], learners: ["n4"])

    static func checker() -> Simulation.SafetyChecker {
        Simulation.SafetyChecker(names: ["n1", "n2", "n3", "n4"],
                                 bootstrap: [founding, founding, founding, Raft.Membership(voters: [])])
    }

    static func entry(_ index: UInt64, term: UInt64 = 1, membership: Raft.Membership? = nil) -> Raft.Entry {
        if let membership {
            return Raft.Entry(term: Raft.Term(term), index: Raft.LogIndex(index), kind: .configChange, data: membership.encoded)
        }
        return Raft.Entry(term: Raft.Term(term), index: Raft.LogIndex(index), data: [UInt8(truncatingIfNeeded: index)])
    }

    @Test("a learner's grant does not make a quorum; a voter's does")
    func learnerVoteDoesNotCount() throws {
        var checker = Self.checker()
        try checker.entriesWritten(0, [Self.entry(1, membership: Self.withLearner)])
        do {
            try checker.electionQuorum(0, term: Raft.Term(2), grantedBy: ["n4"])
            Issue.record("a learner's vote was counted")
        } catch {
            #expect(error.invariant == .quorumOfVoters)
            #expect(error.detail.contains("non-voters [\"n4\"]"), "\(error)")
        }
        try checker.electionQuorum(0, term: Raft.Term(2), grantedBy: ["n4", "n2"])
    }

    @Test("a removed node's grant does not count once the removal is in the candidate's log")
    func removedNodeVoteDoesNotCount() throws {
        var checker = Self.checker()
        let removed = Raft.Membership(voters: ["n1", "n2"], removed: ["n3"])
        try checker.entriesWritten(0, [Self.entry(1, membership: removed)])
        #expect(throws: Simulation.InvariantViolation.self) {
            try checker.electionQuorum(0, term: Raft.Term(2), grantedBy: ["n3"])
        }
        // Truncated away (the removal was never committed): the founding configuration again.
        checker.logTruncated(0, after: 0)
        try checker.electionQuorum(0, term: Raft.Term(2), grantedBy: ["n3"])
    }

    @Test("a commit held by the leader and a learner only breaks quorum-of-voters")
    func commitOnLearnerIsCaught() throws {
        var checker = Self.checker()
        try checker.leaderElected(0, term: Raft.Term(1))
        let entries = [Self.entry(1, membership: Self.withLearner), Self.entry(2)]
        try checker.entriesWritten(0, entries)
        try checker.entriesWritten(3, entries)
        do {
            try checker.commitObserved(0, 2, durable: false, term: Raft.Term(1))
            Issue.record("a commit on one voter and a learner was accepted")
        } catch {
            #expect(error.invariant == .quorumOfVoters)
        }
        // With a second voter holding it, the same commit is fine.
        var fine = Self.checker()
        try fine.leaderElected(0, term: Raft.Term(1))
        try fine.entriesWritten(0, entries)
        try fine.entriesWritten(1, entries)
        try fine.commitObserved(0, 2, durable: false, term: Raft.Term(1))
    }

    @Test("a second configuration entry before the first commits breaks one-change-in-flight")
    func twoChangesInFlightIsCaught() throws {
        var checker = Self.checker()
        try checker.entriesWritten(0, [Self.entry(1), Self.entry(2, membership: Self.withLearner)])
        try checker.commitObserved(0, 1, durable: false)
        do {
            try checker.configurationProposed(0, at: 3)
            Issue.record("two changes in flight were accepted")
        } catch {
            #expect(error.invariant == .oneChangeInFlight)
        }
        try checker.configurationProposed(0, at: 3, commitReached: 2)
    }

    @Test("the leader removed mid-change under a partition: a second change is refused, a new leader takes over")
    func leaderRemovedMidChange() throws {
        var cluster = Simulation.SimulatedCluster(setup: Simulation.ClusterSetup(voters: ["n1", "n2", "n3"], spares: ["n4"]), seed: 11)
        let timeout = cluster.setup.electionTimeout
        let leader = try ScenarioTests.electLeader(&cluster)
        #expect(try cluster.proposeMembershipChange(.addLearner("n4"), at: leader) == nil)
        // An impatient operator: the promotion while the addition is uncommitted is refused.
        let refusal = try cluster.proposeMembershipChange(.promote("n4"), at: leader)
        #expect(refusal?.code == .membershipChangePending, "\(String(describing: refusal))")
        let added = try cluster.run(for: 10 * timeout) { $0.latestAppliedMembership?.learners.contains("n4") == true }
        try #require(added, "n4 was not added")
        #expect(try cluster.proposeMembershipChange(.promote("n4"), at: leader) == nil)
        let promoted = try cluster.run(for: 10 * timeout) { $0.latestAppliedMembership?.voters.contains("n4") == true }
        try #require(promoted, "n4 was not promoted")
        for _ in 0..<3 { try cluster.propose(at: leader) }
        // Cut one follower off, then remove the leader: the removal must commit on the other
        // two voters (n4 and the connected follower), and they elect a leader without it.
        let cut = try #require(["n1", "n2", "n3"].first { $0 != leader })
        cluster.isolate(cut)
        #expect(try cluster.proposeMembershipChange(.remove(leader), at: leader) == nil)
        let replaced = try cluster.run(for: 20 * timeout) { cluster in
            guard let now = cluster.leader, now != leader else { return false }
            return cluster.latestAppliedMembership.map { !$0.contains(leader) } == true && cluster.hasStableLeader
        }
        try #require(replaced, "no leader without \(leader) after its removal")
        #expect(cluster.instance(leader)?.role != .leader, "the removed leader still leads")
        cluster.healNetwork()
        let newLeader = try #require(cluster.leader)
        for _ in 0..<3 { try cluster.propose(at: newLeader) }
        let floor = cluster.checker.acknowledgedFloor
        let converged = try cluster.run(for: 20 * timeout) { $0.laggingMembers(behind: floor).isEmpty }
        #expect(converged, "members behind i\(floor): \(cluster.laggingMembers(behind: floor))")
        #expect(cluster.removedNodes == [leader])
    }

    @Test("membership histories run their whole plan under faults and keep every invariant", arguments: Array(UInt64(1)...8))
    func membershipHistory(seed: UInt64) {
        let result = Simulation.HistoryRunner.run(Simulation.HistoryOptions(seed: seed, flavour: .membership))
        #expect(result.passed, "\(result.report)")
        // Six changes (two additions, two promotions, two removals) and one transfer.
        #expect(result.statistics.membershipChanges == 6, "\(result.report)")
        #expect(result.statistics.transfers == 1, "\(result.report)")
        #expect(result.statistics.crashes + result.statistics.partitions > 0, "\(result.report)")
    }

    @Test("some membership histories propose a second change in flight, and RaftCore refuses it")
    func secondChangesAreRefused() {
        var refused = 0
        for seed in UInt64(1)...8 {
            refused += Simulation.HistoryRunner.run(Simulation.HistoryOptions(seed: seed, flavour: .membership)).statistics.refusedSecondChanges
        }
        #expect(refused > 0)
    }
}
