import RaftCore

/// A consistent view of one node's Raft state, for the API, metrics and tests.
public struct RaftStatus: Hashable, Sendable, CustomStringConvertible {
    /// This node.
    public var id: Raft.NodeID
    /// The current term.
    public var term: Raft.Term
    /// The leader of `term`, if known.
    public var leader: Raft.NodeID?
    /// This node's role.
    public var role: Raft.Role
    /// The highest index known committed.
    public var commitIndex: Raft.LogIndex
    /// The highest index the state machine has applied (after restore at start, the snapshot's).
    public var appliedIndex: Raft.LogIndex
    /// The last index in the log.
    public var lastLogIndex: Raft.LogIndex
    /// The highest index durable on this node.
    public var durableIndex: Raft.LogIndex

    /// Creates a status.
    public init(id: Raft.NodeID, term: Raft.Term, leader: Raft.NodeID?, role: Raft.Role, commitIndex: Raft.LogIndex,
                appliedIndex: Raft.LogIndex, lastLogIndex: Raft.LogIndex, durableIndex: Raft.LogIndex) {
        self.id = id
        self.term = term
        self.leader = leader
        self.role = role
        self.commitIndex = commitIndex
        self.appliedIndex = appliedIndex
        self.lastLogIndex = lastLogIndex
        self.durableIndex = durableIndex
    }

    public var description: String {
        "\(id) \(role) \(term) leader=\(leader?.rawValue ?? "-") commit=\(commitIndex) applied=\(appliedIndex) last=\(lastLogIndex)"
    }
}
