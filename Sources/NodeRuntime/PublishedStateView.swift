import RaftCore
import SchedulerCore
import Synchronization

/// The scheduler state as of the last applied batch, for readers that run off the applying actor
/// (issue #12): a read takes the value (an O(1) copy: the tables are persistent) and scans it on
/// its own task, so a long scan never delays an apply.
///
/// The applier *withdraws* the value before it mutates and publishes the new one after. While
/// nothing is published the applier's state is the only holder of its tables, so an apply with
/// no reader in flight mutates in place and copies nothing; only a reader still holding an older
/// view makes the next apply duplicate the chunks and index paths it touches. A reader that finds
/// nothing published asks the actor, which answers after the apply in progress.
final class PublishedStateView: Sendable {
    /// The state and the last log index applied to it.
    struct View: Sendable {
        var state: SchedulerState
        var index: Raft.LogIndex
    }

    private let current = Mutex<View?>(nil)

    /// Removes the published view (before the applier mutates its state).
    func withdraw() {
        current.withLock { $0 = nil }
    }

    /// Publishes `state`, applied through `index`.
    func publish(_ state: SchedulerState, through index: Raft.LogIndex) {
        current.withLock { $0 = View(state: state, index: index) }
    }

    /// The published view, or `nil` while an apply is in progress.
    func view() -> View? {
        current.withLock { $0 }
    }
}
