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
/// An id is *confirmed* once it is in the data directory's `CLUSTER_ID` file, and *provisional*
/// before. Only a new or wiped directory (no log) is provisional (see
/// `QuorumNode.openClusterIdentity`): it starts with the id derived from the config
/// (``derived(from:)``), kept only in memory, until an election confirms it
/// (``confirmLeading()`` — how a new cluster's id is first confirmed) or a peer presents a
/// confirmed id — the same one confirms it, another one replaces it (the directory was wiped, or
/// the config changed since the cluster was founded: the cluster's id wins). Either way it is then
/// written. A node started with `--join` on a new directory has no id until a peer presents one.
/// A confirmed node refuses every peer presenting another *confirmed* id, and reads provisional
/// ones: a provisional directory holds no log, and takes this cluster's id at its first hello.
public final class ClusterIdentity: Sendable {
    /// What this node does with a peer's cluster hello.
    public enum Verdict: Equatable, Sendable {
        /// The peer belongs to this cluster, or cannot be judged yet: its frames are read.
        case accept
        /// The peer presented another confirmed cluster's id: its frames are dropped.
        case refuse
    }

    private struct State {
        var id: ClusterID?
        var provisional: Bool
    }

    private let state: Mutex<State>
    private let directory: String?
    private let logger: Logger

    /// An identity holding `id` (confirmed unless `provisional`); `directory` (a data directory)
    /// receives the id once it is confirmed or adopted.
    public init(_ id: ClusterID?, provisional: Bool = false, directory: String?, logger: Logger) {
        self.state = Mutex(State(id: id, provisional: provisional || id == nil))
        self.directory = directory
        self.logger = logger
    }

    /// The id, or `nil` while a joining node has not adopted one.
    public var current: ClusterID? { state.withLock { $0.id } }

    /// Whether the id is not yet confirmed (not in `CLUSTER_ID`).
    public var isProvisional: Bool { state.withLock { $0.provisional } }

    /// Judges a peer's cluster hello: `presented`, confirmed unless `provisional`. Confirms or
    /// adopts (and writes) an id as the type's rules say.
    public func judge(_ presented: ClusterID, provisional presentedIsProvisional: Bool) -> Verdict {
        enum Step { case none, write(ClusterID, String) }
        let (verdict, step) = state.withLock { state -> (Verdict, Step) in
            guard let own = state.id else {
                state.id = presented
                state.provisional = presentedIsProvisional
                return (.accept, presentedIsProvisional ? .none : .write(presented, "adopted the cluster id a peer presented (this data directory had none)"))
            }
            if !state.provisional {
                return (own == presented || presentedIsProvisional ? .accept : .refuse, .none)
            }
            if own == presented {
                guard !presentedIsProvisional else { return (.accept, .none) }
                state.provisional = false
                return (.accept, .write(own, "cluster id confirmed by a peer"))
            }
            guard !presentedIsProvisional else { return (.accept, .none) }
            state.id = presented
            state.provisional = false
            return (.accept, .write(presented, "adopted the cluster's id in place of the one derived from the config "
                                        + "(a new or wiped data directory, or a config changed since the cluster was founded)"))
        }
        if case .write(let id, let why) = step { persist(id, why) }
        return verdict
    }

    /// This node was elected leader: a provisional id becomes the cluster's (written), and the
    /// followers adopt it from its hellos. A majority elected it, so at a founding every voter
    /// derived the same id; a node whose directory was wiped never leads before it adopted the
    /// cluster's (it abstains until the leader records its new incarnation, docs/raft.md). A node
    /// with no id at all (joined, never heard a peer) takes a random one.
    public func confirmLeading() {
        let confirmed = state.withLock { state -> ClusterID? in
            guard state.provisional else { return nil }
            let id = state.id ?? .random()
            state.id = id
            state.provisional = false
            return id
        }
        if let confirmed { persist(confirmed, "cluster id confirmed: this node was elected leader with it") }
    }

    private func persist(_ id: ClusterID, _ why: String) {
        logger.notice("\(why)", metadata: ["cluster_id": "\(id)"])
        guard let directory else { return }
        do {
            try ClusterIdentityFile.write(id, directory: directory)
        } catch {
            logger.error("could not write the cluster id; it is derived or adopted again after a restart",
                         metadata: ["directory": "\(directory)", "error": "\(error)"])
        }
    }

    /// The id a cluster's founding nodes all derive from the same config file, without talking to
    /// each other: SHA-256 of the cluster name, the CA certificate file's bytes and every
    /// `[[nodes]]` id (sorted), cut to 16 bytes. Addresses are left out: a node may reach its
    /// peers at addresses of its own (`quorum chaos` points them at proxies). Two clusters
    /// signed by one CA derive the same id only if they also share the name and the node ids —
    /// give each cluster its own `[cluster] name`.
    public static func derived(clusterName: String, authority: [UInt8], nodeIDs: [String]) -> ClusterID {
        var hasher = SHA256()
        func add(_ bytes: [UInt8]) {
            var length = UInt64(bytes.count).littleEndian
            withUnsafeBytes(of: &length) { hasher.update(bufferPointer: $0) }
            hasher.update(data: bytes)
        }
        add(Array("quorum cluster id v1".utf8))
        add(Array(clusterName.utf8))
        add(authority)
        for id in nodeIDs.sorted() { add(Array(id.utf8)) }
        // A SHA-256 digest is 32 bytes, so the prefix always has 16.
        return ClusterID(bytes: Array(Array(hasher.finalize()).prefix(16))) ?? .random()
    }

    /// The derived id of `config`'s founding configuration (``derived(clusterName:authority:nodeIDs:)``).
    public static func derived(from config: NodeRuntimeConfig) throws -> ClusterID {
        let authority: [UInt8]
        do {
            authority = Array(try Data(contentsOf: URL(fileURLWithPath: config.tlsCA)))
        } catch {
            throw ClusterIdentityError("cannot read the CA certificate \(config.tlsCA) to derive the cluster id: \(error.localizedDescription)")
        }
        return derived(clusterName: config.cluster.cluster.name, authority: authority, nodeIDs: config.cluster.nodes.map(\.id))
    }
}

/// A cluster id that cannot be read, derived or written; the message says which file and why.
public struct ClusterIdentityError: Error, CustomStringConvertible {
    /// What went wrong and what to do.
    public let description: String

    init(_ description: String) { self.description = description }
}
