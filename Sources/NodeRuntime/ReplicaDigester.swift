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
/// Paced (``NodeCore/PeerFeatures/pacedDigests``): a node whose leader judges paced reports
/// digests only the checkpoints ``NodeCore/ReplicaDigest/isPacedCheckpoint(_:interval:records:)``
/// picks for its state's size, so a large state costs about as much per applied entry as a small
/// one (docs/guarantees.md, "Replica checks").
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
    private let paces: @Sendable () -> Bool
    private let onPassed: @Sendable (UInt64, CheckpointOutcome) -> Void
    private let onDigest: @Sendable (ReplicaDigest, Bool, Duration) -> Void
    private let onReset: @Sendable () -> Void
    private let nextPaced = Mutex<PacedCheckpoint?>(nil)

    /// A digester every `interval` entries (0: never); `onDigest` gets each digest, whether it was
    /// taken at a checkpoint pacing nodes digest too (``checkpoint(_:at:)``), and how long it took
    /// (measured on `clock`), on the digest thread.
    ///
    /// - Parameters:
    ///   - paces: whether this node paces its digests now (the node's peer link:
    ///     ``NodeCore/ExecutorSide/pacesDigests(leading:)``); asked at each checkpoint.
    ///   - onPassed: told of every checkpoint applied, on the applying task, and what this node did
    ///     there (the node's leader side, ``NodeCore/LeaderSide/checkpointPassed(_:digesting:)``,
    ///     and `quorum_replica_checkpoints_total`).
    ///   - onReset: told when the state was replaced by a snapshot (``stateReplaced()``): the node
    ///     stops sending its digests.
    public init(interval: UInt64, clock: NodeClock?, paces: @escaping @Sendable () -> Bool = { false },
                onPassed: @escaping @Sendable (UInt64, CheckpointOutcome) -> Void = { _, _ in },
                onReset: @escaping @Sendable () -> Void = {},
                onDigest: @escaping @Sendable (ReplicaDigest, Bool, Duration) -> Void) {
        self.interval = interval
        self.clock = clock
        self.paces = paces
        self.onPassed = onPassed
        self.onReset = onReset
        self.onDigest = onDigest
    }

    /// The state machine applied `index`, its state then `state`. At a checkpoint, digests it
    /// unless this node paces its digests and this checkpoint is not one of the paced ones
    /// (``NodeCore/ReplicaDigest/isPacedCheckpoint(_:interval:records:)``), or a digest is still in
    /// progress; then tells `onPassed` what it did. Elsewhere nothing.
    ///
    /// A digest taken at a paced checkpoint is marked so (`onDigest`'s second argument) even when
    /// this node digests every checkpoint: a probe to a leader that paces carries the latest such
    /// digest, which that leader also took, rather than a newer one it could not compare — a
    /// member that changed leader digests every checkpoint until the new leader's first echo.
    public func checkpoint(_ state: SchedulerState, at index: UInt64) {
        guard ReplicaDigest.isCheckpoint(index, interval: interval) else { return }
        let records = state.jobCount + state.runCount + state.dagCount
        let paced = ReplicaDigest.isPacedCheckpoint(index, interval: interval, records: records)
        let outcome: CheckpointOutcome
        if !paced && paces() {
            outcome = .paced
            pacedPast.add(1, ordering: .relaxed)
        } else {
            outcome = digest(state, at: index, paced: paced) ? .digested : .busy
        }
        onPassed(index, outcome)
    }

    /// What this node did at a checkpoint (`quorum_replica_checkpoints_total{outcome}`).
    public enum CheckpointOutcome: String, Sendable, CaseIterable {
        /// A digest was started.
        case digested
        /// None: this node paces its digests and this checkpoint is not a paced one.
        case paced
        /// None: the previous digest was still being computed.
        case busy
    }

    /// Checkpoints passed without a digest because this node paces its digests.
    public var pacedAway: Int { pacedPast.load(ordering: .relaxed) }
    private let pacedPast = Atomic<Int>(0)

    /// The latest digest computed, if any (what this node's lease probes carry).
    public var latest: ReplicaDigest? { latestDigest.withLock { $0 } }

    /// Checkpoints skipped because the previous digest was still being computed.
    public var skipped: Int { skips.load(ordering: .relaxed) }

    /// Digests `state`, the state as of `index`, unless a digest is in progress; whether it
    /// started or will. `paced`: `index` is a checkpoint pacing nodes digest too.
    ///
    /// A paced checkpoint reached while a digest is in progress is not skipped but kept (the
    /// newest one only; the state copy is O(1)) and digested next: pacing nodes take only those,
    /// and one lost would leave a member's latest paced digest a whole paced interval behind the
    /// leader's — held back after an election until its next one (a node replaying its log or
    /// following an older leader digests every checkpoint, so it is often busy when one comes).
    @discardableResult
    public func digest(_ state: SchedulerState, at index: UInt64, paced: Bool = false) -> Bool {
        guard inFlight.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            if paced {
                nextPaced.withLock { $0 = PacedCheckpoint(state: state, index: index) }
                // The digest in progress may have finished meanwhile, without seeing it.
                startWaiting()
                return true
            }
            skips.add(1, ordering: .relaxed)
            return false
        }
        queue.async { [self] in run(state, at: index, paced: paced) }
        return true
    }

    /// The state replaced by a snapshot from the leader: this node's digests describe a state it
    /// no longer holds, so none is kept or sent (`onReset`) until its next checkpoint.
    public func stateReplaced() {
        nextPaced.withLock { $0 = nil }
        latestDigest.withLock { $0 = nil }
        onReset()
    }

    /// A paced checkpoint waiting for the digest in progress.
    private struct PacedCheckpoint: Sendable {
        let state: SchedulerState
        let index: UInt64
    }

    /// Starts the waiting paced checkpoint, if any and no digest is in progress.
    private func startWaiting() {
        guard nextPaced.withLock({ $0 != nil }),
              inFlight.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
        else { return }
        guard let next = nextPaced.withLock({ waiting in defer { waiting = nil }; return waiting }) else {
            inFlight.store(false, ordering: .releasing)
            return
        }
        queue.async { [self] in run(next.state, at: next.index, paced: true) }
    }

    /// Computes one digest on the digest queue, then the waiting paced checkpoint, if any.
    private func run(_ state: SchedulerState, at index: UInt64, paced: Bool) {
        let started = clock?.monotonic()
        let taken = ReplicaDigest(index: index, value: state.snapshotDigest())
        let took = started.map { start in clock.map { $0.monotonic() - start } ?? .zero } ?? .zero
        latestDigest.withLock { current in
            if current.map({ $0.index < taken.index }) ?? true { current = taken }
        }
        // Cleared after `onDigest`, so a slow consumer delays the next digest rather than
        // letting them pile up.
        onDigest(taken, paced, took)
        inFlight.store(false, ordering: .releasing)
        startWaiting()
    }
}
