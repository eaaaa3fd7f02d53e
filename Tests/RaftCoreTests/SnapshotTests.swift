import Testing
@testable import RaftCore

@Suite("§7 log compaction and InstallSnapshot")
struct SnapshotTests {
    /// A cluster where n3 missed entries that n1 then compacted away.
    func clusterWithCompactedLeader(chunkBytes: Int = 1 << 20) throws -> TestCluster {
        var cluster = TestCluster(voters: [n1, n2, n3]) { $0.snapshotChunkBytes = chunkBytes }
        cluster.elect(n1)
        cluster.isolated = [n3]
        for index in 0..<5 { _ = try cluster.propose(n1, "e\(index)") }
        cluster.stabilize()
        cluster.tick(n1)
        cluster.stabilize()
        #expect(cluster[n1].commitIndex == Raft.LogIndex(6))
        let state = Array(cluster.appliedData(n1).joined(separator: ",").utf8)
        try cluster.takeSnapshot(n1, through: Raft.LogIndex(6), data: state)
        return cluster
    }

    @Test("§7 a snapshot compacts the log behind it")
    func compaction() throws {
        let cluster = try clusterWithCompactedLeader()
        #expect(cluster[n1].firstLogIndex == Raft.LogIndex(7))
        #expect(cluster[n1].snapshotMetadata?.index == Raft.LogIndex(6))
        #expect(cluster[n1].snapshotMetadata?.membership == Raft.Membership(voters: [n1, n2, n3]))
        #expect(cluster.storage[n1]?.entries.isEmpty == true)
    }

    @Test("§7 a follower behind the compacted log receives the snapshot and catches up", arguments: [1 << 20, 3])
    func installSnapshot(chunkBytes: Int) throws {
        var cluster = try clusterWithCompactedLeader(chunkBytes: chunkBytes)
        cluster.isolated = []
        _ = try cluster.propose(n1, "after")
        for _ in 0..<5 {
            cluster.tick(n1)
            cluster.stabilize()
        }
        let installed = cluster.storage[n3]?.snapshot
        #expect(installed?.metadata.index == Raft.LogIndex(6))
        #expect(installed.map { String(decoding: $0.data, as: UTF8.self) } == "e0,e1,e2,e3,e4")
        #expect(cluster[n3].commitIndex == Raft.LogIndex(7))
        #expect(cluster.appliedData(n3) == ["after"])
        #expect(cluster[n1].replicationState(of: n3)?.mode == "replicate")
        if chunkBytes == 3 {
            let chunks = cluster.sent.filter { if case .installSnapshot = $0.body { true } else { false } }
            #expect(chunks.count >= 5)
        }
    }

    @Test("§7 an old snapshot delivered late is ignored")
    func staleSnapshotIgnored() throws {
        var cluster = TestCluster(voters: [n1, n2, n3])
        cluster.elect(n1)
        for index in 0..<3 { _ = try cluster.propose(n1, "e\(index)") }
        cluster.stabilize()
        cluster.tick(n1)
        cluster.stabilize()
        let old = Raft.SnapshotMetadata(index: Raft.LogIndex(2), term: Raft.Term(1), membership: Raft.Membership(voters: [n1, n2, n3]))
        let chunk = Raft.InstallSnapshot(metadata: old, offset: 0, chunk: [1, 2, 3], isLast: true)
        cluster.input(n2) { $0.receive(Raft.Message(from: n1, to: n2, term: Raft.Term(1), body: .installSnapshot(chunk))) }
        #expect(cluster[n2].lastLogIndex == Raft.LogIndex(4))
        #expect(cluster.storage[n2]?.snapshot == nil)
    }

    @Test("§7 a node restarts from its snapshot plus the log after it")
    func restartFromSnapshot() throws {
        var cluster = try clusterWithCompactedLeader()
        _ = try cluster.propose(n1, "tail")
        cluster.stabilize()
        cluster.crash(n1)
        cluster.restart(n1)
        #expect(cluster[n1].firstLogIndex == Raft.LogIndex(7))
        #expect(cluster[n1].lastLogIndex == Raft.LogIndex(7))
        #expect(cluster[n1].membership == Raft.Membership(voters: [n1, n2, n3]))
    }

