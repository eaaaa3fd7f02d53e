extension Raft {
    /// One message between two Raft instances. The transport carries it as-is; every field is a
    /// plain value so tests can compare transcripts.
    public struct Message: Hashable, Sendable, CustomStringConvertible {
        /// The sender.
        public var from: NodeID
        /// The recipient.
        public var to: NodeID
        /// The sender's term (for a PreVote request: the term the sender would campaign in).
        public var term: Term
        /// What the message says.
        public var body: Body
        /// The sender's data-directory incarnation (0 = unknown). The core sets its own on what
        /// it sends; on the peer transport it does not travel inside the message: the receiving
        /// shell fills in the incarnation from the sender's connection hello (docs/raft.md,
        /// "Incarnations"). Not part of the validation rules: every value is acceptable.
        public var fromIncarnation: UInt64

        /// Creates a message.
        public init(from: NodeID, to: NodeID, term: Term, body: Body, fromIncarnation: UInt64 = 0) {
            self.from = from
            self.to = to
            self.term = term
            self.body = body
            self.fromIncarnation = fromIncarnation
        }

        public var description: String { "\(from)->\(to) \(term) \(body)" }
    }

    /// The message kinds (Raft Figure 2, plus the thesis' PreVote, ReadIndex, TimeoutNow and
    /// chunked InstallSnapshot).
    public enum Body: Hashable, Sendable {
        /// RequestVote (§5.2) or, with `isPreVote`, the PreVote probe (thesis §9.6).
        case voteRequest(VoteRequest)
        /// The answer to a (pre)vote request.
        case voteResponse(VoteResponse)
        /// AppendEntries (§5.3): entries after `prevLogIndex`, plus the leader's commit index.
        case append(Append)
        /// The follower's answer to `append` (or to a completed snapshot).
        case appendResponse(AppendResponse)
        /// A leader's heartbeat; `readSequence` > 0 asks the follower to confirm a ReadIndex round.
        case heartbeat(Heartbeat)
        /// The follower's answer to a heartbeat, echoing its `readSequence`.
        case heartbeatResponse(HeartbeatResponse)
        /// One chunk of a snapshot (§7).
        case installSnapshot(InstallSnapshot)
        /// The follower's progress on a chunked snapshot transfer.
        case snapshotResponse(SnapshotResponse)
        /// A follower asks the leader for a read index on behalf of a client (thesis §6.4).
        case readIndexRequest(ReadContext)
        /// The leader's answer to `readIndexRequest`: `index` once leadership is confirmed,
        /// `nil` if it cannot serve the read.
        case readIndexResponse(context: ReadContext, index: LogIndex?)
        /// Leadership transfer: start an election now, ignoring leases (thesis §3.10).
        case timeoutNow
    }

    /// A RequestVote or PreVote request.
    public struct VoteRequest: Hashable, Sendable {
        /// The candidate's last log index (§5.4.1 up-to-date check).
        public var lastLogIndex: LogIndex
        /// The candidate's last log term.
        public var lastLogTerm: Term
        /// A PreVote probe: the recipient changes no state (thesis §9.6).
        public var isPreVote: Bool
        /// Sent because of a leadership transfer: recipients ignore their leader lease.
        public var isLeadershipTransfer: Bool
        /// Creates a request.
        public init(lastLogIndex: LogIndex, lastLogTerm: Term, isPreVote: Bool, isLeadershipTransfer: Bool = false) {
            self.lastLogIndex = lastLogIndex
            self.lastLogTerm = lastLogTerm
            self.isPreVote = isPreVote
            self.isLeadershipTransfer = isLeadershipTransfer
        }
    }

    /// The answer to a vote request.
    public struct VoteResponse: Hashable, Sendable {
        /// Whether the vote (or pre-vote) was granted.
        public var granted: Bool
        /// Answers a PreVote probe.
        public var isPreVote: Bool
        /// Creates a response.
        public init(granted: Bool, isPreVote: Bool) {
            self.granted = granted
            self.isPreVote = isPreVote
        }
    }

    /// AppendEntries.
    public struct Append: Hashable, Sendable {
        /// The index just before `entries`.
        public var prevLogIndex: LogIndex
        /// The term of the entry at `prevLogIndex`.
        public var prevLogTerm: Term
        /// The entries to append, contiguous, starting at `prevLogIndex + 1`; may be empty.
        public var entries: [Entry]
        /// The leader's commit index.
        public var leaderCommit: LogIndex
        /// Creates an append.
        public init(prevLogIndex: LogIndex, prevLogTerm: Term, entries: [Entry], leaderCommit: LogIndex) {
            self.prevLogIndex = prevLogIndex
            self.prevLogTerm = prevLogTerm
            self.entries = entries
            self.leaderCommit = leaderCommit
        }
    }

    /// The answer to AppendEntries.
    public enum AppendResponse: Hashable, Sendable {
        /// The follower's log matches the leader's through `matchIndex` (durably).
        case success(matchIndex: LogIndex)
        /// The follower has no entry at `rejectedIndex` with the leader's term. `hintIndex` and
        /// `hintTerm` name the follower's last entry at or below it whose term is at most the
        /// leader's `prevLogTerm`, so the leader can skip a whole term per round trip
        /// (§5.3 optimisation, etcd's fast backtracking).
        case rejected(rejectedIndex: LogIndex, hintIndex: LogIndex, hintTerm: Term)
    }

    /// A heartbeat.
    public struct Heartbeat: Hashable, Sendable {
        /// The leader's commit index, capped at what it knows the follower has.
        public var commit: LogIndex
        /// The ReadIndex round this heartbeat confirms; 0 when none.
        public var readSequence: UInt64
        /// Creates a heartbeat.
        public init(commit: LogIndex, readSequence: UInt64 = 0) {
            self.commit = commit
            self.readSequence = readSequence
        }
    }

    /// The answer to a heartbeat.
    public struct HeartbeatResponse: Hashable, Sendable {
        /// Echo of the heartbeat's `readSequence`.
        public var readSequence: UInt64
        /// `nil` when the follower holds the heartbeat's commit index. Otherwise the follower's
        /// last log index, which is below that commit index: the leader caps a heartbeat's commit
        /// at what the follower acknowledged (durably), so the follower lost entries it had
        /// acknowledged — its data directory was wiped or damaged. The leader then forgets its
        /// match index for the follower and repairs its log from here (etcd's commit-out-of-range
        /// check, which panics there; hashicorp/raft's last index on every response).
        public var lostEntriesAfter: LogIndex?
        /// Creates a response.
        public init(readSequence: UInt64 = 0, lostEntriesAfter: LogIndex? = nil) {
            self.readSequence = readSequence
            self.lostEntriesAfter = lostEntriesAfter
        }
    }

    /// A snapshot's position in the log and the configuration it contains.
    public struct SnapshotMetadata: Hashable, Sendable, CustomStringConvertible {
        /// The last log index the snapshot covers.
        public var index: LogIndex
        /// The term of the entry at `index`.
        public var term: Term
        /// The membership as of `index`.
        public var membership: Membership
        /// Creates metadata.
        public init(index: LogIndex, term: Term, membership: Membership) {
            self.index = index
            self.term = term
            self.membership = membership
        }
        public var description: String { "snapshot(\(index) \(term) \(membership))" }
    }

    /// A state-machine snapshot: opaque data plus where it sits in the log.
    public struct Snapshot: Hashable, Sendable {
        /// Where the snapshot sits.
        public var metadata: SnapshotMetadata
        /// The state machine's serialized state.
        public var data: [UInt8]
        /// Creates a snapshot.
        public init(metadata: SnapshotMetadata, data: [UInt8]) {
            self.metadata = metadata
            self.data = data
        }
    }

    /// One chunk of InstallSnapshot.
    public struct InstallSnapshot: Hashable, Sendable {
        /// The snapshot being sent.
        public var metadata: SnapshotMetadata
        /// The byte offset of `chunk` in the snapshot data.
        public var offset: Int
        /// The bytes `offset ..< offset + chunk.count`.
        public var chunk: [UInt8]
        /// Whether this is the last chunk.
        public var isLast: Bool
        /// Creates a chunk.
        public init(metadata: SnapshotMetadata, offset: Int, chunk: [UInt8], isLast: Bool) {
            self.metadata = metadata
            self.offset = offset
            self.chunk = chunk
            self.isLast = isLast
        }
    }

    /// The follower's progress on a snapshot transfer: it holds `receivedBytes` of the snapshot
    /// at `index`, and wants the chunk starting there.
    public struct SnapshotResponse: Hashable, Sendable {
        /// The snapshot the follower is receiving.
        public var index: LogIndex
        /// How many bytes it has received (the next offset it wants).
        public var receivedBytes: Int
        /// Creates a response.
        public init(index: LogIndex, receivedBytes: Int) {
            self.index = index
            self.receivedBytes = receivedBytes
        }
    }

    /// A client-chosen identifier of one linearizable read. Unique per requesting node; the core
    /// never relies on it for confirming leadership (it uses its own sequence numbers, cf.
    /// etcd-io/raft #397), so duplicates are harmless.
    public struct ReadContext: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        /// The identifier.
        public var rawValue: UInt64
        /// Wraps an identifier.
        public init(rawValue: UInt64) { self.rawValue = rawValue }
        /// Wraps an identifier.
        public init(_ rawValue: UInt64) { self.rawValue = rawValue }
        public var description: String { "read#\(rawValue)" }
    }
}
