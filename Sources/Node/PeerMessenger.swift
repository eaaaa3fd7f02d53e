import RaftCore

/// Carries Raft messages to peers. The driver calls `send` from its actor and never waits:
/// delivery is best effort (loss, duplication and reordering are fine; the core retries through
/// heartbeats and probes). The TLS transport implements this; tests use an in-memory network.
public protocol PeerMessenger: Sendable {
    /// Hands `message` to the transport for `message.to`. Must not block.
    func send(_ message: Raft.Message)
}

/// The replicated state machine the driver applies committed entries to (the scheduler, later).
///
/// Calls come from one task, in log order, never concurrently: `restore` (at start or when the
/// leader installs a snapshot), `apply` with the committed `.normal` entries, and `snapshot`
/// between two `apply` calls (so the image is exactly the state through the last applied index).
public protocol ReplicatedStateMachine: Sendable {
    /// Applies committed `.normal` entries, in index order. `.noop` and `.configChange` entries
    /// are consumed by the driver and never passed here. A throw stops the node (an entry it
    /// cannot apply must never be skipped: the replicas would diverge).
    func apply(_ entries: [Raft.Entry]) async throws
    /// Serialises the whole state as of the last applied entry.
    func snapshot() async -> [UInt8]
    /// Replaces the whole state with a snapshot taken by `snapshot()` (on any node), which
    /// covers the log through `index`. A throw stops the node: its state would no longer match
    /// the log.
    func restore(_ snapshot: [UInt8], through index: Raft.LogIndex) async throws
}
