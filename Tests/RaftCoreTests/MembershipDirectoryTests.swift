import Testing
@testable import RaftCore

/// The shell's member directory rides in configuration entries (docs/raft.md, "Membership changes").
@Suite("Member directory in configuration entries")
struct MembershipDirectoryTests {
    let directory: [UInt8] = Array("opaque directory bytes".utf8)

    @Test("format 4 round-trips the directory; without one the older, smaller formats are written and still read")
    func codec() {
        let plain = Raft.Membership(voters: [n1, n2], learners: [n3], removed: [n4])
        #expect(plain.encoded.first == 2, "no directory, no incarnation: format 2 as before")
        var withDirectory = plain
        withDirectory.directory = directory
        #expect(withDirectory.encoded.first == 4)
        #expect(Raft.Membership(encoded: withDirectory.encoded) == withDirectory)
        let recorded = Raft.Membership(voters: [n1, n2], incarnations: [n1: 7], directory: directory)
        #expect(Raft.Membership(encoded: recorded.encoded) == recorded)
        let format3 = Raft.Membership(voters: [n1, n2], incarnations: [n1: 7])
        #expect(format3.encoded.first == 3)
        #expect(Raft.Membership(encoded: format3.encoded) == format3)
        // A directory length past the end, or bytes after it, is refused (never a trap).
        var truncated = withDirectory.encoded
        truncated.removeLast()
        #expect(Raft.Membership(encoded: truncated) == nil)
        #expect(Raft.Membership(encoded: withDirectory.encoded + [0]) == nil)
        for cut in 0..<withDirectory.encoded.count {
            _ = Raft.Membership(encoded: Array(withDirectory.encoded.prefix(cut)))
        }
    }

    @Test("a change keeps the directory unless it brings a new one; the snapshot keeps it too")
    func changesCarryTheDirectory() throws {
        var cluster = TestCluster(voters: [n1, n2, n3])
        cluster.elect(n1)
        var leader = cluster[n1]
        let recorded = try leader.proposeDirectory(directory)
        cluster.nodes[n1] = leader
        cluster.perform(recorded.actions, on: n1)
        cluster.stabilize()
        #expect(cluster[n2].membership.directory == directory)
        #expect(cluster[n2].membership.voters == [n1, n2, n3])
        cluster.addBlankNode(n4)
        leader = cluster[n1]
        let added = try leader.proposeMembershipChange(.addLearner(n4))
        cluster.nodes[n1] = leader
        cluster.perform(added.actions, on: n1)
        cluster.stabilize()
        cluster.tickAll()
        cluster.stabilize()
        #expect(cluster[n4].membership.directory == directory, "a change without a directory keeps the last one")
        let replaced: [UInt8] = [9, 9]
        leader = cluster[n1]
        let promoted = try leader.proposeMembershipChange(.promote(n4), directory: replaced)
        cluster.nodes[n1] = leader
        cluster.perform(promoted.actions, on: n1)
        cluster.stabilize()
        #expect(cluster[n3].membership.directory == replaced)
        #expect(cluster[n3].membership.voters == [n1, n2, n3, n4])
    }

    @Test("a directory write is a configuration change: refused while another is uncommitted")
    func directoryWaitsForPendingChange() throws {
        var cluster = TestCluster(voters: [n1, n2, n3])
        cluster.elect(n1)
        cluster.isolated = [n2, n3]
        var leader = cluster[n1]
        let first = try leader.proposeMembershipChange(.addLearner(n4))
        cluster.nodes[n1] = leader
        cluster.perform(first.actions, on: n1)
        #expect(throws: Raft.RaftError.self) { try leader.proposeDirectory(directory) }
        do {
            _ = try leader.proposeDirectory(directory)
        } catch {
            #expect(error.code == .membershipChangePending)
        }
    }

    @Test("tombstones: a removed id is refused as learner or voter even with a new directory")
    func tombstones() throws {
        let membership = Raft.Membership(voters: [n1, n2, n3], removed: [n4], directory: directory)
        #expect(throws: Raft.RaftError.self) { try membership.applying(.addLearner(n4)) }
        #expect(throws: Raft.RaftError.self) { try membership.applying(.addVoter(n4)) }
        let removed = try membership.applying(.remove(n3))
        #expect(removed.removed == [n3, n4])
        #expect(removed.directory == directory, "the shell replaces the directory; RaftCore keeps it")
        #expect(Raft.Membership(encoded: removed.encoded)?.removed == [n3, n4])
    }

    @Test("a removed follower gets one last append with its removal, so it learns it was removed")
    func farewell() throws {
        var cluster = TestCluster(voters: [n1, n2, n3])
        cluster.elect(n1)
        _ = try cluster.propose(n1, "a")
        cluster.stabilize()
        var leader = cluster[n1]
        let removal = try leader.proposeMembershipChange(.remove(n3))
        cluster.nodes[n1] = leader
        cluster.perform(removal.actions, on: n1)
        cluster.stabilize()
        #expect(cluster[n3].membership.removed.contains(n3), "n3: \(cluster[n3].membership)")
        #expect(cluster[n1].membership.voters == [n1, n2])
    }

