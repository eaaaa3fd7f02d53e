import RaftCore
import SchedulerCore
import Synchronization

/// Where a local proposer claims, and waits for, the events of its entry (``ProposerEvents``
/// under a lock, with the applied index and the waiting proposers), so that neither step hops
/// onto the state machine's actor.
///
/// Why not the actor: a write used to enter the actor to claim, again to wait for its entry —
/// resumed there when it applied, and then back to its own executor. Each hop is an enqueue,
/// often a thread wake-up, and moving work between threads was the largest share of a node's
/// CPU per write (docs/benchmarks.md, "Where a submission's CPU goes"). Here a claim is a lock,
/// and a waiting proposer is resumed once, straight from the apply.
///
/// The state machine calls ``remember(_:at:)`` for each entry it applies, ``applied(through:)``
/// after each batch — once the state is published, so a proposer that learns its entry applied
/// reads it — and ``restored(through:)`` after installing a snapshot.
final class ProposerEventsBoard: Sendable {
    private struct Board {
        var events: ProposerEvents
        /// The last index whose events were handed in (proposers' claims start after it).
        var appliedIndex = Raft.LogIndex.zero
        var waiters: [Raft.LogIndex: [Waiter]] = [:]
    }

    private typealias Waiter = CheckedContinuation<[SchedulerEvent]?, Never>
    private let board: Mutex<Board>

    /// A board keeping at most `ceiling` entries' events at once (``ProposerEvents/ceiling``).
    init(ceiling: Int) {
        board = Mutex(Board(events: ProposerEvents(ceiling: ceiling)))
    }

    /// Claims the events of the entries applied from now on (see ``ProposerEvents``).
    func claim() -> ProposerEvents.Claim {
        board.withLock { $0.events.claim(after: $0.appliedIndex) }
    }

    /// Ends a claim whose proposal failed.
    func release(_ claim: ProposerEvents.Claim) {
        board.withLock { $0.events.release(claim) }
    }

    /// The events of the entry at `index` once it is applied, ending `claim`; `nil` when they are
    /// not known (a snapshot covered the entry, or the claim came after it applied).
    func events(at index: Raft.LogIndex, claim: ProposerEvents.Claim) async -> [SchedulerEvent]? {
        enum Now { case known([SchedulerEvent]?), wait }
        // Checked and registered under one lock with `applied`, so no wake-up is lost.
        let events: [SchedulerEvent]? = await withCheckedContinuation { continuation in
            let now: Now = board.withLock { board in
                guard index > board.appliedIndex else { return .known(board.events.events(at: index)) }
                board.waiters[index, default: []].append(continuation)
                return .wait
            }
            if case .known(let events) = now { continuation.resume(returning: events) }
        }
        release(claim)
        return events
    }

    /// The entry at `index` applied with `events`: kept if an open claim covers it. Called for
    /// every entry as it applies; ``applied(through:)`` follows once the batch is published.
    func remember(_ events: [SchedulerEvent], at index: Raft.LogIndex) {
        board.withLock { $0.events.remember(events, at: index) }
    }

    /// Everything through `last` is applied and published: claims from now on start after it,
    /// and the proposers waiting for an entry up to it are resumed.
    func applied(through last: Raft.LogIndex) {
        advance { board in
            board.appliedIndex = max(board.appliedIndex, last)
            return last
        }
    }

    /// A snapshot replaced the state as of `index`: every kept entry's events are forgotten, and
    /// the proposers waiting for an entry it covers learn that its events are not known.
    func restored(through index: Raft.LogIndex) {
        advance { board in
            board.events.forgetAll()
            board.appliedIndex = index
            return index
        }
    }

    /// The number of entries whose events are kept (tests, benchmarks).
    var keptEntries: Int { board.withLock { $0.events.count } }

    /// Runs `change` under the lock — it returns the index applied through — and resumes, outside
    /// the lock, every proposer waiting for an entry up to that index.
    private func advance(_ change: (inout Board) -> Raft.LogIndex) {
        let ready = board.withLock { board in
            let through = change(&board)
            var ready: [(waiters: [Waiter], events: [SchedulerEvent]?)] = []
            for waiting in board.waiters.keys where waiting <= through {
                ready.append((board.waiters.removeValue(forKey: waiting) ?? [], board.events.events(at: waiting)))
            }
            return ready
        }
        for (waiters, events) in ready {
            for waiter in waiters { waiter.resume(returning: events) }
        }
    }
}