    @Test("§7 a crash in the middle of a chunked transfer resumes from the beginning")
    func crashMidTransfer() throws {
        var cluster = try clusterWithCompactedLeader(chunkBytes: 4)
        cluster.isolated = []
        cluster.tick(n1)
        // Deliver a couple of chunks, then crash the receiver.
        for _ in 0..<6 where !cluster.network.isEmpty { cluster.deliverNext() }
        cluster.crash(n3)
        cluster.restart(n3)
        for _ in 0..<10 {
            cluster.tick(n1)
            cluster.stabilize()
        }
        #expect(cluster.storage[n3]?.snapshot?.metadata.index == Raft.LogIndex(6))
        #expect(cluster[n3].commitIndex == Raft.LogIndex(6))
    }

    @Test("§7 a snapshot beyond the applied index is refused")
    func invalidSnapshot() throws {
        var cluster = TestCluster(voters: [n1])
        cluster.elect(n1)
        var node = cluster[n1]
        do {
            _ = try node.snapshotTaken(through: Raft.LogIndex(9), byteCount: 0)
            Issue.record("accepted a snapshot beyond the applied index")
        } catch {
            #expect(error.code == .invalidSnapshot)
        }
    }

    @Test("§7 the instance asks for a snapshot once enough entries are applied")
    func snapshotSuggestion() throws {
        var node = Raft.Instance(config: Raft.Config(id: n1, snapshotInterval: 2), membership: Raft.Membership(voters: [n1]), seed: 1)
        var actions: [Raft.Action] = []
        for _ in 0..<node.randomizedElectionTimeout { actions += node.tick() }
        actions += node.persisted(hardState: node.hardState)
        _ = try node.propose([1])
        actions = node.persisted(through: Raft.LogIndex(2), term: node.term)
        #expect(actions.contains { if case .apply = $0 { true } else { false } })
        actions = node.applied(through: Raft.LogIndex(2))
        #expect(actions == [.takeSnapshot(through: Raft.LogIndex(2))])
    }

    @Test("§7 the instance asks for a snapshot once the applied entries hold enough bytes")
    func snapshotSuggestionBySize() throws {
        var node = Raft.Instance(config: Raft.Config(id: n1, snapshotIntervalBytes: 100), membership: Raft.Membership(voters: [n1]),
                                 seed: 1)
        for _ in 0..<node.randomizedElectionTimeout { _ = node.tick() }
        _ = node.persisted(hardState: node.hardState)
        _ = try node.propose(Array(repeating: 7, count: 60))
        _ = node.persisted(through: Raft.LogIndex(2), term: node.term)
        #expect(node.applied(through: Raft.LogIndex(2)).isEmpty)  // 60 bytes: not yet
        _ = try node.propose(Array(repeating: 7, count: 60))
        _ = node.persisted(through: Raft.LogIndex(3), term: node.term)
        #expect(node.applied(through: Raft.LogIndex(3)) == [.takeSnapshot(through: Raft.LogIndex(3))])
        _ = try node.propose([1])
        _ = node.persisted(through: Raft.LogIndex(4), term: node.term)
        #expect(node.applied(through: Raft.LogIndex(4)).isEmpty)  // the count starts again
    }

    /// A single-voter leader whose log holds its election's entry (index 1); `propose` appends
    /// `bytes`, makes it durable and returns the actions of applying through it.
    private struct SnapshotPacer {
        var node: Raft.Instance
        init(_ config: Raft.Config) {
            node = Raft.Instance(config: config, membership: Raft.Membership(voters: [n1]), seed: 1)
            for _ in 0..<node.randomizedElectionTimeout { _ = node.tick() }
            _ = node.persisted(hardState: node.hardState)
        }
        mutating func apply(_ bytes: Int) throws -> [Raft.Action] {
            _ = try node.propose(Array(repeating: 7, count: bytes))
            let last = node.lastLogIndex
            _ = node.persisted(through: last, term: node.term)
            return node.applied(through: last)
        }
    }

