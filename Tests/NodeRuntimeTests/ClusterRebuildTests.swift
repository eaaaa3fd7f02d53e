import ClusterConfig
import Foundation
import Logging
import Node
@testable import NodeRuntime
import RaftCore
import RaftStorage
import SchedulerCore
import Testing

/// `quorum snapshot restore` and `--force-new-cluster` on data directories, without a node
/// (the real-process proof is `ClusterTests/BackupRestoreTests`).
@Suite("Cluster rebuild: restore and force-new-cluster")
struct ClusterRebuildTests {
    let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
    let root = NSTemporaryDirectory() + "rebuild-\(UUID().uuidString)"

    func config(_ id: String, nodes: [String] = ["n1", "n2", "n3"], learners: Set<String> = []) throws -> NodeRuntimeConfig {
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try Data("a CA".utf8).write(to: URL(fileURLWithPath: root + "/ca.pem"))
        let cluster = ClusterConfig(
            cluster: .init(name: "rebuild", dataDir: "data/{id}"), tls: .init(ca: "ca.pem", cert: "{id}.pem", key: "{id}.key"),
            nodes: nodes.enumerated().map { index, id in
                ClusterConfig.Node(id: id, raft: NodeAddress(host: "127.0.0.1", port: 7000 + index),
                                   api: NodeAddress(host: "127.0.0.1", port: 8000 + index), voter: !learners.contains(id))
            })
        return try NodeRuntimeConfig.resolve(cluster, id: id, file: "c.toml", environment: [:], workingDirectory: root)
    }

    @Test("restore writes an incarnation, the new cluster id and a snapshot at the backup's index with the config's members; a non-empty directory is refused")
    func restore() async throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let image = SchedulerState(config: SchedulerConfig()).snapshot()
        let old = ClusterID.random()
        let backup = ClusterBackup(header: ClusterBackup.Header(index: 42, term: 3, clusterID: old, takenAtMilliseconds: 0, nodeID: "x",
                                                                membership: Raft.Membership(voters: ["x"])), image: image)
        let digest = Array(backup.encoded().suffix(32))
        var ids: Set<ClusterID> = []
        for id in ["n1", "n2", "n3"] {
            let node = try config(id, nodes: ["n1", "n2", "n3", "l1"], learners: ["l1"])
            let outcome = try await ClusterRebuild.restore(backup, fileDigest: digest, config: node, logger: logger)
            #expect(outcome.index == 42)
            ids.insert(outcome.clusterID)
            #expect(try ClusterIdentityFile.read(directory: node.dataDirectory) == outcome.clusterID)
            #expect(FileManager.default.fileExists(atPath: node.dataDirectory + "/INCARNATION"))
            let store = try await FileLogStore.open(directory: node.dataDirectory + "/wal")
            let stored = try #require(store.snapshot)
            let snapshot = try SnapshotEnvelope.raftSnapshot(stored)
            #expect(snapshot.metadata.index == Raft.LogIndex(42) && snapshot.metadata.term == Raft.Term(3))
            #expect(snapshot.metadata.membership.voters == ["n1", "n2", "n3"])
            #expect(snapshot.metadata.membership.learners == ["l1"])
            #expect(snapshot.data == image)
            #expect(store.hardState.commit == Raft.LogIndex(42))
            await store.close()
            await #expect(throws: (any Error).self) {
                _ = try await ClusterRebuild.restore(backup, fileDigest: digest, config: node, logger: logger)
            }
        }
        #expect(ids.count == 1, "every node of one restore gets one id")
        #expect(!ids.contains(old))
    }

    @Test("force-new-cluster appends a configuration naming the node alone, commits the whole log and writes a new cluster id")
    func force() async throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let node = try config("n2")
        let wal = node.dataDirectory + "/wal"
        let store = try await FileLogStore.open(directory: wal)
        let founding = Raft.Membership(voters: ["n1", "n2", "n3"], learners: ["l1"])
        _ = try await store.persist(hardState: Raft.HardState(term: Raft.Term(4), vote: "n1", commit: Raft.LogIndex(2)), entries: [
            Raft.Entry(term: Raft.Term(1), index: Raft.LogIndex(1), kind: .configChange, data: founding.encoded),
            Raft.Entry(term: Raft.Term(2), index: Raft.LogIndex(2), kind: .noop),
            Raft.Entry(term: Raft.Term(5), index: Raft.LogIndex(3), kind: .noop),
        ])
        await store.close()
        try ClusterIdentityFile.write(.random(), directory: node.dataDirectory)
        let before = try ClusterIdentityFile.read(directory: node.dataDirectory)
        let outcome = try await ClusterRebuild.forceNewCluster(node, logger: logger)
        #expect(outcome.index == 4 && outcome.voters == ["n2"])
        #expect(try ClusterIdentityFile.read(directory: node.dataDirectory) == outcome.clusterID)
        #expect(outcome.clusterID != before)
        let reopened = try await FileLogStore.open(directory: wal)
        let last = try #require(try reopened.entries(from: Raft.LogIndex(4), through: Raft.LogIndex(4)).first)
        #expect(last.term == Raft.Term(6))
        let membership = try #require(last.membership)
        #expect(membership.voters == ["n2"] && membership.learners == ["l1"])
        #expect(membership.incarnation(of: "n2") != 0)
        #expect(reopened.hardState.commit == Raft.LogIndex(4) && reopened.hardState.term == Raft.Term(6))
        await reopened.close()
        // A directory without a log has nothing to keep.
        let empty = try config("n3")
        await #expect(throws: (any Error).self) { _ = try await ClusterRebuild.forceNewCluster(empty, logger: logger) }
    }
}
