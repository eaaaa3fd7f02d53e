import RaftCore

/// Why a client request on `RaftDriver` did not succeed. `message` says what to do.
public struct RaftDriverError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of failure.
    public enum Code: String, Hashable, Sendable {
        /// This node is not the leader: forward the request to `leaderHint` (or retry once a
        /// leader is known).
        case notLeader = "not-leader"
        /// The core refused the request (transfer in progress, invalid transfer target…); see
        /// `raftError`.
        case refused
        /// This node stopped leading before the proposal was applied. The entry may or may not
        /// commit under the next leader: the outcome is unknown, retry idempotently.
        case leadershipLost = "leadership-lost"
        /// Another leader's entry was committed at the proposal's index: the proposal was lost
        /// and may be retried.
        case entryOverwritten = "entry-overwritten"
        /// The leader could not confirm the read (leadership changed): retry.
        case readFailed = "read-failed"
        /// The read was not confirmed in time (a forwarded read can be lost): retry.
        case readTimedOut = "read-timed-out"
        /// The driver is stopping or stopped; the request's outcome is unknown.
        case shuttingDown = "shutting-down"
        /// The proposal's data is over `Options.maxEntryBytes`: it was not proposed and never
        /// will be; split the request.
        case entryTooLarge = "entry-too-large"
    }

    /// The kind of failure.
    public var code: Code
    /// The leader this node believes in, if any.
    public var leaderHint: Raft.NodeID?
    /// The core's refusal, for `.refused` and `.notLeader`.
    public var raftError: Raft.RaftError?
    /// What happened and what to do, naming the index or node involved.
    public var message: String

    /// Creates an error.
    public init(code: Code, leaderHint: Raft.NodeID? = nil, raftError: Raft.RaftError? = nil, message: String) {
        self.code = code
        self.leaderHint = leaderHint
        self.raftError = raftError
        self.message = message
    }

    /// Whether the same request may succeed later or at `leaderHint`.
    public var isRetriable: Bool {
        switch code {
        case .notLeader, .leadershipLost, .entryOverwritten, .readFailed, .readTimedOut: true
        case .refused: raftError?.isRetriable ?? false
        case .shuttingDown, .entryTooLarge: false
        }
    }

    public var description: String { "\(code.rawValue): \(message)" }

    /// Maps a refusal of the core to the driver's error.
    init(_ error: Raft.RaftError) {
        self.init(code: error.code == .notLeader ? .notLeader : .refused, leaderHint: error.leaderHint, raftError: error,
                  message: error.message)
    }

    static func entryTooLarge(size: Int, limit: Int) -> RaftDriverError {
        RaftDriverError(code: .entryTooLarge,
                        message: "the entry is \(size) bytes, over max_entry_bytes (\(limit)); it was not proposed: "
                            + "split the request into smaller ones")
    }

    static func shuttingDown(_ id: Raft.NodeID) -> RaftDriverError {
        RaftDriverError(code: .shuttingDown, message: "node \(id) is shutting down; retry on another node")
    }
}

/// Why `RaftDriver.run()` stopped with an error. The node must exit; it recovers from its WAL
/// and its peers on restart.
public struct RaftDriverFailure: Error, Sendable, CustomStringConvertible {
    /// What failed and what to do.
    public var message: String
    /// Creates a failure.
    public init(message: String) { self.message = message }
    public var description: String { message }
}
