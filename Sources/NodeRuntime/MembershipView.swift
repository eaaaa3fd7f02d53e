import ClusterConfig
import Logging
import NodeCore
import RaftCore
import Synchronization
import Transport

/// The cluster's members as the latest configuration in this node's log says, for everything
/// that needs the member list at run time: the peer transport (whom to dial, whose certificate
/// to accept), `/api/cluster`, the output proxy's API map, the leader's format gate, leadership
/// hand-over on drain (docs/raft.md, "Membership changes").
///
/// The config file's `[[nodes]]` are only the *seed*: the founding configuration, and the
/// addresses of members the log has no directory for yet (before the first leader wrote it).
/// When the log and the file disagree, the log wins and a warning names the member.
public final class MembershipView: Sendable {
    private struct State: Sendable {
        var membership: Raft.Membership
        var directory: MemberDirectory
        /// Members whose file entry disagreement was already logged (once per difference).
        var warned: Set<String> = []
        /// Just-removed members the transport still reaches for ``linger`` (by removal index
        /// order): the leader's last append to one (RaftCore's farewell) tells it it was removed.
        var lingering: [Raft.NodeID: Transport.PeerAddress] = [:]
        /// Every id a committed configuration listed as removed, with the index of the first such
        /// configuration this node saw (the removing entry, or a later one or a snapshot's index
        /// when the removing entry itself was not seen). Only grows: a committed removal is final.
        var committedRemovals: [Raft.NodeID: Raft.LogIndex] = [:]
    }

    /// This node.
    public let selfID: Raft.NodeID
    /// The directory `[[nodes]]` of this node's config file describe.
    public let seed: MemberDirectory
    private let state: Mutex<State>
    private let transport: Transport.PeerTransport?
    private let logger: Logger
    private let onRemoved: @Sendable () -> Void
    private let onChange: @Sendable (Raft.Membership, MemberDirectory) -> Void
    /// How long a removed member stays reachable (not accepted as a member by Raft) so the
    /// leader's farewell append reaches it.
    private let linger: Duration
    private let sleep: @Sendable (Duration) async throws -> Void

    /// A view starting at `membership`. `transport` (if any) is kept pointed at the members;
    /// `onChange` sees every configuration and its directory; `onRemoved` runs when one lists this node as removed.
    /// `sleep` waits on the node's clock (`NodeClock.sleep`): the linger after a removal.
    init(selfID: Raft.NodeID, seed: MemberDirectory, membership: Raft.Membership, transport: Transport.PeerTransport?,
         logger: Logger, linger: Duration = .seconds(2),
         sleep: @escaping @Sendable (Duration) async throws -> Void,
         onChange: @escaping @Sendable (Raft.Membership, MemberDirectory) -> Void = { _, _ in },
         onRemoved: @escaping @Sendable () -> Void = {}) {
        self.linger = linger
        self.sleep = sleep
        self.onChange = onChange
        self.selfID = selfID
        self.seed = seed
        self.transport = transport
        self.logger = logger
        self.onRemoved = onRemoved
        self.state = Mutex(State(membership: Raft.Membership(voters: []), directory: MemberDirectory()))
        update(membership)
    }

    /// The seed directory of a config file's `[[nodes]]`.
    public static func seed(from nodes: [ClusterConfig.Node]) -> MemberDirectory {
        var directory = MemberDirectory()
        for node in nodes {
            directory[Raft.NodeID(node.id)] = MemberDirectory.Record(
                raft: MemberDirectory.Endpoint(host: node.raft.host, port: node.raft.port),
                api: MemberDirectory.Endpoint(host: node.api.host, port: node.api.port), labels: node.labels)
        }
        return directory
    }

