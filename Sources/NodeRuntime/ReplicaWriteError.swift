import NodeCore
import SchedulerPlanning

/// A write this node refuses for good: its encoded command is over `[raft] max_entry_bytes`.
/// Nothing was proposed; retrying the same request can never succeed. The API maps it to 413.
public struct EntryTooLarge: Error, Hashable, Sendable, CustomStringConvertible {
    /// The encoded command's size in bytes (as stamped by the node that measured it).
    public var size: Int
    /// `[raft] max_entry_bytes`.
    public var limit: Int

    /// A refusal of `size` bytes over `limit`.
    public init(size: Int, limit: Int) {
        self.size = size
        self.limit = limit
    }

    /// Names the size, the key and what to do.
    public var message: String {
        "the request is \(size) bytes once encoded as one log entry, over [raft] max_entry_bytes (\(limit)); "
            + "nothing was written: split it into smaller requests (fewer or smaller jobs per batch)"
    }

    public var description: String { message }
}

/// Why a write through ``RaftReplica/propose(_:)`` failed.
public enum ReplicaWriteError: Error, Hashable, Sendable {
    /// No leader, leadership lost, or the leader did not answer: retry (see
    /// ``ReplicaUnavailable/outcomeUnknown``).
    case unavailable(ReplicaUnavailable)
    /// The command can never be written as it is: split it.
    case entryTooLarge(EntryTooLarge)
    /// Invalid at the leader's stamp (a cron schedule with no fire after it); nothing was written.
    case invalid(UnstampedCommand.ResolveError)
    /// A member runs a build that could not apply the command (``NodeCore/FormatGateRefusal``'s
    /// message names them); nothing was written. Retry once the upgrade is done.
    case upgradeInProgress(message: String)
    /// A `[quotas]` limit on the leader refused it; nothing was written. The API answers 429
    /// (`max_pending_jobs`, retry later) or 507 (`max_state_bytes`).
    case quotaExceeded(QuotaRefusal)
}
