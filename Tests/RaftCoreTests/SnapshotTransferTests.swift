import Testing
@testable import RaftCore

/// Issue #10, "snapshot transfer under load": one chunk stream per follower, no restart from
/// offset 0 caused by heartbeats, read rounds or a newer local snapshot, and chunks assembled
/// without copying the partial image (docs/raft.md, "Snapshot transfer").
@Suite("§7 snapshot transfer under load")
struct SnapshotTransferTests {
    /// n3 missed entries 2...6 that n1 then compacted into a 14-byte snapshot; chunks of 3 bytes.
    func laggingFollower(chunkBytes: Int = 3) throws -> TestCluster {
        var cluster = TestCluster(voters: [n1, n2, n3]) { $0.snapshotChunkBytes = chunkBytes }
        cluster.elect(n1)
        cluster.isolated = [n3]
        for index in 0..<5 { _ = try cluster.propose(n1, "e\(index)") }
        cluster.stabilize()
        cluster.tick(n1)
        cluster.stabilize()
        try #require(cluster[n1].commitIndex == Raft.LogIndex(6))
        let state = Array(cluster.appliedData(n1).joined(separator: ",").utf8)
        try cluster.takeSnapshot(n1, through: Raft.LogIndex(6), data: state)
        cluster.isolated = []
        return cluster
    }

    /// Delivers every message in flight, answers (heartbeat, read and chunk answers) before
    /// chunks, so heartbeats always overtake a chunk in flight. Returns the most chunks to `peer`
    /// that were in flight at once.
    @discardableResult
    func deliverAnswersFirst(_ cluster: inout TestCluster, to peer: Raft.NodeID) -> Int {
        var mostInFlight = 0
        var delivered = 0
        while !cluster.network.isEmpty, delivered < 10_000 {
            mostInFlight = max(mostInFlight, cluster.network.filter { $0.to == peer && $0.snapshotChunk != nil }.count)
            if let next = cluster.network.firstIndex(where: { $0.snapshotChunk == nil }) {
                let message = cluster.network.remove(at: next)
                cluster.deliver([message])
            } else {
                cluster.deliverNext()
            }
            delivered += 1
        }
        return mostInFlight
    }

    /// Delivers everything but chunks (answers first) until a chunk to `peer` is in flight, and
    /// takes it out of the network.
    func takeNextChunk(_ cluster: inout TestCluster, to peer: Raft.NodeID) -> Raft.Message? {
        for _ in 0..<1_000 {
            if let chunk = cluster.take(where: { $0.to == peer && $0.snapshotChunk != nil }).first { return chunk }
            guard let next = cluster.network.firstIndex(where: { $0.snapshotChunk == nil }) else { return nil }
            let message = cluster.network.remove(at: next)
            cluster.deliver([message])
        }
        return nil
    }

    /// With n3 cut off, n1 commits two more entries and snapshots through 8 (replacing 6); n3 is
    /// then reachable again.
    func snapshotAtEightWhileIsolated(_ cluster: inout TestCluster) throws {
        cluster.isolated = [n3]
        for index in 5..<7 { _ = try cluster.propose(n1, "e\(index)") }
        cluster.stabilize()
        cluster.tick(n1)
        cluster.stabilize()
        try cluster.takeSnapshot(n1, through: Raft.LogIndex(8), data: Array(cluster.appliedData(n1).joined(separator: ",").utf8))
        cluster.isolated = []
    }

    func chunks(_ cluster: TestCluster, to peer: Raft.NodeID) -> [Raft.InstallSnapshot] {
        cluster.sent.filter { $0.to == peer }.compactMap(\.snapshotChunk)
    }

