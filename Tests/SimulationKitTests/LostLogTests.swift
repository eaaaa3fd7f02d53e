import RaftCore
import Testing

@testable import SimulationKit

/// A node whose data directory is wiped (docs/storage.md's procedure after damage) rejoins empty;
/// the leader must notice and repair it, and no invariant may break meanwhile.
@Suite("Lost log")
struct LostLogTests {
    @Test("a wiped follower is repaired by the leader that still counted its old match index")
    func wipedFollowerCatchesUp() throws {
        var cluster = Simulation.SimulatedCluster(setup: Simulation.ClusterSetup(voters: ["n1", "n2", "n3"]), seed: 3)
        let leader = try ScenarioTests.electLeader(&cluster)
        let timeout = cluster.setup.electionTimeout
        for _ in 0..<20 { try cluster.propose(at: leader) }
        let settled = try cluster.run(for: 5 * timeout) { cluster in
            cluster.nodeIDs.allSatisfy { cluster.appliedIndex($0) >= 21 }
        }
        try #require(settled)
        let follower = try #require(ScenarioTests.followers(of: leader, in: cluster).first)
        let match = try #require(cluster.instance(leader)?.replicationState(of: follower)?.match)
        #expect(match.rawValue >= 21)
        cluster.wipe(follower, restartAfter: 10)
        try cluster.run(for: 20)
        #expect(cluster.instance(follower)?.lastLogIndex == .zero)
        let repaired = try cluster.run(for: 5 * timeout) { $0.appliedIndex(follower) == $0.appliedIndex(leader) }
        #expect(repaired, "\(cluster.lastSteps.joined(separator: "\n"))")
        #expect(cluster.leader == leader)
        #expect(cluster.durableImage(follower)?.lastIndex == cluster.durableImage(leader)?.lastIndex)
    }

    @Test("a wiped voter abstains, is demoted, caught up and promoted again with its new incarnation")
    func wipedVoterIsReRecorded() throws {
        var cluster = Simulation.SimulatedCluster(setup: Simulation.ClusterSetup(voters: ["n1", "n2", "n3"]), seed: 5)
        let leader = try ScenarioTests.electLeader(&cluster)
        let timeout = cluster.setup.electionTimeout
        for _ in 0..<5 { try cluster.propose(at: leader) }
        let recorded = try cluster.run(for: 5 * timeout) { cluster in
            cluster.nodeIDs.allSatisfy { cluster.instance($0)?.membership.incarnations.count == 3 }
        }
        try #require(recorded, "\(cluster.lastSteps.joined(separator: "\n"))")
        let follower = try #require(ScenarioTests.followers(of: leader, in: cluster).first)
        let old = try #require(cluster.instance(leader)?.membership.incarnation(of: follower))
        cluster.wipe(follower, restartAfter: 10)
        try cluster.run(for: 20)
        let fresh = try #require(cluster.instance(follower)?.config.incarnation)
        #expect(fresh != old)
        let repaired = try cluster.run(for: 10 * timeout) { cluster in
            cluster.instance(leader)?.membership.incarnation(of: follower) == fresh
                && cluster.instance(follower)?.abstainsFromElections == false
                && cluster.instance(follower)?.membership.voters.contains(follower) == true
        }
        #expect(repaired, "\(cluster.lastSteps.joined(separator: "\n"))")
        #expect(cluster.leader == leader)
    }

    @Test("lost-log histories: every invariant holds", arguments: UInt64(200)..<206)
    func lostLogHistories(seed: UInt64) {
        let result = Simulation.HistoryRunner.run(Simulation.HistoryOptions(seed: seed, steps: 1_500, flavour: .lostLog))
        #expect(result.passed, "\(result.report)")
    }

    @Test("across lost-log histories, wipes hit voters that had voted in the current term")
    func wipesHitVotersThatVoted() {
        var totals = Simulation.SimulatedCluster.Statistics()
        for seed in UInt64(200)..<206 {
            totals.add(Simulation.HistoryRunner.run(Simulation.HistoryOptions(seed: seed, steps: 1_500, flavour: .lostLog)).statistics)
        }
        // Across the seeds, not per seed: a single history may end before its first wipe (how
        // far it gets depends on elections, which change with any election rule).
        #expect(totals.wipes >= 6 && totals.wipesAfterVoting > 0, "\(totals)")
    }

    #if QUORUM_SIM_MUTATIONS
    @Test("mutation ignore-reject-hint is caught in lost-log histories")
    func mutationCaught() {
        let caught = (UInt64(1)...200).contains { seed in
            !Simulation.HistoryRunner.run(
                Simulation.HistoryOptions(seed: seed, flavour: .lostLog, mutation: "ignore-reject-hint")).passed
        }
        #expect(caught)
    }

    @Test("mutation ignore-incarnation (grants of any incarnation count) breaks election safety or leader completeness")
    func ignoreIncarnationCaught() {
        let caught = (UInt64(1)...1_000).contains { seed in
            let result = Simulation.HistoryRunner.run(
                Simulation.HistoryOptions(seed: seed, flavour: .lostLog, mutation: "ignore-incarnation"))
            return [.electionSafety, .leaderCompleteness].contains(result.failure?.violation.invariant)
        }
        #expect(caught)
    }

    @Test("mutation wiped-voter-votes (no abstention) breaks election safety or leader completeness")
    func wipedVoterVotingCaught() {
        let caught = (UInt64(1)...400).contains { seed in
            let result = Simulation.HistoryRunner.run(
                Simulation.HistoryOptions(seed: seed, flavour: .lostLog, mutation: "wiped-voter-votes"))
            return [.electionSafety, .leaderCompleteness].contains(result.failure?.violation.invariant)
        }
        #expect(caught)
    }
    #endif
}
