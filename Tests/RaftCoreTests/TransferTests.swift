import Testing
@testable import RaftCore

@Suite("Thesis §3.10 leadership transfer")
struct TransferTests {
    @Test("§3.10 transfer to an up-to-date follower makes it leader in the next term")
    func transferToUpToDate() throws {
        var cluster = TestCluster(voters: [n1, n2, n3])
        cluster.elect(n1)
        cluster.input(n1) { try! $0.transferLeadership(to: n2) }
        #expect(cluster.network.contains { $0.body == .timeoutNow && $0.to == n2 })
        cluster.stabilize()
        #expect(cluster.leaders == [n2])
        #expect(cluster[n2].term == Raft.Term(2))
        #expect(cluster[n1].leader == n2)
    }

    @Test("§3.10 transfer to a lagging follower first catches it up")
    func transferToLagging() throws {
        var cluster = TestCluster(voters: [n1, n2, n3])
        cluster.elect(n1)
        cluster.isolated = [n3]
        for text in ["a", "b"] { _ = try cluster.propose(n1, text) }
        cluster.stabilize()
        cluster.isolated = []
        cluster.input(n1) { try! $0.transferLeadership(to: n3) }
        #expect(!cluster.network.contains { $0.body == .timeoutNow })
        cluster.stabilize()
        #expect(cluster.leaders == [n3])
        cluster.tickAll()
        cluster.stabilize()
        #expect(cluster.appliedData(n3) == ["a", "b"])
    }

    @Test("§3.10 proposals during a transfer are refused with a retriable error")
    func proposalsRefusedDuringTransfer() throws {
        var cluster = TestCluster(voters: [n1, n2, n3])
        cluster.elect(n1)
        cluster.isolated = [n2]
        cluster.input(n1) { try! $0.transferLeadership(to: n2) }
        do {
            _ = try cluster.propose(n1, "x")
            Issue.record("proposal accepted during transfer")
        } catch {
            #expect(error.code == .transferInProgress)
            #expect(error.isRetriable)
        }
    }

    @Test("§3.10 a transfer that does not finish within an election timeout is abandoned")
    func transferTimesOut() throws {
        var cluster = TestCluster(voters: [n1, n2, n3])
        cluster.elect(n1)
        cluster.isolated = [n2]
        cluster.input(n1) { try! $0.transferLeadership(to: n2) }
        for _ in 0..<cluster[n1].config.electionTicks {
            cluster.tick(n1)
            cluster.stabilize()
        }
        #expect(cluster[n1].role == .leader)
        _ = try cluster.propose(n1, "after")
        cluster.stabilize()
        #expect(cluster[n3].lastLogIndex == Raft.LogIndex(2))
    }

    @Test("§3.10 transfer to a non-voter is refused; to itself is a no-op; a follower says not-leader")
    func invalidTargets() throws {
        var cluster = TestCluster(voters: [n1, n2, n3], learners: [n4])
        cluster.elect(n1)
        var leader = cluster[n1]
        #expect(throws: Raft.RaftError.self) { _ = try leader.transferLeadership(to: n4) }
        #expect(throws: Raft.RaftError.self) { _ = try leader.transferLeadership(to: n5) }
        let toSelf = try leader.transferLeadership(to: n1)
        #expect(toSelf.isEmpty)
        var follower = cluster[n2]
        do {
            _ = try follower.transferLeadership(to: n3)
            Issue.record("a follower accepted a transfer")
        } catch {
            #expect(error.code == .notLeader)
            #expect(error.leaderHint == n1)
        }
    }

    @Test("§3.10 the transfer target's vote requests override the followers' leader lease")
    func transferBypassesLease() throws {
        var cluster = TestCluster(voters: [n1, n2, n3])
        cluster.elect(n1)
        cluster.tickAll()
        cluster.stabilize()
        cluster.input(n1) { try! $0.transferLeadership(to: n3) }
        cluster.stabilize()
        #expect(cluster.leaders == [n3])
    }

    @Test("§3.10 a lost TimeoutNow is repeated on the target's next heartbeat answer")
    func lostTimeoutNowRepeated() {
        var cluster = TestCluster(voters: [n1, n2, n3])
        cluster.elect(n1)
        cluster.input(n1) { try! $0.transferLeadership(to: n2) }
        _ = cluster.take { $0.body == .timeoutNow }
        cluster.stabilize()
        #expect(cluster.leaders == [n1])
        cluster.tick(n1)
        cluster.stabilize()
        #expect(cluster.leaders == [n2])
    }

    @Test("§3.10 removing the transfer target abandons the transfer")
    func removalDuringTransfer() throws {
        var cluster = TestCluster(voters: [n1, n2, n3])
        cluster.elect(n1)
        cluster.isolated = [n3]
        cluster.input(n1) { try! $0.transferLeadership(to: n3) }
        // Leadership is mid-transfer, so the change is refused until the transfer ends.
        guard var leader = cluster.nodes[n1] else { return }
        #expect(throws: Raft.RaftError.self) { _ = try leader.proposeMembershipChange(.remove(n3)) }
        for _ in 0..<cluster[n1].config.electionTicks {
            cluster.tick(n1)
            cluster.stabilize()
        }
        leader = cluster[n1]
        let proposal = try leader.proposeMembershipChange(.remove(n3))
        cluster.nodes[n1] = leader
        cluster.perform(proposal.actions, on: n1)
        cluster.stabilize()
        #expect(cluster[n1].membership.voters == [n1, n2])
        #expect(cluster[n1].role == .leader)
    }

    @Test("§3.10 transfer under a steady write load: every accepted proposal is applied, refused ones are retriable (hashicorp GH-581)")
    func transferUnderLoad() throws {
        var cluster = TestCluster(voters: [n1, n2, n3])
        cluster.elect(n1)
        var accepted: [Raft.Proposal] = []
        var refused = 0
        var step = 0
        var transferred = false
        while step < 60 {
            step += 1
            if let leader = cluster.leaders.first {
                do {
                    accepted.append(try cluster.propose(leader, "w\(step)"))
                } catch {
                    #expect(error.isRetriable)
                    refused += 1
                }
            }
            if step == 10 {
                cluster.input(n1) { try! $0.transferLeadership(to: n2) }
                transferred = true
            }
            // Deliver a few messages per write so the transfer overlaps the load.
            for _ in 0..<8 where !cluster.network.isEmpty { cluster.deliverNext() }
            if step.isMultiple(of: 3) { cluster.tickAll() }
        }
        for _ in 0..<5 {
            cluster.tickAll()
            cluster.stabilize()
        }
        #expect(transferred)
        #expect(cluster.leaders == [n2])
        for proposal in accepted {
            let applied = cluster.applied[n3]?.first { $0.index == proposal.index }
            // An accepted proposal either committed at its index and term, or was replaced there
            // by a later leader (a lost, retriable proposal) — never silently changed.
            if let applied, applied.term == proposal.term {
                #expect(cluster.applied[n1]?.contains(applied) == true)
            }
        }
        let appliedWrites = cluster.appliedData(n3).count
        #expect(appliedWrites >= accepted.count - 3)
    }
}

