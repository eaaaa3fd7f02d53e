import RaftCore

/// The leader's commit index over the last few seconds, to judge whether an executor has
/// applied the log far enough to be given work: a node that is catching up (restarted, wiped,
/// or slow) would otherwise be assigned attempts it learns of only much later — or, with its
/// log lost, never — while they sit `running`.
///
/// A pure value with a bounded number of samples; times are explicit.
public struct CommitHistory: Sendable {
    private var samples: [(at: MonotonicTime, index: Raft.LogIndex)] = []
    private let kept: Int

    /// A history keeping the latest `kept` samples.
    public init(kept: Int = 256) { self.kept = max(2, kept) }

    /// Records the commit index at `now` (call once per duty round; equal values are merged).
    public mutating func record(_ index: Raft.LogIndex, at now: MonotonicTime) {
        if let last = samples.last, last.index == index { return }
        samples.append((now, index))
        if samples.count > kept { samples.removeFirst(samples.count - kept) }
    }

    /// The commit index as of `instant`: the latest sample at or before it, or `nil` when every
    /// sample is newer (the history does not reach back that far).
    public func index(asOf instant: MonotonicTime) -> Raft.LogIndex? {
        samples.last(where: { $0.at <= instant })?.index
    }

    /// Whether an executor that reported `applied` is caught up at `now`: it has applied what
    /// was committed `lag` ago. No report, or no history that old, gives the benefit of the doubt.
    public func isCaughtUp(applied: Raft.LogIndex?, at now: MonotonicTime, lag: Duration) -> Bool {
        guard let applied, let required = index(asOf: now - lag) else { return true }
        return applied >= required
    }
}
