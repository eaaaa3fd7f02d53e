extension Raft {
    /// Why an input (proposal, read, transfer, membership change, snapshot) was refused.
    ///
    /// `isRetriable` says whether the same request may succeed later or elsewhere; `leaderHint`
    /// names the node the shell should forward to when this node is not the leader.
    public struct RaftError: Error, Hashable, Sendable, CustomStringConvertible {
        /// The kind of refusal.
        public enum Code: String, Hashable, Sendable {
            /// This node is not the leader; forward to `leaderHint` (if known) or retry later.
            case notLeader = "not-leader"
            /// A leadership transfer is in progress; retry after it completes or times out.
            case transferInProgress = "transfer-in-progress"
            /// A membership change is not yet committed, or this leader has not committed an entry
            /// of its own term yet (thesis §4.1 and the 2015 raft-dev fix); retry shortly.
            case membershipChangePending = "membership-change-pending"
            /// The membership change itself is not valid; fix the request.
            case invalidMembershipChange = "invalid-membership-change"
            /// The transfer target is not a voter of the current configuration.
            case invalidTransferTarget = "invalid-transfer-target"
            /// The snapshot index is outside what the instance can accept.
            case invalidSnapshot = "invalid-snapshot"
        }

        /// The kind of refusal.
        public var code: Code
        /// The leader this node believes in, if any (only meaningful for `.notLeader`).
        public var leaderHint: NodeID?
        /// What happened and what to do, naming the value involved.
        public var message: String

        /// Creates an error.
        public init(code: Code, leaderHint: NodeID? = nil, message: String) {
            self.code = code
            self.leaderHint = leaderHint
            self.message = message
        }

        /// Whether retrying the same request later (or at `leaderHint`) may succeed.
        public var isRetriable: Bool {
            switch code {
            case .notLeader, .transferInProgress, .membershipChangePending: true
            case .invalidMembershipChange, .invalidTransferTarget, .invalidSnapshot: false
            }
        }

        public var description: String { "\(code.rawValue): \(message)" }

        static func invalidMembershipChange(_ message: String) -> RaftError {
            RaftError(code: .invalidMembershipChange, message: message)
        }
    }
}
