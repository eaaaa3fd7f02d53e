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
        /// Also ask once the applied entries beyond the last snapshot (or beyond this process's
        /// start) hold this many payload bytes — few large entries fill a log as fast as many
        /// small ones; `nil` never asks by size.
        public var snapshotIntervalBytes: Int?
        /// When set, a snapshot due by count (`snapshotInterval`) also waits until the entries
        /// applied since the last snapshot hold at least the last image's size divided by this:
        /// encoding and writing the state then costs at most this many times the log written
        /// since, however large the state grows. Without it a large state with small entries was
        /// encoded whole every `snapshotInterval` entries (149 MiB per 10,000 entries at 1,000,000
        /// pending jobs). `snapshotIntervalBytes` and `snapshotMaxInterval` still ask regardless;
        /// `nil`: the count alone decides.
        public var snapshotImageDivisor: Int?
        /// With `snapshotImageDivisor`: a count at which a snapshot is asked for whatever the bytes,
        /// bounding the entries the log holds; at least `snapshotInterval`. `nil`: no such bound.
        public var snapshotMaxInterval: Int?
        /// This node grants no votes (nor PreVotes) and never campaigns, even as a voter. For a
        /// node restarted on a wiped data directory: it may have voted in the current term and
        /// acknowledged entries that were committed by counting it, so its vote or candidacy
        /// could elect a second leader or one missing committed entries. It still replicates and
        /// its acknowledgements still count towards commitment (they are for entries it now
        /// durably holds). Default `false`. A stopgap until incarnations let the configuration
        /// tell such a node apart (see docs/raft.md, "Log repair").
        public var abstainsFromElections = false
        /// This node's data-directory incarnation (`RaftStorage.DataDirectoryIncarnation`); 0 =
        /// unknown, which switches incarnation checks off for this node (older shells, tests).
        /// Outgoing messages carry it, the leader records it in the configuration, and the node
        /// abstains from elections while the configuration records a different one
        /// (docs/raft.md, "Incarnations").
        public var incarnation: UInt64 = 0
        /// The incarnation was created by this start (a new or wiped data directory). Such a
        /// node also abstains once it has seen that the cluster has history, until a committed
        /// configuration records its incarnation: it may have lost a vote and acknowledged
        /// entries that its recorded-as-unrecorded (0) founding self gave.
        public var incarnationIsNew = false

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
            snapshotInterval: Int? = nil,
            snapshotIntervalBytes: Int? = nil,
            snapshotImageDivisor: Int? = nil,
            snapshotMaxInterval: Int? = nil
        ) {
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
            self.snapshotIntervalBytes = snapshotIntervalBytes
            self.snapshotImageDivisor = snapshotImageDivisor
            self.snapshotMaxInterval = snapshotMaxInterval
        }

        /// Checks the values a user can get wrong; the Node layer calls this on the loaded config
        /// before creating an instance (`Instance.init` treats an invalid config as a bug).
        public func validate() throws(ConfigError) {
            guard heartbeatTicks > 0 else { throw ConfigError(field: "heartbeatTicks", message: "must be at least 1, got \(heartbeatTicks)") }
            guard electionTicks > heartbeatTicks else {
                throw ConfigError(field: "electionTicks",
                                  message: "must be greater than heartbeatTicks (\(heartbeatTicks)), got \(electionTicks); 10× is typical")
            }
            let positive: [(String, Int)] = [("maxEntriesPerAppend", maxEntriesPerAppend), ("maxBytesPerAppend", maxBytesPerAppend),
                                             ("maxInflightAppends", maxInflightAppends), ("snapshotChunkBytes", snapshotChunkBytes),
                                             ("maxInflightBytes", maxInflightBytes ?? 1), ("snapshotInterval", snapshotInterval ?? 1),
                                             ("snapshotIntervalBytes", snapshotIntervalBytes ?? 1),
                                             ("snapshotImageDivisor", snapshotImageDivisor ?? 1), ("snapshotMaxInterval", snapshotMaxInterval ?? 1)]
            for (field, value) in positive where value <= 0 {
                throw ConfigError(field: field, message: "must be positive, got \(value)")
            }
            if let snapshotMaxInterval, let snapshotInterval, snapshotMaxInterval < snapshotInterval {
                throw ConfigError(field: "snapshotMaxInterval",
                                  message: "must be at least snapshotInterval (\(snapshotInterval)), got \(snapshotMaxInterval)")
            }
            guard !id.rawValue.isEmpty else { throw ConfigError(field: "id", message: "must not be empty; use the node's id from the cluster config (\"n1\")") }
        }
    }

    /// An invalid `Raft.Config` value, naming the field and what to set instead.
    public struct ConfigError: Error, Hashable, Sendable, CustomStringConvertible {
        /// The offending field.
        public var field: String
        /// What is wrong and what to do.
        public var message: String
        /// Creates an error.
        public init(field: String, message: String) {
            self.field = field
            self.message = message
        }
        public var description: String { "raft.\(field) \(message)" }
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
    /// The leader ignores a follower's evidence that it lost entries it had acknowledged (a
    /// heartbeat answer with `lostEntriesAfter`, or the rejection of a probe at its match index,
    /// or a new incarnation answering under the follower's id), so it never lowers its match
    /// index for a follower whose data directory was wiped. The
    /// follower is never repaired: breaks `acknowledged-proposal-applied` (lost-log histories).
    case ignoreRejectHint = "ignore-reject-hint"
    /// No incarnation protection at all, as before incarnations: every reason to abstain is
    /// ignored (`abstainsFromElections`, a recorded incarnation that differs, a new incarnation
    /// in a cluster with history) and candidates and leaders count grants and acknowledgements
    /// of any incarnation. A node restarted on a wiped data directory votes and campaigns as if
    /// it had never voted or acknowledged anything. Breaks election safety or leader
    /// completeness in lost-log histories — the hazard incarnations remove.
    case wipedVoterVotes = "wiped-voter-votes"
    /// Candidates and leaders count every grant and acknowledgement whatever incarnation sent it
    /// (nodes still abstain on their own). Caught where a wiped node's own abstention cannot
    /// protect: restarted again before its log holds its old record, it is neither new nor
    /// told that another incarnation is recorded. Breaks election safety or leader completeness
    /// in lost-log histories.
    case ignoreIncarnation = "ignore-incarnation"
    /// A leader proposes a configuration change while its previous one is still uncommitted
    /// (the single-server rule of thesis §4.1 skipped), so two changes are in flight and the
    /// old and newest configurations' majorities need not overlap. Caught by
    /// `one-configuration-change-in-flight` in membership histories (an impatient operator
    /// proposes the next step at once).
    case twoChangesInFlight = "two-changes-in-flight"
    /// Candidates ask learners for votes too and count their grants toward the voters' quorum.
    /// Caught by `quorum-of-voters` (or election safety) once a learner's grant decides an election.
    case learnerVotes = "learner-votes"
    /// The leader counts learners' acknowledgements toward the voters' commit quorum. Caught by
    /// `quorum-of-voters` once an entry commits on a voter minority plus learners.
    case learnerAcks = "learner-acks"
}
#endif
