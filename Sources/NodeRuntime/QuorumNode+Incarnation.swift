import ClusterConfig
import Foundation
import Logging
import RaftStorage

extension QuorumNode {
    /// Opens the data directory's incarnation before the WAL (docs/storage.md, "Incarnation
    /// file"). A directory whose WAL is missing or empty holds no vote and no entry, so whatever
    /// incarnation file it has is replaced by a new one: only part of the directory may have
    /// been wiped (the WAL but not `INCARNATION`), and a new incarnation only makes the node more
    /// careful. A directory with a WAL keeps its incarnation; one upgraded from a build without
    /// incarnations gets its first one and is not treated as new (it kept its vote and log).
    static func openIncarnation(dataDirectory: String, logger: Logger) throws -> (id: UInt64, isNew: Bool) {
        let wal = dataDirectory + "/wal"
        let walIsEmpty = ((try? FileManager.default.contentsOfDirectory(atPath: wal)) ?? []).isEmpty
        var incarnation = try DataDirectoryIncarnation.openOrCreate(directory: dataDirectory)
        if walIsEmpty && !incarnation.isNew {
            try FileManager.default.removeItem(atPath: dataDirectory + "/" + DataDirectoryIncarnation.fileName)
            incarnation = try DataDirectoryIncarnation.openOrCreate(directory: dataDirectory)
        }
        // Only a directory without a log is new: it may have voted and acknowledged entries in an
        // earlier life, so it abstains from elections until the leader records it again.
        let isNew = incarnation.isNew && walIsEmpty
        logger.info("data directory incarnation", metadata: [
            "incarnation": "0x\(String(incarnation.id, radix: 16))", "new": "\(isNew)",
        ])
        return (incarnation.id, isNew)
    }

    /// Reads the data directory's cluster id (`CLUSTER_ID`, docs/security.md, "Cluster
    /// identity"). A directory without one:
    ///
    /// - with a log (upgraded from a build without cluster ids, or new and stopped before its
    ///   id was confirmed) gets the id derived from the config (``ClusterIdentity/derived(from:)``),
    ///   written at once: its log belongs to the cluster the config describes, and it must never
    ///   take another cluster's id (that is what would let an old node's log into a new cluster);
    /// - without a log (new or wiped) starts with the derived id as a *provisional* one, which
    ///   the first confirmed peer's replaces (a wiped node of a cluster whose config changed since
    ///   its founding) and an election confirms (``ClusterIdentity/confirmLeading()``);
    /// - without a log and with `--join` starts with none and takes its cluster's.
    static func openClusterIdentity(_ config: NodeRuntimeConfig, joining: Bool, logger: Logger) throws -> ClusterIdentity {
        let directory = config.dataDirectory
        if let stored = try ClusterIdentityFile.read(directory: directory) {
            logger.info("cluster id", metadata: ["cluster_id": "\(stored)"])
            return ClusterIdentity(stored, directory: directory, logger: logger)
        }
        let walIsEmpty = ((try? FileManager.default.contentsOfDirectory(atPath: directory + "/wal")) ?? []).isEmpty
        if joining && walIsEmpty {
            logger.info("no cluster id yet: adopting the one the cluster presents")
            return ClusterIdentity(nil, directory: directory, logger: logger)
        }
        let derived = try ClusterIdentity.derived(from: config)
        guard walIsEmpty else {
            try ClusterIdentityFile.write(derived, directory: directory)
            logger.notice("this data directory has a log but no cluster id: the one derived from the config is now its own", metadata: ["cluster_id": "\(derived)"])
            return ClusterIdentity(derived, directory: directory, logger: logger)
        }
        logger.info("provisional cluster id derived from the config; an election or the cluster's first hello confirms or replaces it",
                    metadata: ["cluster_id": "\(derived)"])
        return ClusterIdentity(derived, provisional: true, directory: directory, logger: logger)
    }
}
