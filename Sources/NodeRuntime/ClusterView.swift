import ClusterConfig
import Node
import NodeCore
import RaftCore
import SchedulerCore

/// The members as one node sees them (`GET /api/cluster` renders it).
public struct ClusterStatus: Hashable, Sendable {
    /// One member.
    public struct Member: Hashable, Sendable {
        /// The node id (`n1`).
        public var id: String
        /// `leader`, `follower`, `candidate` or `learner`.
        public var role: String
        /// Its API address, `host:port`.
        public var api: String
        /// Its Raft address, `host:port`.
        public var raft: String
        /// Whether this node heard from it within the executor lease.
        public var reachable: Bool
        /// Its replicated log index as the leader knows it (0 elsewhere).
        public var matchIndex: UInt64
        /// Executor slots.
        public var slots: Int
        /// Attempts running there, by this node's state.
        public var busy: Int
        /// Its data-directory incarnation as this node's configuration records it (0: unrecorded).
        public var incarnation: UInt64 = 0
        /// Its process incarnation: this node's own; on the leader, the one it learned from the
        /// member's latest probe that proved a round trip and names in its assignments; `nil`
        /// when unknown (such a member gets no work) and on a follower for the others.
        public var process: UInt64?
        /// Its applied index: this node's own; on the leader, what each peer last reported in
        /// its lease probe; `nil` when unknown (a follower does not know its peers').
        public var appliedIndex: UInt64?
        /// The leader's commit index minus ``appliedIndex`` (on the leader only; `nil` elsewhere).
        public var lag: UInt64?
        /// Whether it votes in the latest configuration.
        public var voter = true
        /// Its labels from the replicated member directory.
        public var labels: [String: String] = [:]
        /// Whether the replicated member directory marks it draining.
        public var draining = false
        /// The command format version its build reported (the leader's view; this node's own build
        /// for itself; `nil` when unknown): what a rolling upgrade watches (docs/upgrades.md).
        public var formatVersion: UInt32?
        /// The replica check of it (the leader's view only; `nil` elsewhere, for the leader itself,
        /// or with the check off).
        public var replicaCheck: ReplicaCheck?
    }

    /// What the leader's replica check says of one member (docs/guarantees.md, "Replica checks").
    public struct ReplicaCheck: Hashable, Sendable {
        /// The latest checkpoint index its digest was compared at (`nil`: none yet this term).
        public var verifiedIndex: UInt64?
        /// Its first disagreement, while it is held back from dispatch (`nil`: none).
        public var mismatch: DigestMismatch?
        /// Whether it gets no work because its first check since this leader took office waits
        /// (``NodeCore/ReplicaDigestCheck/isAwaitingCheck(_:)``).
        public var awaitingCheck = false
    }
    /// The leader this node believes in.
    public var leader: String?
    /// This node's current term.
    public var term: UInt64
    /// This node's commit index.
    public var commitIndex: UInt64
    /// Every member of the latest configuration, sorted by id.
    public var members: [Member]
    /// This node's id.
    public var node: String = ""
    /// This node's applied index.
    public var appliedIndex: UInt64 = 0
    /// The cluster id this node holds (`CLUSTER_ID`, or the provisional one derived from the
    /// config before the first election confirms it), as 32 hex digits; `nil` while a joining
    /// node has not adopted one. Nodes of one cluster all show the same (docs/operations.md,
    /// "Cluster identity"); `quorum doctor` compares them.
    public var clusterID: String?
}

/// Builds ``ClusterStatus`` from the driver, the state and the peer link (works without a leader).
struct ClusterView: Sendable {
    let driver: RaftDriver
    let stateMachine: SchedulerStateMachine
    let link: PeerLink
    let config: ClusterConfig
    /// The members to list: the latest configuration's, not the file's.
    let membership: MembershipView
    let settings: NodeSettings
    /// The cluster this node belongs to (`nil` in tests that build a view without one).
    var clusterIdentity: ClusterIdentity?

