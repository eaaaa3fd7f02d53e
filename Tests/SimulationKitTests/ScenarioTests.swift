import RaftCore
import Testing

@testable import SimulationKit

/// Scripted topologies and crash points from raft-bugs.md (items 3, 4 and 6). Every scenario
/// also runs the full invariant checker at every step.
@Suite("Scripted scenarios")
struct ScenarioTests {
    static func cluster(_ count: Int, seed: UInt64 = 1) -> Simulation.SimulatedCluster {
        Simulation.SimulatedCluster(setup: Simulation.ClusterSetup(voters: (1...count).map { Raft.NodeID("n\($0)") }), seed: seed)
    }

    /// Runs until a leader is elected and has committed an entry of its term; returns it.
    static func electLeader(_ cluster: inout Simulation.SimulatedCluster) throws -> Raft.NodeID {
        let timeout = cluster.setup.electionTimeout
        let elected = try cluster.run(for: 10 * timeout) { cluster in
            guard let leader = cluster.leader, let instance = cluster.instance(leader) else { return false }
            return instance.term(at: instance.commitIndex) == instance.term
        }
        try #require(elected, "no leader within 10 election timeouts")
        return try #require(cluster.leader)
    }

    static func followers(of leader: Raft.NodeID, in cluster: Simulation.SimulatedCluster) -> [Raft.NodeID] {
        cluster.nodeIDs.filter { $0 != leader }
    }

    @Test("item 6: an isolated follower rejoins without disturbing the leader (PreVote + CheckQuorum)")
    func isolatedFollowerRejoins() throws {
        var cluster = Self.cluster(3)
        let leader = try Self.electLeader(&cluster)
        let term = try #require(cluster.instance(leader)?.term)
        let elections = cluster.statistics.elections
        let timeout = cluster.setup.electionTimeout
        cluster.isolate(Self.followers(of: leader, in: cluster)[0])
        try cluster.run(for: 5 * timeout)
        cluster.healNetwork()
        try cluster.run(for: 5 * timeout)
        #expect(cluster.leader == leader)
        #expect(cluster.instance(leader)?.term == term)
        #expect(cluster.statistics.elections == elections, "\(Simulation.Invariant.noDisruption): \(cluster.lastSteps.joined(separator: "\n"))")
    }

    @Test("item 6: a one-way link loss from the leader to a follower causes no leader change")
    func oneWayLinkLoss() throws {
        var cluster = Self.cluster(3)
        let leader = try Self.electLeader(&cluster)
        let elections = cluster.statistics.elections
        let timeout = cluster.setup.electionTimeout
        let follower = Self.followers(of: leader, in: cluster)[0]
        cluster.cut(from: leader, to: follower)
        try cluster.run(for: 10 * timeout)
        #expect(cluster.leader == leader)
        #expect(cluster.statistics.elections == elections, "\(Simulation.Invariant.noDisruption): \(cluster.lastSteps.joined(separator: "\n"))")
        cluster.healNetwork()
        try cluster.propose(at: leader)
        let caughtUp = try cluster.run(for: 5 * timeout) { $0.appliedIndex(follower) == $0.appliedIndex(leader) }
        #expect(caughtUp)
    }

    @Test("item 6: 5 nodes, n4 talks only to n2 and n5 only to n3: a stable leader, then no changes")
    func partialConnectivity() throws {
        var cluster = Self.cluster(5, seed: 3)
        let nodes = cluster.nodeIDs
        for a in nodes {
            for b in nodes where a < b {
                let allowed: Set<Raft.NodeID> = ["n4", "n2"]
                let alsoAllowed: Set<Raft.NodeID> = ["n5", "n3"]
                let involvesOuter = a == "n4" || b == "n4" || a == "n5" || b == "n5"
                if involvesOuter && Set([a, b]) != allowed && Set([a, b]) != alsoAllowed {
                    cluster.network.cutBothWays(a, b)
                }
            }
        }
        let leader = try Self.electLeader(&cluster)
        #expect(["n1", "n2", "n3"].contains(leader))
        let elections = cluster.statistics.elections
        try cluster.run(for: 10 * cluster.setup.electionTimeout)
        #expect(cluster.leader == leader)
        #expect(cluster.statistics.elections == elections, "\(Simulation.Invariant.noDisruption): \(cluster.lastSteps.joined(separator: "\n"))")
    }