    @Test("§7 with an image divisor, a count-due snapshot waits until the log since the last one holds image / divisor bytes")
    func snapshotPacedByImageSize() throws {
        var pacer = SnapshotPacer(Raft.Config(id: n1, snapshotInterval: 2, snapshotImageDivisor: 2))
        // No snapshot yet: the count alone decides.
        #expect(try pacer.apply(10) == [.takeSnapshot(through: Raft.LogIndex(2))])
        _ = try pacer.node.snapshotTaken(through: Raft.LogIndex(2), byteCount: 1_000)
        // A 1,000-byte image: due by count at 4, but 20 bytes since are under 500.
        #expect(try pacer.apply(10).isEmpty)
        #expect(try pacer.apply(10).isEmpty)
        #expect(try pacer.apply(400).isEmpty)  // 420
        #expect(try pacer.apply(80) == [.takeSnapshot(through: Raft.LogIndex(6))])  // 500
        // A small image again: the count decides as before.
        _ = try pacer.node.snapshotTaken(through: Raft.LogIndex(6), byteCount: 4)
        #expect(try pacer.apply(1).isEmpty)
        #expect(try pacer.apply(1) == [.takeSnapshot(through: Raft.LogIndex(8))])
    }

    @Test("§7 the max interval asks whatever the image; the byte interval still asks before the count")
    func snapshotMaxIntervalAndBytes() throws {
        var pacer = SnapshotPacer(Raft.Config(id: n1, snapshotInterval: 2, snapshotIntervalBytes: 300,
                                              snapshotImageDivisor: 1, snapshotMaxInterval: 4))
        #expect(try pacer.apply(1) == [.takeSnapshot(through: Raft.LogIndex(2))])
        _ = try pacer.node.snapshotTaken(through: Raft.LogIndex(2), byteCount: 1_000_000)
        #expect(try pacer.apply(1).isEmpty)
        #expect(try pacer.apply(1).isEmpty)
        #expect(try pacer.apply(1).isEmpty)
        #expect(try pacer.apply(1) == [.takeSnapshot(through: Raft.LogIndex(6))])  // 4 entries beyond 2
        _ = try pacer.node.snapshotTaken(through: Raft.LogIndex(6), byteCount: 1_000_000)
        #expect(try pacer.apply(299).isEmpty)
        #expect(try pacer.apply(1) == [.takeSnapshot(through: Raft.LogIndex(8))])  // 300 bytes
    }

    @Test("§7 a max interval below the interval is refused, naming both")
    func snapshotMaxIntervalValidated() {
        #expect(throws: Raft.ConfigError(field: "snapshotMaxInterval", message: "must be at least snapshotInterval (10), got 5")) {
            try Raft.Config(id: n1, snapshotInterval: 10, snapshotMaxInterval: 5).validate()
        }
        #expect(throws: Raft.ConfigError(field: "snapshotImageDivisor", message: "must be positive, got 0")) {
            try Raft.Config(id: n1, snapshotImageDivisor: 0).validate()
        }
    }

    @Test("§7 a duplicated first chunk does not restart a transfer in progress")
    func duplicateFirstChunk() throws {
        var cluster = try clusterWithCompactedLeader(chunkBytes: 3)
        cluster.isolated = []
        cluster.tick(n1)
        var firstChunk: Raft.Message?
        for _ in 0..<8 where !cluster.network.isEmpty {
            if case .installSnapshot(let chunk) = cluster.network[0].body, chunk.offset == 0 { firstChunk = cluster.network[0] }
            cluster.deliverNext()
        }
        let chunk = try #require(firstChunk)
        cluster.deliver([chunk])
        for _ in 0..<6 {
            cluster.tick(n1)
            cluster.stabilize()
        }
        #expect(cluster.storage[n3]?.snapshot.map { String(decoding: $0.data, as: UTF8.self) } == "e0,e1,e2,e3,e4")
    }

    @Test("§3.10 transfer to a follower that first needs a snapshot (etcd TestLeaderTransferAfterSnapshot)")
    func transferAfterSnapshot() throws {
        var cluster = try clusterWithCompactedLeader()
        cluster.isolated = []
        cluster.input(n1) { try! $0.transferLeadership(to: n3) }
        for _ in 0..<5 where cluster.leaders != [n3] {
            cluster.tick(n1)
            cluster.stabilize()
        }
        #expect(cluster.leaders == [n3])
        #expect(cluster.storage[n3]?.snapshot?.metadata.index == Raft.LogIndex(6))
    }
}
