import Testing
@testable import RaftCore

/// `Instance.linkLost(from:)`: the shell saw the leader's connection close.
@Suite("Leader link loss: campaign early through PreVote, never disrupt a live leader")
struct LinkLossTests {
    /// Ticks after which a node that lost its leader's link has campaigned: half the election
    /// timeout (`electionTicks` is 10 by default, a normal timeout 10–19 ticks).
    static let linkLossTicks = 5

    @Test("A leader killed: both survivors see its link close and elect a new leader within half an election timeout")
    func survivorsOfAKilledLeaderElectSoon() {
        var cluster = TestCluster(voters: [n1, n2, n3])
        cluster.elect(n1)
        cluster.crashed = [n1]
        for survivor in [n2, n3] { cluster.input(survivor) { $0.linkLost(from: n1) } }
        #expect(cluster[n2].leader == nil && cluster[n3].leader == nil)
        for _ in 0..<Self.linkLossTicks {
            for survivor in [n2, n3] { cluster.tick(survivor) }
            cluster.stabilize()
        }
        #expect(cluster.leaders.count == 1, "\(cluster.leaders)")
        #expect(cluster[n2].term == Raft.Term(2) && cluster[n3].term == Raft.Term(2), "one election, no split vote")
    }

    @Test("Without the link-loss report the survivors wait out a whole election timeout")
    func withoutTheReportNoEarlyElection() {
        var cluster = TestCluster(voters: [n1, n2, n3])
        cluster.elect(n1)
        cluster.crashed = [n1]
        for _ in 0..<Self.linkLossTicks {
            for survivor in [n2, n3] { cluster.tick(survivor) }
            cluster.stabilize()
        }
        #expect(cluster.leaders.isEmpty, "no survivor leads")
        #expect(cluster[n2].leader == n1 && cluster[n3].leader == n1, "both still follow the dead n1")
        #expect(cluster[n2].term == Raft.Term(1) && cluster[n3].term == Raft.Term(1))
    }

    @Test("A link that blipped while the others still hear the leader: the follower's PreVote is refused, term and leader unchanged")
    func blipDoesNotDisruptALiveLeader() {
        var cluster = TestCluster(voters: [n1, n2, n3])
        cluster.elect(n1)
        // n1's messages to n3 are lost for a while; n3 still reaches everyone.
        cluster.cutLinks = [[n1, n3]]
        cluster.input(n3) { $0.linkLost(from: n1) }
        for _ in 0..<(4 * Self.linkLossTicks) {
            cluster.tickAll()
            cluster.stabilize()
        }
        #expect(cluster[n3].role == .preCandidate, "it campaigned")
        #expect(cluster.leaders == [n1])
        for id in [n1, n2, n3] { #expect(cluster[id].term == Raft.Term(1), "\(id)") }
        #expect(cluster[n2].leader == n1)
        cluster.cutLinks = []
        cluster.tickAll()
        cluster.stabilize()
        #expect(cluster[n3].role == .follower && cluster[n3].leader == n1, "the leader's next heartbeat brings it back")
    }

    @Test("Link loss of a peer that is not the leader, or reported to the leader, changes nothing")
    func otherLinksAreIgnored() {
        var cluster = TestCluster(voters: [n1, n2, n3])
        cluster.elect(n1)
        let before = cluster[n2].randomizedElectionTimeout
        cluster.input(n2) { $0.linkLost(from: n3) }
        cluster.input(n1) { $0.linkLost(from: n2) }
        #expect(cluster[n2].leader == n1 && cluster[n2].randomizedElectionTimeout == before)
        #expect(cluster[n1].role == .leader && cluster[n1].term == Raft.Term(1))
    }

    @Test("Without PreVote a link-loss report is ignored: campaigning early would raise the term on a blip")
    func ignoredWithoutPreVote() {
        var cluster = TestCluster(voters: [n1, n2, n3]) { $0.preVote = false }
        cluster.elect(n1)
        cluster.input(n3) { $0.linkLost(from: n1) }
        #expect(cluster[n3].leader == n1)
    }
}
