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
    /// identity"). A directory without one gets the id derived from the config
    /// (``ClusterIdentity/derived(from:)``), written before anything else: the founding nodes
    /// agree on it without talking, and a directory upgraded from a build without cluster ids
    /// gets the same one as its peers. A joining node's new directory (`--join`, empty WAL) gets
    /// none: it adopts the one its cluster presents, since its config file need not list the
    /// founding members.
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
        try ClusterIdentityFile.write(derived, directory: directory)
        logger.info("cluster id derived from the config's cluster name, CA and [[nodes]]", metadata: ["cluster_id": "\(derived)"])
        return ClusterIdentity(derived, directory: directory, logger: logger)
    }
}
