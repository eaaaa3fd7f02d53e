import ClusterConfig
import Crypto
import Foundation
import Logging
import RaftStorage
import Synchronization

/// The cluster this node belongs to, as its data directory records it (`CLUSTER_ID`,
/// docs/security.md, "Cluster identity"), shared by the peer link (which presents it and refuses
/// peers of another cluster) and the API (which puts it into backups).
///
/// A node started with `--join` on a new data directory knows no id until a peer presents one:
/// it then adopts that one and writes it (``adopt(_:)``), so a node added with
/// `POST /api/cluster/nodes` needs nothing but the cluster's certificates.
public final class ClusterIdentity: Sendable {
    private let id: Mutex<ClusterID?>
    private let directory: String?
    private let logger: Logger

    /// An identity holding `id`; `directory` (a data directory) receives an adopted id.
    public init(_ id: ClusterID?, directory: String?, logger: Logger) {
        self.id = Mutex(id)
        self.directory = directory
        self.logger = logger
    }

    /// The id, or `nil` while a joining node has not adopted one.
    public var current: ClusterID? { id.withLock { $0 } }

    /// Takes `presented` as this node's id when it has none yet (a joining node's first peer),
    /// writing it to the data directory. Returns the id in force afterwards.
    @discardableResult
    public func adopt(_ presented: ClusterID) -> ClusterID {
        let (adopted, current) = id.withLock { id -> (Bool, ClusterID) in
            if let id { return (false, id) }
            id = presented
            return (true, presented)
        }
        guard adopted else { return current }
        logger.notice("adopted the cluster id a peer presented (this data directory had none)", metadata: ["cluster_id": "\(presented)"])
        if let directory {
            do {
                try ClusterIdentityFile.write(presented, directory: directory)
            } catch {
                logger.error("could not write the adopted cluster id; it is adopted again after a restart",
                             metadata: ["directory": "\(directory)", "error": "\(error)"])
            }
        }
        return current
    }

    /// The id a cluster's founding nodes all derive from the same config file, without talking to
    /// each other: SHA-256 of the cluster name, the CA certificate file's bytes and every
    /// `[[nodes]]` entry's id and Raft address (sorted by id), cut to 16 bytes. Two clusters share
    /// it only if they share all of these — i.e. they are the same cluster's config file. etcd
    /// derives its cluster id the same way (from `--initial-cluster` and its token).
    public static func derived(clusterName: String, authority: [UInt8], nodes: [(id: String, raftAddress: String)]) -> ClusterID {
        var hasher = SHA256()
        func add(_ bytes: [UInt8]) {
            var length = UInt64(bytes.count).littleEndian
            withUnsafeBytes(of: &length) { hasher.update(bufferPointer: $0) }
            hasher.update(data: bytes)
        }
        add(Array("quorum cluster id v1".utf8))
        add(Array(clusterName.utf8))
        add(authority)
        for node in nodes.sorted(by: { $0.id < $1.id }) {
            add(Array(node.id.utf8))
            add(Array(node.raftAddress.utf8))
        }
        // A SHA-256 digest is 32 bytes, so the prefix always has 16.
        return ClusterID(bytes: Array(Array(hasher.finalize()).prefix(16))) ?? .random()
    }

    /// The derived id of `config`'s founding configuration (``derived(clusterName:authority:nodes:)``).
    public static func derived(from config: NodeRuntimeConfig) throws -> ClusterID {
        let authority: [UInt8]
        do {
            authority = Array(try Data(contentsOf: URL(fileURLWithPath: config.tlsCA)))
        } catch {
            throw ClusterIdentityError("cannot read the CA certificate \(config.tlsCA) to derive the cluster id: \(error.localizedDescription)")
        }
        return derived(clusterName: config.cluster.cluster.name, authority: authority,
                       nodes: config.cluster.nodes.map { ($0.id, "\($0.raft.host):\($0.raft.port)") })
    }
}

/// A cluster id that cannot be read, derived or written; the message says which file and why.
public struct ClusterIdentityError: Error, CustomStringConvertible {
    /// What went wrong and what to do.
    public let description: String

    init(_ description: String) { self.description = description }
}