    func status() async -> ClusterStatus {
        let status = await driver.status
        let busy = await stateMachine.read { state in
            var counts: [String: Int] = [:]
            for attempt in state.runningAttempts() { counts[attempt.executor.rawValue, default: 0] += 1 }
            return counts
        }
        var members: [ClusterStatus.Member] = []
        let replicaCheck = status.role == .leader && config.cluster.digestIntervalEntries > 0 ? link.replicaCheck() : nil
        for member in membership.members {
            let id = member.id
            let role: String
            if id == status.leader {
                role = "leader"
            } else if !member.voter {
                role = "learner"
            } else if id == driver.id {
                role = Self.roleName(status.role)
            } else {
                role = "follower"
            }
            let reachable: Bool
            if id == driver.id {
                reachable = true
            } else if let heard = link.lastHeard(from: id) {
                reachable = settings.clock.monotonic() - heard <= settings.executorLease
            } else {
                reachable = false
            }
            let match = await driver.matchIndex(of: id)
            let leading = status.role == .leader
            let applied: UInt64? = id == driver.id ? status.appliedIndex.rawValue
                : leading ? link.reportedAppliedIndex(of: id)?.rawValue : nil
            let commit = status.commitIndex.rawValue
            let builds = leading ? link.memberBuilds() : nil
            let format: UInt32? = id == driver.id ? CommandCodec.buildFormatVersion
                : builds.flatMap { $0.hasReported(id) ? $0.version(of: id) : nil }
            let check = replicaCheck
            members.append(ClusterStatus.Member(id: id.rawValue, role: role, api: member.record?.api.description ?? "",
                                                raft: member.record?.raft.description ?? "",
                                                reachable: reachable, matchIndex: match?.rawValue ?? 0,
                                                slots: config.executor.slots, busy: busy[id.rawValue] ?? 0,
                                                incarnation: await driver.recordedIncarnation(of: id),
                                                process: id == driver.id || leading ? link.knownProcess(of: id) : nil,
                                                appliedIndex: applied,
                                                lag: leading ? applied.map { commit > $0 ? commit - $0 : 0 } : nil,
                                                voter: member.voter, labels: member.record?.labels ?? [:],
                                                draining: member.record?.draining ?? false,
                                                formatVersion: format,
                                                replicaCheck: check.flatMap { Self.replicaCheck($0, of: id, leader: driver.id) }))
        }
        return ClusterStatus(leader: status.leader?.rawValue, term: status.term.rawValue,
                             commitIndex: status.commitIndex.rawValue, members: members,
                             node: driver.id.rawValue, appliedIndex: status.appliedIndex.rawValue,
                             clusterID: clusterIdentity?.current.map { "\($0)" })
    }

    /// What the leader's check says of `id`: the members' holds; for the leader itself only its
    /// being outvoted (its `mismatch` then holds its own digest as the leader's and the majority's
    /// as the member's), and nothing while it is not.
    static func replicaCheck(_ check: ReplicaDigestCheck, of id: Raft.NodeID, leader: Raft.NodeID) -> ClusterStatus.ReplicaCheck? {
        guard id == leader else {
            return ClusterStatus.ReplicaCheck(verifiedIndex: check.lastVerified[id], mismatch: check.diverged[id],
                                              awaitingCheck: check.isAwaitingCheck(id))
        }
        return check.leaderOutvoted.map { outvoted in
            ClusterStatus.ReplicaCheck(verifiedIndex: nil, mismatch: DigestMismatch(
                member: id, index: outvoted.index, leaderDigest: outvoted.leaderDigest, memberDigest: outvoted.majorityDigest))
        }
    }

    static func roleName(_ role: Raft.Role) -> String {
        switch role {
        case .leader: "leader"
        case .candidate, .preCandidate: "candidate"
        case .follower: "follower"
        }
    }
}
