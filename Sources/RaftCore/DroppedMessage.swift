extension Raft {
    /// The largest term or log index a peer's message may carry (2^63 − 1).
    ///
    /// Real clusters never come near it (a term per nanosecond lasts 292 years), and the bound
    /// keeps every `+ 1` on a term or index and every conversion of an index distance to `Int`
    /// free of overflow, so no peer can make the core trap by sending `UInt64.max`.
    public static let maximumTermOrIndex: UInt64 = UInt64(Int64.max)

    /// Why a message was dropped before it changed anything. The raw value is the `reason`
    /// label of `quorum_raft_dropped_messages_total` (docs/metrics.md, docs/raft.md).
    public enum DropReason: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
        /// The `from` field differs from the peer the transport authenticated (checked by the
        /// shell with ``Message/senderMismatch(authenticatedAs:)``).
        case forgedSender = "forged_sender"
        /// A term above ``Raft/maximumTermOrIndex``.
        case termOutOfRange = "term_out_of_range"
        /// A log index (or an append's last index) above ``Raft/maximumTermOrIndex``.
        case indexOutOfRange = "index_out_of_range"
        /// An append whose entries do not run contiguously from `prevLogIndex + 1`.
        case entriesNotContiguous = "entries_not_contiguous"
        /// An entry, `prevLogTerm` or a snapshot term newer than the message's own term (a leader
        /// cannot hold entries from a term it has not reached).
        case entryTermAboveSender = "entry_term_above_sender"
        /// An append that would truncate entries at or below this node's commit index.
        case truncatesCommitted = "truncates_committed"
        /// A snapshot older than what this node has already applied.
        case snapshotOlderThanApplied = "snapshot_older_than_applied"
        /// A snapshot chunk or snapshot answer with a negative or overflowing offset.
        case malformedSnapshotTransfer = "malformed_snapshot_transfer"
        /// An acknowledgement of entries beyond the leader's own log.
        case ackBeyondLog = "ack_beyond_log"

        public var description: String { rawValue }
    }

    /// A message the core (or the shell, for ``DropReason/forgedSender``) refused, for the log
    /// and the drop counter.
    public struct DroppedMessage: Hashable, Sendable, CustomStringConvertible {
        /// The peer it came from (as the message claims, or as authenticated for a forged sender).
        public var from: NodeID
        /// The message's term.
        public var term: Term
        /// The message kind (`append`, `heartbeat`, …).
        public var kind: String
        /// Which rule it broke.
        public var reason: DropReason
        /// The offending values, for the operator reading the log.
        public var detail: String

        /// Creates a value.
        public init(from: NodeID, term: Term, kind: String, reason: DropReason, detail: String) {
            self.from = from
            self.term = term
            self.kind = kind
            self.reason = reason
            self.detail = detail
        }

        public var description: String { "\(reason) \(kind) from \(from) at \(term): \(detail)" }
    }
}

extension Raft.Message {
    /// Peers are checked, not trusted: a message must name as its sender the peer whose
    /// certificate the transport authenticated. Returns the drop to report when it does not,
    /// `nil` when it does. Pure; the shell calls it before handing a decoded message to the core.
    public func senderMismatch(authenticatedAs peer: Raft.NodeID) -> Raft.DroppedMessage? {
        guard from != peer else { return nil }
        return Raft.DroppedMessage(from: peer, term: term, kind: body.kindName, reason: .forgedSender,
                                   detail: "message claims to be from \(from) but the connection authenticated as \(peer)")
    }
}

extension Raft.Body {
    /// A short name of the message kind, for logs and drop reports.
    public var kindName: String {
        switch self {
        case .voteRequest(let request): request.isPreVote ? "preVoteRequest" : "voteRequest"
        case .voteResponse(let response): response.isPreVote ? "preVoteResponse" : "voteResponse"
        case .append: "append"
        case .appendResponse: "appendResponse"
        case .heartbeat: "heartbeat"
        case .heartbeatResponse: "heartbeatResponse"
        case .installSnapshot: "installSnapshot"
        case .snapshotResponse: "snapshotResponse"
        case .readIndexRequest: "readIndexRequest"
        case .readIndexResponse: "readIndexResponse"
        case .timeoutNow: "timeoutNow"
        }
    }
}
