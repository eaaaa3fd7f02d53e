import ClusterConfig
import Crypto
import Foundation
import Logging
import Node
import RaftCore
import RaftStorage

/// The two ways a data directory becomes the start of a NEW cluster (docs/operations.md):
/// ``restore(_:fileDigest:config:logger:)`` builds one from a backup, and
/// ``forceNewCluster(_:logger:)`` turns a survivor of a lost quorum into a one-member cluster.
/// Both give the directory a new cluster id, so the old cluster's nodes are refused by it
/// (docs/security.md, "Cluster identity"). Both run before the node opens the directory.
public enum ClusterRebuild {
    /// What a rebuild did, for the operator.
    public struct Outcome: Sendable {
        /// The new cluster's id.
        public var clusterID: ClusterID
        /// The log index the node starts from.
        public var index: UInt64
        /// The voters of the new configuration.
        public var voters: [String]
    }

    /// Builds `config`'s node's data directory from `backup`: a new incarnation, a new cluster id
    /// (the same on every node restored from the same file with the same config, see
    /// ``restoredClusterID(fileDigest:config:)``), the scheduler state as a snapshot at the
    /// backup's index and term, and the config's `[[nodes]]` as the configuration (voters and
    /// learners as the file says, every incarnation unrecorded, as for founding members).
    /// Refuses a data directory that exists and is not empty.
    public static func restore(_ backup: ClusterBackup, fileDigest: [UInt8], config: NodeRuntimeConfig,
                               logger: Logger) async throws -> Outcome {
        let directory = config.dataDirectory
        let existing = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        guard existing.isEmpty else {
            throw ClusterIdentityError(
                "the data directory \(directory) is not empty (\(existing.sorted().prefix(5).joined(separator: ", "))): a restore "
                    + "builds a new node and never overwrites one; give a new [cluster] data_dir or move the directory aside")
        }
        _ = try DataDirectory.create(directory)
        let incarnation = try DataDirectoryIncarnation.openOrCreate(directory: directory)
        let clusterID = try restoredClusterID(fileDigest: fileDigest, config: config)
        try ClusterIdentityFile.write(clusterID, directory: directory)
        let membership = Raft.Membership(voters: Set(config.cluster.nodes.filter(\.voter).map { Raft.NodeID($0.id) }),
                                         learners: Set(config.cluster.nodes.filter { !$0.voter }.map { Raft.NodeID($0.id) }))
        let term = Raft.Term(max(1, backup.header.term))
        let index = Raft.LogIndex(backup.header.index)
        let store = try await FileLogStore.open(directory: directory + "/wal", options: FileLogStore.Options(logger: logger))
        do {
            try await store.saveSnapshot(SnapshotEnvelope.storeSnapshot(
                Raft.Snapshot(metadata: Raft.SnapshotMetadata(index: index, term: term, membership: membership), data: backup.image)))
            _ = try await store.persist(hardState: Raft.HardState(term: term, vote: nil, commit: index), entries: [])
        } catch {
            await store.close()
            throw error
        }
        await store.close()
        logger.notice("restored a backup into a new cluster's data directory", metadata: [
            "directory": "\(directory)", "index": "\(index.rawValue)", "cluster_id": "\(clusterID)",
            "incarnation": "0x\(String(incarnation.id, radix: 16))",
        ])
        return Outcome(clusterID: clusterID, index: index.rawValue, voters: membership.voters.map(\.rawValue).sorted())
    }

    /// The id every node restored from one backup file (its SHA-256, `fileDigest`) with one config
    /// gets: SHA-256 over that digest and the config's derived id. It differs from the backed-up
    /// cluster's id (whatever its config) and from the id a fresh cluster on this config derives.
    public static func restoredClusterID(fileDigest: [UInt8], config: NodeRuntimeConfig) throws -> ClusterID {
        var hasher = SHA256()
        hasher.update(data: Array("quorum restored cluster id v1".utf8))
        hasher.update(data: fileDigest)
        hasher.update(data: try ClusterIdentity.derived(from: config).bytes)
        return ClusterID(bytes: Array(Array(hasher.finalize()).prefix(16))) ?? .random()
    }

    /// Makes the node of `config` the only voter of a new cluster, keeping its log and state
    /// (etcd's `--force-new-cluster`): appends a configuration entry naming it alone (learners
    /// and the member directory as they were), one term above anything in the log, and records
    /// everything in its log — that entry included — as committed; writes a new random cluster
    /// id. Entries this node holds but never learned were committed are treated as committed;
    /// entries the lost majority committed that never reached it are gone (docs/operations.md).
    public static func forceNewCluster(_ config: NodeRuntimeConfig, logger: Logger) async throws -> Outcome {
        let directory = config.dataDirectory
        let wal = directory + "/wal"
        guard !((try? FileManager.default.contentsOfDirectory(atPath: wal)) ?? []).isEmpty else {
            throw ClusterIdentityError("--force-new-cluster: \(wal) holds no log: this node has nothing to keep; "
                                       + "restore a backup instead (quorum snapshot restore, docs/operations.md)")
        }
        let incarnation = try DataDirectoryIncarnation.openOrCreate(directory: directory)
        let store = try await FileLogStore.open(directory: wal, options: FileLogStore.Options(logger: logger))
        let outcome: Outcome
        do {
            let selfID = Raft.NodeID(config.node.id)
            var latest: Raft.Membership?
            var lastTerm = store.hardState.term
            if let stored = store.snapshot {
                latest = try SnapshotEnvelope.raftSnapshot(stored).metadata.membership
                lastTerm = max(lastTerm, stored.term)
            }
            if store.lastIndex >= store.firstIndex {
                for entry in try store.entries(from: store.firstIndex, through: store.lastIndex) {
                    lastTerm = max(lastTerm, entry.term)
                    if let membership = entry.membership { latest = membership }
                }
            }
            let previous = latest ?? Raft.Membership(voters: [])
            let next = Raft.Membership(voters: [selfID], learners: previous.learners.subtracting([selfID]), removed: previous.removed,
                                       incarnations: [selfID: incarnation.id], directory: previous.directory)
            let term = Raft.Term(lastTerm.rawValue + 1)
            let index = Raft.LogIndex(store.lastIndex.rawValue + 1)
            _ = try await store.persist(hardState: Raft.HardState(term: term, vote: selfID, commit: index),
                                        entries: [Raft.Entry(term: term, index: index, kind: .configChange, data: next.encoded)])
            let clusterID = ClusterID.random()
            try ClusterIdentityFile.write(clusterID, directory: directory)
            logger.warning("FORCE-NEW-CLUSTER: this node is now the only voter of a new cluster", metadata: [
                "previous_voters": "\(previous.voters.map(\.rawValue).sorted())", "configuration_index": "\(index.rawValue)",
                "term": "\(term.rawValue)", "cluster_id": "\(clusterID)",
            ])
            outcome = Outcome(clusterID: clusterID, index: index.rawValue, voters: [selfID.rawValue])
        } catch {
            await store.close()
            throw error
        }
        await store.close()
        return outcome
    }
}