    @Test("heartbeats and read rounds during a transfer start no second chunk stream and never restart it")
    func oneStreamUnderHeartbeatsAndReads() throws {
        var cluster = try laggingFollower()
        _ = try cluster.propose(n1, "after")
        var mostInFlight = 0
        for step in 0..<40 where cluster.appliedData(n3) != ["after"] {
            cluster.tick(n1)
            // A read round is a heartbeat round too.
            cluster.input(n1) { (try? $0.readIndex(context: Raft.ReadContext(UInt64(step + 1)))) ?? [] }
            mostInFlight = max(mostInFlight, deliverAnswersFirst(&cluster, to: n3))
        }
        let sent = chunks(cluster, to: n3)
        #expect(cluster.storage[n3]?.snapshot?.metadata.index == Raft.LogIndex(6))
        #expect(cluster.appliedData(n3) == ["after"])
        #expect(sent.filter { $0.offset == 0 }.count == 1, "restarted from offset 0: \(sent.map(\.offset))")
        #expect(mostInFlight <= 1, "\(mostInFlight) chunks in flight at once")
        // 14 bytes in chunks of 3: five chunks, each sent once.
        #expect(sent.map(\.offset) == [0, 3, 6, 9, 12], "chunks sent: \(sent.map(\.offset))")
    }

