import Dispatch
import NodeCore
import SchedulerCore
import Synchronization

/// Computes this node's state digests for the replica check (issue #19): at every applied index
/// that is a multiple of `[cluster] digest_interval_entries` the state machine hands it the state
/// as of that index (an O(1) copy: the tables are persistent), and it encodes and hashes it on its
/// own low-priority thread — never on the applying actor, the cooperative pool or the reader queue,
/// so applies, the driver and reads go on meanwhile.
///
/// At most one digest is computed at a time: a checkpoint reached while the previous one is still
/// being encoded is skipped (counted in ``skipped``). Skipping is safe: the leader compares only
/// digests taken at the same index, and a follower's report at an index the leader skipped is
/// unverifiable, not a mismatch (``NodeCore/ReplicaDigestCheck``). What it costs is bounded by
/// that rule: one snapshot encoding (O(state), a transient buffer of the snapshot's size) per
/// interval at most, plus the copy-on-write of the tables applies touch meanwhile.
public final class ReplicaDigester: Sendable {
    /// The checkpoint interval (0: off).
    public let interval: UInt64
    private let queue = DispatchQueue(label: "quorum.replica-digest", qos: .utility)
    private let inFlight = Atomic<Bool>(false)
    private let latestDigest = Mutex<ReplicaDigest?>(nil)
    private let skips = Atomic<Int>(0)
    private let clock: NodeClock?
    private let onDigest: @Sendable (ReplicaDigest, Duration) -> Void

    /// A digester every `interval` entries (0: never); `onDigest` gets each digest and how long it
    /// took (measured on `clock`), on the digest thread.
    public init(interval: UInt64, clock: NodeClock?, onDigest: @escaping @Sendable (ReplicaDigest, Duration) -> Void) {
        self.interval = interval
        self.clock = clock
        self.onDigest = onDigest
    }

    /// Whether the state after applying `index` is digested.
    public func isCheckpoint(_ index: UInt64) -> Bool { ReplicaDigest.isCheckpoint(index, interval: interval) }

    /// The latest digest computed, if any (what this node's lease probes carry).
    public var latest: ReplicaDigest? { latestDigest.withLock { $0 } }

    /// Checkpoints skipped because the previous digest was still being computed.
    public var skipped: Int { skips.load(ordering: .relaxed) }

    /// Digests `state`, the state as of `index`, unless a digest is in progress.
    public func digest(_ state: SchedulerState, at index: UInt64) {
        guard inFlight.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            skips.add(1, ordering: .relaxed)
            return
        }
        queue.async { [self] in
            let started = clock?.monotonic()
            let taken = ReplicaDigest(index: index, value: state.snapshotDigest())
            let took = started.map { start in clock.map { $0.monotonic() - start } ?? .zero } ?? .zero
            latestDigest.withLock { current in
                if current.map({ $0.index < taken.index }) ?? true { current = taken }
            }
            // Cleared after `onDigest`, so a slow consumer delays the next digest rather than
            // letting them pile up.
            onDigest(taken, took)
            inFlight.store(false, ordering: .releasing)
        }
    }
}
