import RaftCore
import RaftStorage

/// One durable write the driver owes the log store, in action order.
enum LogWrite: Sendable {
    /// `persistHardState`.
    case hardState(Raft.HardState)
    /// `truncateLog(from:)`: always followed by an append starting at `from` (Raft §5.3), which
    /// the store turns into a suffix replacement.
    case truncate(from: Raft.LogIndex)
    /// `appendLog`.
    case append([Raft.Entry])
    /// A snapshot installed from the leader, to save and report as persisted through its index.
    case snapshot(RaftSnapshot)
    /// A snapshot taken locally, already written to its draft, to save.
    case localSnapshot(any SnapshotDraft)
}

/// What the writer task hands the store in one call.
enum StoreBatch: Sendable {
    /// One `persist(hardState:entries:)`: every hard state and log write queued since the last
    /// batch, merged (the latest hard state wins; a later append replaces the suffix it overlaps).
    case log(hardState: Raft.HardState?, entries: [Raft.Entry])
    /// One `saveSnapshot`: a barrier, never merged with log writes around it.
    case snapshot(RaftSnapshot)
    /// One `saveSnapshot` of a local snapshot's draft: a barrier too.
    case localSnapshot(any SnapshotDraft)
}

/// The writes queued while the previous batch was being made durable. Taking a batch merges
/// everything up to the next snapshot, so N messages arriving during one fsync cost one fsync.
///
/// A batch that would only advance the hard state's `commit` (same term and vote as the last
/// hard state written, no entries) is not written on its own: it is held and rides with the
/// next write. The commit index is advisory (the store clamps it to the log on open, and a
/// node learns the real one from its leader, or commits an entry of its own term), and the
/// Raft core waits only for the term and vote to be durable — so an fsync for it alone would
/// buy nothing. etcd's `MustSync` makes the same choice. On the leader every replication round
/// advanced the commit index after its append, so this halves the rounds' fsyncs.
struct LogWriteQueue: Sendable {
    private var pending: [LogWrite] = []
    /// The hard state of the last batch handed out (nil: none yet, so the first is written).
    private var lastWrittenHardState: Raft.HardState?

    /// Whether nothing is queued (a held commit-only hard state counts as queued).
    var isEmpty: Bool { pending.isEmpty }

    /// Queues a write.
    mutating func enqueue(_ write: LogWrite) { pending.append(write) }

    /// Removes and merges the writes up to (not including) the next snapshot, or that snapshot
    /// alone if it is first. `nil` when nothing is queued.
    mutating func takeBatch() -> StoreBatch? {
        guard let first = pending.first else { return nil }
        switch first {
        case .snapshot(let snapshot):
            pending.removeFirst()
            return .snapshot(snapshot)
        case .localSnapshot(let draft):
            pending.removeFirst()
            return .localSnapshot(draft)
        case .hardState, .truncate, .append:
            break
        }
        var hardState: Raft.HardState?
        var entries: [Raft.Entry] = []
        var taken = 0
        for write in pending {
            if write.isSnapshot { break }
            taken += 1
            switch write {
            case .hardState(let state):
                hardState = state
            case .truncate(let from):
                entries.removeAll { $0.index >= from }
            case .append(let appended):
                guard let start = appended.first?.index else { continue }
                // A later append starting at or below what is buffered replaces that suffix,
                // exactly as the store would if the two were written one after the other.
                entries.removeAll { $0.index >= start }
                if let last = entries.last {
                    precondition(last.index.rawValue + 1 == start.rawValue,
                                 "log writes must be contiguous: buffered through \(last.index), next append starts at \(start)")
                }
                entries.append(contentsOf: appended)
            case .snapshot, .localSnapshot:
                break
            }
        }
        pending.removeFirst(taken)
        if entries.isEmpty, pending.isEmpty, let hardState, let written = lastWrittenHardState,
           hardState.term == written.term, hardState.vote == written.vote
        {
            // Commit-only: hold it for the next write (see the type's comment).
            pending.append(.hardState(hardState))
            return nil
        }
        if let hardState { lastWrittenHardState = hardState }
        return .log(hardState: hardState, entries: entries)
    }
}

extension LogWrite {
    /// Whether this is a snapshot (a barrier between batches).
    var isSnapshot: Bool {
        switch self {
        case .snapshot, .localSnapshot: true
        case .hardState, .truncate, .append: false
        }
    }
}