    @Test("a removed follower further behind than one append gets its farewell in parts, each success bringing the next")
    func farewellInParts() throws {
        var cluster = TestCluster(voters: [n1, n2, n3]) { $0.maxEntriesPerAppend = 4 }
        cluster.elect(n1)
        _ = try cluster.propose(n1, "a")
        cluster.stabilize()
        // n3 hears nothing of the next 30 entries, nor of its removal.
        cluster.cutLinks = [[n1, n3]]
        for index in 0..<30 { _ = try cluster.propose(n1, "e\(index)") }
        cluster.stabilize()
        var leader = cluster[n1]
        let removal = try leader.proposeMembershipChange(.remove(n3))
        cluster.nodes[n1] = leader
        cluster.perform(removal.actions, on: n1)
        cluster.stabilize()
        #expect(cluster[n1].membership.voters == [n1, n2])
        #expect(!cluster[n3].membership.removed.contains(n3))
        cluster.cutLinks = []
        cluster.tick(n1, times: cluster[n1].config.heartbeatTicks)
        cluster.stabilize()
        #expect(cluster[n3].membership.removed.contains(n3), "n3 at \(cluster[n3].lastLogIndex) of \(removal.index)")
        #expect(cluster[n3].lastLogIndex == removal.index, "never an entry after its removal")
    }

    @Test("a removed follower behind the leader's snapshot gets the snapshot, then appends through its removal, never beyond")
    func farewellAfterCompaction() throws {
        var cluster = TestCluster(voters: [n1, n2, n3]) { $0.snapshotChunkBytes = 4 }
        cluster.elect(n1)
        _ = try cluster.propose(n1, "a")
        cluster.stabilize()
        cluster.cutLinks = [[n1, n3]]
        for index in 0..<10 { _ = try cluster.propose(n1, "e\(index)") }
        cluster.stabilize()
        // The leader compacts past everything n3 has: its farewell needs the snapshot.
        try cluster.takeSnapshot(n1, through: cluster[n1].commitIndex, data: Array("image-before-removal".utf8))
        var leader = cluster[n1]
        let removal = try leader.proposeMembershipChange(.remove(n3))
        cluster.nodes[n1] = leader
        cluster.perform(removal.actions, on: n1)
        cluster.stabilize()
        #expect(!cluster[n3].membership.removed.contains(n3))
        cluster.cutLinks = []
        cluster.tick(n1, times: cluster[n1].config.heartbeatTicks)
        cluster.stabilize()
        #expect(cluster[n3].membership.removed.contains(n3), "n3 at \(cluster[n3].lastLogIndex) of \(removal.index)")
        #expect(cluster[n3].lastLogIndex == removal.index, "never an entry after its removal")
    }

    @Test("a removed follower whose removal was compacted into the leader's snapshot learns it from that snapshot")
    func farewellThroughSnapshot() throws {
        var cluster = TestCluster(voters: [n1, n2, n3]) { $0.snapshotChunkBytes = 4 }
        cluster.elect(n1)
        _ = try cluster.propose(n1, "a")
        cluster.stabilize()
        cluster.cutLinks = [[n1, n3]]
        for index in 0..<5 { _ = try cluster.propose(n1, "e\(index)") }
        var leader = cluster[n1]
        let removal = try leader.proposeMembershipChange(.remove(n3))
        cluster.nodes[n1] = leader
        cluster.perform(removal.actions, on: n1)
        cluster.stabilize()
        _ = try cluster.propose(n1, "after")
        cluster.stabilize()
        // The removing entry is compacted: only a snapshot can tell n3.
        try cluster.takeSnapshot(n1, through: cluster[n1].commitIndex, data: Array("image-with-the-removal".utf8))
        #expect(cluster[n1].snapshotMetadata?.membership.removed.contains(n3) == true)
        #expect(!cluster[n3].membership.removed.contains(n3))
        cluster.cutLinks = []
        for _ in 0..<2 {
            cluster.tick(n1, times: cluster[n1].config.heartbeatTicks)
            cluster.stabilize()
        }
        #expect(cluster[n3].membership.removed.contains(n3), "n3: \(cluster[n3].membership) at \(cluster[n3].lastLogIndex)")
        #expect(cluster[n3].membership.voters == [n1, n2])
    }

    @Test("a lost farewell is repeated with the next heartbeats; a busy follower's farewell continues after the appends in flight")
    func farewellRepeatedAndPipelined() throws {
        var cluster = TestCluster(voters: [n1, n2, n3])
        cluster.elect(n1)
        _ = try cluster.propose(n1, "a")
        cluster.stabilize()
        // Appends in flight (not yet acknowledged) when the removal is proposed.
        _ = try cluster.propose(n1, "b")
        _ = try cluster.propose(n1, "c")
        var leader = cluster[n1]
        let removal = try leader.proposeMembershipChange(.remove(n3))
        cluster.nodes[n1] = leader
        cluster.perform(removal.actions, on: n1)
        // Lose every message to n3 after the removal: the first farewell included.
        let lost = cluster.take { $0.to == n3 && $0.body.isAppendCarrying(removal.index) }
        #expect(!lost.isEmpty, "the first farewell was sent")
        // n3's acknowledgements of the appends in flight are lost too (else each would bring the
        // rest of the farewell at once: farewellInParts).
        cluster.cutLinks = [[n3, n1]]
        cluster.stabilize()
        #expect(!cluster[n3].membership.removed.contains(n3))
        cluster.cutLinks = []
        for _ in 0..<3 {
            cluster.tick(n1)
            cluster.stabilize()
        }
        #expect(cluster[n3].membership.removed.contains(n3), "n3: \(cluster[n3].membership)")
        #expect(cluster.appliedData(n2) == ["a", "b", "c"])
    }
}

extension Raft.Body {
    /// Whether this is an append whose entries reach `index`.
    func isAppendCarrying(_ index: Raft.LogIndex) -> Bool {
        if case .append(let append) = self { return append.entries.contains { $0.index == index } }
        return false
    }
}
