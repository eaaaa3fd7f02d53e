import RaftCore

/// Carries Raft messages to peers. The driver calls `send` from its actor and never waits:
/// delivery is best effort (loss, duplication and reordering are fine; the core retries through
/// heartbeats and probes). The TLS transport implements this; tests use an in-memory network.
public protocol PeerMessenger: Sendable {
    /// Hands `message` to the transport for `message.to`. Must not block.
    func send(_ message: Raft.Message)
}

/// Serialises a state machine's state as frozen by ``ReplicatedStateMachine/snapshotEncoder()``,
/// handing the bytes to `write` in pieces, in order (their concatenation is the image). Runs on
/// the driver's snapshot thread, concurrently with later applies.
///
/// Why pieces: the driver streams them to the snapshot file, so the image (~150 MiB with
/// 1,000,000 pending jobs) is never held whole (issue #18). An encoder may hand the whole image
/// as one piece; it then costs that memory while it is written.
public typealias SnapshotEncoder = @Sendable (_ write: ([UInt8]) -> Void) -> Void

/// The replicated state machine the driver applies committed entries to (the scheduler, later).
///
/// Calls come from one task, in log order, never concurrently: `restore` (at start or when the
/// leader installs a snapshot), `apply` with the committed `.normal` entries, and
/// `snapshotEncoder` between two `apply` calls (so the frozen state is exactly the state through
/// the last applied index). The encoder it returns runs on another task while applies go on.
public protocol ReplicatedStateMachine: Sendable {
    /// Applies committed `.normal` entries, in index order. `.noop` and `.configChange` entries
    /// are consumed by the driver and never passed here. A throw stops the node (an entry it
    /// cannot apply must never be skipped: the replicas would diverge).
    func apply(_ entries: [Raft.Entry]) async throws
    /// Serialises the whole state as of the last applied entry.
    func snapshot() async -> [UInt8]
    /// Freezes the state as of the last applied entry and returns a function that serialises
    /// that frozen state (in pieces whose concatenation is what `snapshot()` would have returned
    /// at this point).
    ///
    /// Why: the driver calls this between two applies and runs the encoder on its snapshot task,
    /// so applies wait only for the freeze, not for the whole encoding (issue #10). Freeze
    /// cheaply — a value with copy-on-write tables copies in O(1) — and capture nothing that
    /// later applies mutate. The default serialises right here (no gain, same bytes).
    func snapshotEncoder() async -> SnapshotEncoder
    /// Replaces the whole state with a snapshot taken by `snapshot()` (on any node), which
    /// covers the log through `index`. A throw stops the node: its state would no longer match
    /// the log.
    func restore(_ snapshot: [UInt8], through index: Raft.LogIndex) async throws
    /// ``restore(_:through:)`` from an image read in pieces (the driver's restores: from the
    /// snapshot file after a restart, from memory after an install). The default reads the image
    /// whole; a state machine with a large state decodes it piece by piece (issue #18).
    func restore(from image: any SnapshotImage, through index: Raft.LogIndex) async throws
}

extension ReplicatedStateMachine {
    /// Reads the whole image, then ``restore(_:through:)``.
    public func restore(from image: any SnapshotImage, through index: Raft.LogIndex) async throws {
        try await restore(image.read(offset: 0, length: image.count), through: index)
    }

    /// Serialises at once with `snapshot()` and hands the bytes out (for state machines that
    /// cannot freeze their state cheaply).
    public func snapshotEncoder() async -> SnapshotEncoder {
        let image = await snapshot()
        return { write in write(image) }
    }
}