    /// Takes a new configuration (the driver reports every change): re-points the transport,
    /// warns about file entries the log contradicts, and reports this node's removal.
    func update(_ membership: Raft.Membership) {
        var logged: MemberDirectory?
        if !membership.directory.isEmpty {
            do {
                logged = try MemberDirectory(decoding: membership.directory)
            } catch {
                logger.error("the configuration's member directory is unreadable; using the config file's addresses",
                             metadata: ["error": "\(error)"])
            }
        }
        var directory = MemberDirectory()
        for id in membership.members {
            directory[id] = logged?[id] ?? seed[id]
        }
        let disagreements = (logged?.records ?? [:]).compactMap { id, record -> String? in
            guard let filed = seed[id], filed.raft != record.raft || filed.api != record.api else { return nil }
            return "\(id): file raft=\(filed.raft) api=\(filed.api), log raft=\(record.raft) api=\(record.api)"
        }
        let (newWarnings, peers, justRemoved) = state.withLock { state -> ([String], [Raft.NodeID: Transport.PeerAddress], [Raft.NodeID]) in
            var justRemoved: [Raft.NodeID] = []
            for id in membership.removed where state.membership.contains(id) && id != selfID {
                if let record = state.directory[id] {
                    state.lingering[id] = Transport.PeerAddress(host: record.raft.host, port: record.raft.port)
                    justRemoved.append(id)
                }
            }
            state.membership = membership
            state.directory = directory
            let fresh = disagreements.filter { !state.warned.contains($0) }
            state.warned.formUnion(fresh)
            return (fresh, peersLocked(state), justRemoved)
        }
        for warning in newWarnings.sorted() {
            logger.warning("the config file's [[nodes]] entry disagrees with the replicated configuration; the log wins (edit the file to match, it is only read at bootstrap)",
                           metadata: ["member": "\(warning)"])
        }
        transport?.setPeers(peers)
        if !justRemoved.isEmpty { endLingering(justRemoved) }
        onChange(membership, directory)
        if membership.removed.contains(selfID) { onRemoved() }
    }

    /// Takes a configuration the driver knows committed (at `index`): its removed ids are
    /// removed for good, and may be sent a removal notice once they are no longer lingering.
    func committed(_ membership: Raft.Membership, at index: Raft.LogIndex) {
        state.withLock { state in
            for id in membership.removed where id != selfID && state.committedRemovals[id] == nil {
                state.committedRemovals[id] = index
            }
        }
    }

    /// The index at which `id`'s removal committed (``committed(_:at:)``), if it did and `id` is
    /// neither a member of the configuration in use nor still lingering: the ids a member
    /// answers with a removal notice instead of a refusal (docs/raft.md, "Removal").
    func finalRemoval(of id: Raft.NodeID) -> Raft.LogIndex? {
        state.withLock { state in
            guard let index = state.committedRemovals[id], state.lingering[id] == nil,
                  !state.membership.contains(id) else { return nil }
            return index
        }
    }

    /// The transport's peers for `state`: the members and the lingering removed ones.
    private func peersLocked(_ state: State) -> [Raft.NodeID: Transport.PeerAddress] {
        peerAddresses(membership: state.membership, directory: state.directory).merging(state.lingering) { member, _ in member }
    }

    /// Drops `ids` from the transport once ``linger`` has passed.
    private func endLingering(_ ids: [Raft.NodeID]) {
        Task { [self] in
            try? await sleep(linger)
            let peers = state.withLock { state -> [Raft.NodeID: Transport.PeerAddress] in
                for id in ids { state.lingering[id] = nil }
                return peersLocked(state)
            }
            transport?.setPeers(peers)
        }
    }

    /// Whom the transport dials and accepts: every member but this node; a node with no
    /// configuration yet (joining) accepts the members its file names, so the leader that an
    /// operator told to add it can reach it. Removed ids are never peers.
    private func peerAddresses(membership: Raft.Membership, directory: MemberDirectory) -> [Raft.NodeID: Transport.PeerAddress] {
        var peers: [Raft.NodeID: Transport.PeerAddress] = [:]
        let source = membership.members.isEmpty ? seed : directory
        for (id, record) in source.records where id != selfID && !membership.removed.contains(id)
            && (membership.members.isEmpty || membership.contains(id)) {
            peers[id] = Transport.PeerAddress(host: record.raft.host, port: record.raft.port)
        }
        return peers
    }

    /// The configuration in use.
    public var membership: Raft.Membership { state.withLock { $0.membership } }

    /// Every member with its addresses (from the log, else the file) and voter flag, by id.
    public var members: [ClusterMember] {
        state.withLock { $0.directory.members(of: $0.membership) }
    }

    /// The directory in use (the log's, completed from the file).
    public var directory: MemberDirectory { state.withLock { $0.directory } }

    /// Member `id`'s API address, if the directory knows it.
    public func apiAddress(of id: String) -> MemberDirectory.Endpoint? {
        state.withLock { $0.directory[Raft.NodeID(id)]?.api }
    }

    /// Every member's id (voters and learners).
    public var memberIDs: Set<Raft.NodeID> { state.withLock { $0.membership.members } }

    /// Every voter's id.
    public var voterIDs: Set<Raft.NodeID> { state.withLock { $0.membership.voters } }
}
