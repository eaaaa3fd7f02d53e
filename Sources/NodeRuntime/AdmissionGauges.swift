import Synchronization

/// The two numbers the quota check reads (``NodeCore/AdmissionQuotas``), kept current by the
/// state machine after every applied batch and read in O(1) from any thread.
///
/// The state-size estimate is the size of the last snapshot image this node encoded or installed
/// plus the bytes of every entry applied since. Cheap (a few additions per batch, no walk of the
/// state) and never below the truth for long: an entry's effect on the state is roughly its size,
/// and entries that shrink the state (cancel, purge, retention) are counted as growth until the
/// next snapshot resets the estimate to a measured size. So it overestimates between snapshots,
/// by at most the log between two snapshots (about one image, 64 MiB at most: docs/node.md,
/// "Snapshots"); docs/configuration.md, `[quotas]`.
public final class AdmissionGauges: Sendable {
    private struct Values {
        var unfinishedRuns = 0
        /// Bytes of every entry applied by this process (monotonic).
        var appliedBytes = 0
        /// The last measured image size, and `appliedBytes` when its state was frozen.
        var baseBytes = 0
        var baseAppliedBytes = 0
    }

    private let values = Mutex(Values())

    /// Zero counts, before anything is applied.
    public init() {}

    /// Runs pending, queued or running as of the last applied batch.
    public var unfinishedRuns: Int { values.withLock { $0.unfinishedRuns } }

    /// The state-size estimate in bytes.
    public var stateBytes: Int {
        values.withLock { $0.baseBytes &+ ($0.appliedBytes &- $0.baseAppliedBytes) }
    }

    /// After a batch of `entryBytes` bytes was applied.
    func noteApplied(unfinishedRuns: Int, entryBytes: Int) {
        values.withLock {
            $0.unfinishedRuns = unfinishedRuns
            $0.appliedBytes &+= entryBytes
        }
    }

    /// After a snapshot of `snapshotBytes` bytes was installed: the estimate restarts from it.
    func noteRestored(unfinishedRuns: Int, snapshotBytes: Int) {
        values.withLock {
            $0.unfinishedRuns = unfinishedRuns
            $0.baseBytes = snapshotBytes
            $0.baseAppliedBytes = $0.appliedBytes
        }
    }

    /// The applied-bytes mark of a state frozen now for a snapshot (pass it to ``noteEncoded``).
    func freezeMark() -> Int { values.withLock { $0.appliedBytes } }

    /// A snapshot of the state frozen at `mark` encoded to `bytes` bytes: the estimate becomes
    /// that size plus what was applied after the freeze.
    func noteEncoded(bytes: Int, mark: Int) {
        values.withLock {
            // An older encoding finishing after a newer one must not move the base back.
            guard mark >= $0.baseAppliedBytes else { return }
            $0.baseBytes = bytes
            $0.baseAppliedBytes = mark
        }
    }
}