    @Test("while the follower makes the installed snapshot durable, heartbeats and reads do not send it again")
    func noRestartWhileTheInstallIsFsynced() throws {
        var cluster = try laggingFollower()
        cluster.autoPersist.remove(n3)
        cluster.tick(n1)
        deliverAnswersFirst(&cluster, to: n3)
        for _ in 0..<10 where !(cluster.storage[n3]?.pending.contains { if case .installSnapshot = $0 { true } else { false } } ?? false) {
            cluster.flush(n3)
            cluster.tick(n1)
            deliverAnswersFirst(&cluster, to: n3)
        }
        try #require(cluster.storage[n3]?.pending.contains { if case .installSnapshot = $0 { true } else { false } } == true,
                     "the last chunk never arrived")
        // The install is slow to become durable: a few election timeouts of heartbeats and reads.
        for step in 0..<35 {
            cluster.tick(n1)
            cluster.input(n1) { (try? $0.readIndex(context: Raft.ReadContext(UInt64(100 + step)))) ?? [] }
            deliverAnswersFirst(&cluster, to: n3)
        }
        cluster.flush(n3)
        for _ in 0..<3 {
            cluster.tick(n1)
            cluster.stabilize()
        }
        let offsets = chunks(cluster, to: n3).map(\.offset)
        #expect(offsets.filter { $0 == 0 }.count == 1, "restarted from offset 0: \(offsets)")
        #expect(cluster[n1].replicationState(of: n3)?.mode == "replicate")
        #expect(cluster[n3].commitIndex == cluster[n1].commitIndex)
    }

    @Test("a newer local snapshot on the leader does not restart the transfer in progress")
    func newerLeaderSnapshotMidTransfer() throws {
        var cluster = try laggingFollower()
        cluster.tick(n1)
        // Two chunks of snapshot 6 arrive, the third is in flight when the leader snapshots at 8.
        for _ in 0..<2 {
            let chunk = try #require(takeNextChunk(&cluster, to: n3))
            cluster.deliver([chunk])
        }
        let held = try #require(takeNextChunk(&cluster, to: n3))
        try snapshotAtEightWhileIsolated(&cluster)
        try #require(cluster[n1].commitIndex == Raft.LogIndex(8))
        cluster.deliver([held])
        for _ in 0..<40 where cluster[n3].commitIndex < Raft.LogIndex(8) {
            cluster.tick(n1)
            deliverAnswersFirst(&cluster, to: n3)
        }
        let ofSix = chunks(cluster, to: n3).filter { $0.metadata.index == Raft.LogIndex(6) }
        #expect(ofSix.filter { $0.offset == 0 }.count == 1, "snapshot 6 restarted: \(ofSix.map(\.offset))")
        #expect(ofSix.contains { $0.isLast }, "the transfer of snapshot 6 was abandoned: \(ofSix.map(\.offset))")
        #expect(cluster[n3].commitIndex == Raft.LogIndex(8))
    }

    @Test("the leader keeps no image: the shell reads each chunk, and keeps a replaced snapshot readable until its transfer ends")
    func chunksReadFromTheShellsImage() throws {
        var cluster = try laggingFollower()
        cluster.tick(n1)
        let first = try #require(takeNextChunk(&cluster, to: n3))
        #expect(first.snapshotChunk?.chunk == Array("e0,".utf8))
        #expect(cluster[n1].snapshotsInTransfer == [Raft.LogIndex(6)])
        cluster.deliver([first])
        try snapshotAtEightWhileIsolated(&cluster)
        // Snapshot 8 replaced 6, whose transfer goes on: its image must stay readable.
        #expect(cluster[n1].snapshotMetadata?.index == Raft.LogIndex(8))
        #expect(cluster[n1].snapshotsInTransfer == [Raft.LogIndex(6)])
        for _ in 0..<40 where cluster[n3].commitIndex < Raft.LogIndex(8) {
            cluster.tick(n1)
            deliverAnswersFirst(&cluster, to: n3)
        }
        #expect(cluster[n3].commitIndex == Raft.LogIndex(8))
        // Snapshot 6 was sent to its end, then 8 (the leader's log no longer reaches 6).
        #expect(chunks(cluster, to: n3).contains { $0.metadata.index == Raft.LogIndex(6) && $0.isLast })
        #expect(cluster.storage[n3]?.snapshot.map { String(decoding: $0.data, as: UTF8.self) } == "e0,e1,e2,e3,e4,e5,e6")
        #expect(cluster[n1].snapshotsInTransfer.isEmpty, "the shell would keep \(cluster[n1].snapshotsInTransfer) open")
        // Every chunk sent carries exactly its image's bytes at its offset.
        let images = [Raft.LogIndex(6): Array("e0,e1,e2,e3,e4".utf8), Raft.LogIndex(8): Array("e0,e1,e2,e3,e4,e5,e6".utf8)]
        for chunk in chunks(cluster, to: n3) {
            let image = try #require(images[chunk.metadata.index])
            #expect(chunk.chunk == Array(image[chunk.offset..<min(image.count, chunk.offset + 3)]))
        }
    }

    @Test("a transfer whose image the shell can no longer read starts over from the leader's current snapshot at once; the current one unreadable changes nothing")
    func unreadableImageRestartsFromTheCurrentSnapshot() throws {
        var cluster = try laggingFollower()
        cluster.tick(n1)
        // The first chunk of snapshot 6 is asked for — and, as when the leader had already
        // replaced 6's file with a newer snapshot it had not yet reported, never sent.
        _ = try #require(takeNextChunk(&cluster, to: n3))
        try snapshotAtEightWhileIsolated(&cluster)
        #expect(cluster[n1].snapshotsInTransfer == [Raft.LogIndex(6)])
        let before = cluster.sent.count
        cluster.input(n1) { $0.snapshotUnreadable(through: Raft.LogIndex(6)) }
        // Snapshot 8's first chunk goes now, not after an election timeout; 6 is let go.
        let restarted = cluster.sent[before...].compactMap { $0.to == n3 ? $0.snapshotChunk : nil }
        #expect(restarted.map(\.metadata.index) == [Raft.LogIndex(8)] && restarted.first?.offset == 0, "\(restarted)")
        #expect(cluster[n1].snapshotsInTransfer == [Raft.LogIndex(8)])
        // The current snapshot unreadable: nothing changes (the chunk is asked for again later).
        let unchanged = cluster.sent.count
        cluster.input(n1) { $0.snapshotUnreadable(through: Raft.LogIndex(8)) }
        #expect(cluster.sent.count == unchanged)
        #expect(cluster[n1].snapshotsInTransfer == [Raft.LogIndex(8)])
        for _ in 0..<40 where cluster[n3].commitIndex < Raft.LogIndex(8) {
            cluster.tick(n1)
            deliverAnswersFirst(&cluster, to: n3)
        }
        #expect(cluster[n3].commitIndex == Raft.LogIndex(8))
        #expect(cluster.storage[n3]?.snapshot.map { String(decoding: $0.data, as: UTF8.self) } == "e0,e1,e2,e3,e4,e5,e6")
    }

    @Test("a lost chunk is sent again within two election timeouts, from the follower's offset")
    func lostChunkResent() throws {
        var cluster = try laggingFollower()
        cluster.tick(n1)
        let first = try #require(takeNextChunk(&cluster, to: n3))
        cluster.deliver([first])
        // The answer to chunk 0 asks for chunk 1, which is lost.
        let lost = try #require(takeNextChunk(&cluster, to: n3))
        try #require(lost.snapshotChunk?.offset == 3)
        for _ in 0..<(2 * cluster[n1].config.electionTicks) where cluster.storage[n3]?.snapshot == nil {
            cluster.tick(n1)
            deliverAnswersFirst(&cluster, to: n3)
        }
        #expect(cluster.storage[n3]?.snapshot?.metadata.index == Raft.LogIndex(6))
        #expect(chunks(cluster, to: n3).filter { $0.offset == 0 }.count == 1)
    }

    @Test("a rejected append reaching a leader in snapshot state sends nothing and restarts nothing")
    func rejectedAppendInSnapshotState() throws {
        var cluster = try laggingFollower()
        cluster.tick(n1)
        let firstChunk = try #require(takeNextChunk(&cluster, to: n3))
        cluster.stabilize()
        #expect(cluster[n1].replicationState(of: n3)?.mode == "snapshot")
        let before = cluster.sent.count
        let rejection = Raft.Message(from: n3, to: n1, term: cluster[n1].term,
                                     body: .appendResponse(.rejected(rejectedIndex: Raft.LogIndex(7), hintIndex: Raft.LogIndex(1),
                                                                     hintTerm: Raft.Term(1))))
        cluster.deliver([rejection])
        #expect(cluster.sent.count == before)
        cluster.deliver([firstChunk])
        for _ in 0..<10 where cluster.storage[n3]?.snapshot == nil {
            cluster.tick(n1)
            deliverAnswersFirst(&cluster, to: n3)
        }
        #expect(chunks(cluster, to: n3).filter { $0.offset == 0 }.count == 1)
        #expect(cluster.storage[n3]?.snapshot?.metadata.index == Raft.LogIndex(6))
    }

    @Test("assembling N chunks copies O(total) bytes, not O(N × total)")
    func assemblyDoesNotCopyThePartialImage() throws {
        let metadata = Raft.SnapshotMetadata(index: Raft.LogIndex(1_000), term: Raft.Term(1),
                                             membership: Raft.Membership(voters: [n1, n2, n3]))
        var follower = Raft.Instance(config: Raft.Config(id: n2), membership: Raft.Membership(voters: [n1, n2, n3]), seed: 1)
        let chunkBytes = 1_024
        let chunkCount = 256
        var reallocations = 0
        var bytesCopied = 0
        var previous: UInt?
        for index in 0..<chunkCount {
            let chunk = Raft.InstallSnapshot(metadata: metadata, offset: index * chunkBytes,
                                             chunk: Array(repeating: UInt8(truncatingIfNeeded: index), count: chunkBytes), isLast: false)
            _ = follower.receive(Raft.Message(from: n1, to: n2, term: Raft.Term(1), body: .installSnapshot(chunk)))
            let address = follower.incomingSnapshot?.data.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }
            if let previous, address != previous {
                reallocations += 1
                bytesCopied += index * chunkBytes  // the bytes that were there before this chunk
            }
            previous = address
        }
        let total = chunkBytes * chunkCount
        #expect(follower.incomingSnapshot?.data.count == total)
        print("assembled \(chunkCount) chunks (\(total) bytes): \(reallocations) reallocations, \(bytesCopied) bytes copied")
        // Geometric growth reallocates about log2(256) times and copies < 2 × total in all.
        #expect(reallocations <= 20)
        #expect(bytesCopied < 2 * total)
    }
}

extension Raft.Message {
    /// The InstallSnapshot chunk this message carries, if it is one.
    var snapshotChunk: Raft.InstallSnapshot? {
        if case .installSnapshot(let chunk) = body { chunk } else { nil }
    }
}
