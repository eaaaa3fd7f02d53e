extension Raft {
    /// Tunables of one Raft instance. Times are in ticks: the shell calls `tick()` at a fixed
    /// period (for example every 100 ms), so `electionTicks: 10` is a 1–2 s election timeout.
    public struct Config: Hashable, Sendable {
        /// This node's id.
        public var id: NodeID
        /// The base election timeout; each timeout is drawn uniformly from
        /// `[electionTicks, 2 × electionTicks)` (Raft §5.2 randomized timeouts).
        public var electionTicks: Int
        /// How often a leader sends heartbeats; must be smaller than `electionTicks`.
        public var heartbeatTicks: Int
        /// Run a PreVote round before incrementing the term (thesis §9.6).
        public var preVote: Bool
        /// A leader steps down if it has not heard from a quorum within an election timeout, and
        /// followers that heard from a leader within one ignore vote requests (thesis §6.2, §4.2.3).
        public var checkQuorum: Bool
        /// At most this many entries in one AppendEntries.
        public var maxEntriesPerAppend: Int
        /// At most this many payload bytes in one AppendEntries (at least one entry is always sent).
        public var maxBytesPerAppend: Int
        /// At most this many unacknowledged AppendEntries per follower while replicating.
        public var maxInflightAppends: Int
        /// At most this many payload bytes in unacknowledged AppendEntries per follower
        /// (at least one append is always allowed); `nil` bounds only the count.
        public var maxInflightBytes: Int?
        /// The size of one InstallSnapshot chunk.
        public var snapshotChunkBytes: Int
        /// Ask the shell to take a snapshot (`.takeSnapshot`) once this many applied entries are
        /// beyond the last snapshot; `nil` never asks.
        public var snapshotInterval: Int?

        #if QUORUM_SIM_MUTATIONS
        /// A deliberate bug, for proving the simulator catches it. Only exists in simulator builds.
        public var mutation: RaftMutation?
        #endif

        /// Creates a configuration with the defaults Quorum ships.
        public init(
            id: NodeID,
            electionTicks: Int = 10,
            heartbeatTicks: Int = 1,
            preVote: Bool = true,
            checkQuorum: Bool = true,
            maxEntriesPerAppend: Int = 256,
            maxBytesPerAppend: Int = 1 << 20,
            maxInflightAppends: Int = 16,
            maxInflightBytes: Int? = nil,
            snapshotChunkBytes: Int = 1 << 20,
            snapshotInterval: Int? = nil
        ) {
            precondition(electionTicks > heartbeatTicks && heartbeatTicks > 0,
                         "electionTicks (\(electionTicks)) must exceed heartbeatTicks (\(heartbeatTicks)) > 0")
            precondition(maxEntriesPerAppend > 0 && maxInflightAppends > 0 && snapshotChunkBytes > 0,
                         "batch, inflight and chunk limits must be positive")
            self.id = id
            self.electionTicks = electionTicks
            self.heartbeatTicks = heartbeatTicks
            self.preVote = preVote
            self.checkQuorum = checkQuorum
            self.maxEntriesPerAppend = maxEntriesPerAppend
            self.maxBytesPerAppend = maxBytesPerAppend
            self.maxInflightAppends = maxInflightAppends
            self.maxInflightBytes = maxInflightBytes
            self.snapshotChunkBytes = snapshotChunkBytes
            self.snapshotInterval = snapshotInterval
        }
    }
}

#if QUORUM_SIM_MUTATIONS
/// Deliberate bugs the simulator must catch. Compiled only when `QUORUM_SIM_MUTATIONS` is defined
/// (the simulator's build); the shipped binary contains none of this code.
public enum RaftMutation: String, CaseIterable, Hashable, Sendable {
    /// A leader commits an entry of an earlier term by counting replicas (Raft §5.4.2, Figure 8).
    /// Breaks state-machine safety. The window needs an append that carries old-term entries but
    /// not the new leader's no-op: run with `maxEntriesPerAppend: 1`, 5 nodes, crashes/partitions.
    case commitOldTerm = "commit-old-term"
    /// A vote is answered at once and the persisted hard state never holds it, so a restarted
    /// node can vote again in the same term. Breaks election safety; needs a crash between a
    /// grant and a second candidate's request of the same term (most common without PreVote, and
    /// when in-flight messages survive the receiver's restart).
    case doubleVote = "double-vote"
    /// Append acknowledgements are sent before the entries are persisted. Breaks state-machine
    /// safety once a follower crashes with acknowledged but unflushed entries.
    case sendBeforePersist = "send-before-persist"
    /// A follower keeps a conflicting suffix instead of truncating it (Raft §5.3). Breaks log
    /// matching and state-machine safety.
    case noTruncate = "no-truncate"
    /// ReadIndex answers from the local commit index with no confirmation: no heartbeat round and
    /// no wait for the leader's first commit of its term (thesis §6.4). A deposed or brand-new
    /// leader then serves reads older than writes already acknowledged elsewhere.
    case staleRead = "stale-read"
}
#endif
