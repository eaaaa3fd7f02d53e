extension Raft {
    /// Something the shell must do, in the order given.
    ///
    /// Persistence is asynchronous: the shell writes `persistHardState`, `truncateLog`,
    /// `appendLog` and `installSnapshot` in order, and once they are durable (fsync) reports
    /// `persisted(through:term:)` and `persisted(hardState:)`. Messages that depend on durable
    /// state (vote grants, append acknowledgements) are held inside the instance until then, so
    /// every `.send` may be transmitted immediately.
    public enum Action: Hashable, Sendable {
        /// Make this hard state durable (term, vote, commit).
        case persistHardState(HardState)
        /// Delete every log entry with index ≥ `from` (a conflicting suffix, Raft §5.3).
        case truncateLog(from: LogIndex)
        /// Append these contiguous entries after the current last entry.
        case appendLog([Entry])
        /// Transmit this message (best effort; loss is fine).
        case send(Message)
        /// Read `length` bytes at the chunk's offset from the image of the local snapshot at the
        /// chunk's index, put them in it (`message(filledWith:)`) and transmit it (best effort).
        /// The image must stay readable while `Instance.snapshotsInTransfer` holds its index,
        /// even after a newer snapshot replaced it. One that cannot be read is dropped: the chunk
        /// counts as lost and is asked for again after an election timeout.
        case sendSnapshotChunk(SnapshotChunkRead)
        /// Apply these committed, locally durable entries to the state machine, in order.
        /// `.configChange` and `.noop` entries are included so the applied index stays contiguous.
        case apply([Entry])
        /// Replace the state machine and the whole log with this snapshot (received from the
        /// leader), make it durable, then report `persisted(through: index, term: term)`.
        case installSnapshot(Snapshot)
        /// Log entries at or below this index are covered by a snapshot and may be deleted.
        case compactLog(through: LogIndex)
        /// Suggestion: the log has grown; call `snapshotTaken(through:byteCount:)` when convenient.
        case takeSnapshot(through: LogIndex)
        /// The leader or this node's role changed.
        case leadershipChanged(LeaderState)
        /// A linearizable read may be served once the state machine has applied `index`.
        case readReady(ReadState)
        /// A read could not be confirmed (leadership lost or the leader refused); retry it.
        case readFailed(ReadContext)
        /// The configuration in use changed (an entry was appended, truncated or a snapshot installed).
        case membershipChanged(Membership)
        /// A peer's message broke a validation rule and was dropped before it changed anything
        /// (docs/raft.md, "Dropped messages"): log it and count it.
        case droppedMessage(DroppedMessage)
    }

    /// An instance's role (Raft §5.1, plus PreVote's pre-candidate).
    public enum Role: String, Hashable, Sendable {
        /// Follows a leader (or waits for one).
        case follower
        /// Probing with PreVote whether an election could succeed.
        case preCandidate
        /// Campaigning in a new term.
        case candidate
        /// The leader of its term.
        case leader
    }

    /// Who leads, as this instance sees it.
    public struct LeaderState: Hashable, Sendable, CustomStringConvertible {
        /// The known leader of `term`, if any.
        public var leader: NodeID?
        /// The current term.
        public var term: Term
        /// This instance's role.
        public var role: Role
        /// Creates a value.
        public init(leader: NodeID?, term: Term, role: Role) {
            self.leader = leader
            self.term = term
            self.role = role
        }
        public var description: String { "\(role) \(term) leader=\(leader?.rawValue ?? "-")" }
    }

    /// A confirmed read: serve `context` from the state machine once it has applied `index`.
    public struct ReadState: Hashable, Sendable {
        /// The read's identifier.
        public var context: ReadContext
        /// The read index (the leader's commit index when the read was confirmed).
        public var index: LogIndex
        /// Creates a value.
        public init(context: ReadContext, index: LogIndex) {
            self.context = context
            self.index = index
        }
    }

    /// An accepted proposal: it will be committed at `index` in `term`, or not at all (if a
    /// different entry ends up applied at `index`, the proposal was lost and may be retried).
    public struct Proposal: Hashable, Sendable {
        /// Where the entry was appended.
        public var index: LogIndex
        /// The leader's term.
        public var term: Term
        /// The actions produced by appending it.
        public var actions: [Action]
        /// Creates a value.
        public init(index: LogIndex, term: Term, actions: [Action]) {
            self.index = index
            self.term = term
            self.actions = actions
        }
    }

    /// What a restarting node recovered from its storage.
    public struct PersistedState: Hashable, Sendable {
        /// The last durable hard state.
        public var hardState: HardState
        /// The latest durable snapshot, if any.
        public var snapshot: Snapshot?
        /// The size of the snapshot's image when the shell left it in storage (`snapshot.data`
        /// empty): the core keeps only the size (``LocalSnapshot``), and the shell restores the
        /// state machine from its file in windows (issue #18). `nil`: `snapshot.data.count`.
        public var snapshotImageBytes: Int?
        /// The durable log entries after the snapshot (or from index 1), contiguous.
        public var entries: [Entry]
        /// The configuration the cluster was created with; used when neither the snapshot nor
        /// the log holds a configuration entry.
        public var bootstrapMembership: Membership
        /// Creates a value.
        public init(hardState: HardState, snapshot: Snapshot? = nil, entries: [Entry], bootstrapMembership: Membership) {
            self.hardState = hardState
            self.snapshot = snapshot
            self.entries = entries
            self.bootstrapMembership = bootstrapMembership
        }
    }
}