    @Test("item 6: an isolated leader is replaced, then rejoins as a follower without another election")
    func isolatedLeaderHealed() throws {
        var cluster = Self.cluster(3, seed: 5)
        let old = try Self.electLeader(&cluster)
        let timeout = cluster.setup.electionTimeout
        cluster.isolate(old)
        let replaced = try cluster.run(for: 10 * timeout) { $0.leader != nil && $0.leader != old }
        try #require(replaced, "no new leader within 10 election timeouts")
        let new = try #require(cluster.leader)
        try cluster.run(for: 3 * timeout)
        let elections = cluster.statistics.elections
        cluster.healNetwork()
        try cluster.run(for: 5 * timeout)
        #expect(cluster.leader == new)
        #expect(cluster.instance(old)?.role == .follower)
        #expect(cluster.statistics.elections == elections, "\(Simulation.Invariant.noDisruption): \(cluster.lastSteps.joined(separator: "\n"))")
    }

    @Test("item 3: a voter that crashes right after granting its vote still has it on disk")
    func crashAfterVote() throws {
        var setup = Simulation.ClusterSetup(voters: ["n1", "n2", "n3"])
        setup.crashAfterVoteProbability = 1
        setup.syncLatency = 50...100
        var cluster = Simulation.SimulatedCluster(setup: setup, seed: 11)
        let leader = try Self.electLeader(&cluster)
        let term = try #require(cluster.instance(leader)?.term)
        #expect(cluster.statistics.crashes > 0)
        let voters = cluster.nodeIDs.filter { $0 != leader && cluster.durableImage($0)?.hardState.term == term }
        for voter in voters {
            // A vote in this term that went out must be durable: never the empty vote.
            #expect(cluster.durableImage(voter)?.hardState.vote != nil, "\(voter) voted in \(term) without persisting it")
        }
        try cluster.run(for: 10 * setup.electionTimeout)
    }

    @Test("item 3: a follower that crashes right after acknowledging keeps what the leader committed")
    func crashAfterAck() throws {
        var setup = Simulation.ClusterSetup(voters: ["n1", "n2", "n3"])
        setup.syncLatency = 20...80
        var cluster = Simulation.SimulatedCluster(setup: setup, seed: 12)
        let leader = try Self.electLeader(&cluster)
        cluster.setup.crashAfterAckProbability = 0.5
        for _ in 0..<30 {
            try cluster.propose(at: cluster.leader ?? leader)
            try cluster.run(for: 200)
        }
        cluster.healEverything()
        let floor = cluster.checker.acknowledgedFloor
        #expect(floor > 0)
        let converged = try cluster.run(for: 20 * setup.electionTimeout) { $0.laggingMembers(behind: floor).isEmpty }
        #expect(converged, "\(Simulation.Invariant.acknowledgedApplied): \(cluster.lastSteps.joined(separator: "\n"))")
    }

    @Test("item 4: a single-node cluster acknowledges nothing before its disk syncs")
    func singleNodePersistsBeforeCommit() throws {
        var setup = Simulation.ClusterSetup(voters: ["n1"])
        setup.syncLatency = 100...100
        var cluster = Simulation.SimulatedCluster(setup: setup, seed: 4)
        _ = try Self.electLeader(&cluster)
        let applied = cluster.appliedIndex("n1")
        let acknowledged = cluster.statistics.acknowledgedWrites
        try cluster.propose(at: "n1")
        try cluster.run(for: 50)  // less than the sync latency
        #expect(cluster.appliedIndex("n1") == applied, "applied before the entry was durable")
        #expect(cluster.statistics.acknowledgedWrites == acknowledged)
        cluster.crash("n1")
        try cluster.restart("n1")
        _ = try Self.electLeader(&cluster)
        #expect(cluster.statistics.acknowledgedWrites == acknowledged, "a write lost in the crash was acknowledged")
    }

    @Test("item 4: one voter plus a learner acknowledges nothing before the voter's disk syncs")
    func voterAndLearnerPersistBeforeCommit() throws {
        var setup = Simulation.ClusterSetup(voters: ["n1"], spares: ["n2"])
        setup.syncLatency = 100...100
        var cluster = Simulation.SimulatedCluster(setup: setup, seed: 6)
        _ = try Self.electLeader(&cluster)
        let refusal = try cluster.proposeMembershipChange(.addLearner("n2"), at: "n1")
        #expect(refusal == nil)
        let added = try cluster.run(for: 10 * setup.electionTimeout) { $0.instance("n2")?.membership.learners.contains("n2") == true }
        try #require(added, "n2 did not become a learner")
        let applied = cluster.appliedIndex("n1")
        let acknowledged = cluster.statistics.acknowledgedWrites
        try cluster.propose(at: "n1")
        try cluster.run(for: 50)  // the learner may have the entry; the voter's disk has not synced
        #expect(cluster.appliedIndex("n1") == applied, "applied before the only voter made the entry durable")
        cluster.crash("n1")
        try cluster.restart("n1")
        _ = try Self.electLeader(&cluster)
        #expect(cluster.statistics.acknowledgedWrites == acknowledged, "a write lost in the crash was acknowledged")
        #expect(cluster.instance("n2")?.isVoter == false, "the learner must still be a learner")
    }
}
