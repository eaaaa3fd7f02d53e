/// The namespace of Quorum's consensus core.
///
/// Everything in `RaftCore` is a plain value driven by inputs (ticks, messages, proposals,
/// persistence notices) that returns the actions the shell must carry out. Nothing here reads a
/// clock, touches a file or a socket, or starts a thread.
public enum Raft {}

extension Raft {
    /// A Raft term: a logical clock that only grows. `0` means "no term yet".
    public struct Term: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
        public var rawValue: UInt64
        public init(rawValue: UInt64) { self.rawValue = rawValue }
        public init(_ rawValue: UInt64) { self.rawValue = rawValue }
        public static let zero = Term(0)
        public static func < (lhs: Term, rhs: Term) -> Bool { lhs.rawValue < rhs.rawValue }
        public var description: String { "t\(rawValue)" }
    }

    /// A position in the replicated log. Entries start at index 1; `0` means "before the log".
    public struct LogIndex: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
        public var rawValue: UInt64
        public init(rawValue: UInt64) { self.rawValue = rawValue }
        public init(_ rawValue: UInt64) { self.rawValue = rawValue }
        public static let zero = LogIndex(0)
        public static func < (lhs: LogIndex, rhs: LogIndex) -> Bool { lhs.rawValue < rhs.rawValue }
        public var description: String { "i\(rawValue)" }
    }

    /// A member's identity, the `id` of a `[[nodes]]` entry in the cluster config (`"n1"`).
    /// Ids are never reused for a different member.
    public struct NodeID: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible,
        ExpressibleByStringLiteral
    {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public init(stringLiteral value: String) { self.rawValue = value }
        public static func < (lhs: NodeID, rhs: NodeID) -> Bool { lhs.rawValue < rhs.rawValue }
        public var description: String { rawValue }
    }

    /// What an entry carries, so the shell knows whether to hand it to the state machine.
    public enum EntryKind: UInt8, Hashable, Sendable {
        /// An application command (opaque bytes for the scheduler).
        case normal = 0
        /// A membership change, applied by the consensus layer itself.
        case configChange = 1
        /// The empty entry a new leader appends to commit an entry of its own term (Raft §8).
        case noop = 2
    }

    /// One log entry. The payload is opaque to consensus.
    public struct Entry: Hashable, Sendable {
        /// The term of the leader that created the entry.
        public var term: Term
        /// The entry's position in the log.
        public var index: LogIndex
        /// Whether the entry is a command, a configuration or a leader's no-op.
        public var kind: EntryKind
        /// The payload: the command bytes, or an encoded `Membership` for `.configChange`.
        public var data: [UInt8]
        /// Creates an entry.
        public init(term: Term, index: LogIndex, kind: EntryKind = .normal, data: [UInt8] = []) {
            self.term = term
            self.index = index
            self.kind = kind
            self.data = data
        }
    }

    /// The state that must be durable before a node answers a vote or an append
    /// (Raft §5.1, Figure 2: currentTerm, votedFor; plus the commit index etcd also keeps).
    public struct HardState: Hashable, Sendable {
        /// The latest term this node has seen.
        public var term: Term
        /// The candidate this node voted for in `term`, if any.
        public var vote: NodeID?
        /// The highest index known committed (advisory: clamped to the log on restart).
        public var commit: LogIndex
        /// Creates a hard state.
        public init(term: Term = .zero, vote: NodeID? = nil, commit: LogIndex = .zero) {
            self.term = term
            self.vote = vote
            self.commit = commit
        }
    }
}

extension Raft.LogIndex {
    /// The index `n` positions after this one.
    static func + (lhs: Raft.LogIndex, rhs: UInt64) -> Raft.LogIndex { Raft.LogIndex(lhs.rawValue + rhs) }
    /// The index `n` positions before this one; saturates at zero.
    static func - (lhs: Raft.LogIndex, rhs: UInt64) -> Raft.LogIndex {
        Raft.LogIndex(lhs.rawValue >= rhs ? lhs.rawValue - rhs : 0)
    }
}

extension Raft.Term {
    /// The next term.
    var next: Raft.Term { Raft.Term(rawValue + 1) }
}

extension Raft.Entry {
    /// The approximate wire size of the entry, used to bound AppendEntries batches by bytes.
    var byteCount: Int { data.count + 24 }
}
