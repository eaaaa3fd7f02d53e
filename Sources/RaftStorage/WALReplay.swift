import RaftCore

/// Rebuilds the log from WAL records in file order, checking that they are consistent.
///
/// The start is lenient: segments wholly behind a snapshot are deleted, so the first retained
/// segment may begin anywhere; `reconcile(with:)` then checks the log joins the snapshot.
struct WALReplay {
    /// Why a record cannot follow the ones before it (damage or a bug, never a torn write).
    struct Inconsistent: Error {
        var reason: String
    }

    private(set) var entries: [Raft.Entry] = []
    private(set) var hardState = Raft.HardState()
    /// The newest snapshot marker seen.
    private(set) var latestMarker: (index: Raft.LogIndex, term: Raft.Term)?
    /// The index the next entries must start at while the log is empty; `nil` while unknown.
    private var anchor: Raft.LogIndex?

    /// The first index that a log-record sequence held before replay began, if known.
    private var lastIndex: Raft.LogIndex? { entries.last?.index }

    mutating func apply(_ record: WALRecord) throws(Inconsistent) {
        switch record {
        case .entries(let new):
            guard let first = new.first else { return }
            for (offset, entry) in new.enumerated() where entry.index.rawValue != first.index.rawValue + UInt64(offset) {
                throw Inconsistent(reason: "entry index \(entry.index.rawValue) does not follow \(first.index.rawValue) + \(offset)")
            }
            if let last = lastIndex {
                guard first.index.rawValue == last.rawValue + 1 else {
                    throw Inconsistent(reason: "entries start at index \(first.index.rawValue) but the log ends at \(last.rawValue)")
                }
            } else if let anchor, first.index != anchor {
                throw Inconsistent(reason: "entries start at index \(first.index.rawValue) but the log continues at \(anchor.rawValue)")
            }
            if entries.isEmpty {
                entries = new
            } else {
                entries.append(contentsOf: new)
            }
        case .hardState(let state):
            hardState = state
        case .truncation(let from):
            guard let firstEntry = entries.first, let last = lastIndex else {
                anchor = from
                return
            }
            if from <= firstEntry.index {
                entries.removeAll()
                anchor = from
            } else if from <= last {
                entries.removeSubrange(Int(from.rawValue - firstEntry.index.rawValue)...)
            } else if from.rawValue > last.rawValue + 1 {
                throw Inconsistent(reason: "truncation from index \(from.rawValue) is beyond the log's end at \(last.rawValue)")
            }
        case .snapshotMarker(let index, let term, let keptLog):
            if keptLog {
                // The live log held the snapshot's entry: entries through it are compacted, the
                // rest stay. (Some of them may be in segments deleted since; the log then starts
                // later, or is empty with its position unknown until the next entries.)
                if let last = lastIndex, let firstEntry = entries.first, index >= firstEntry.index {
                    if let kept = entries.firstIndex(where: { $0.index > index }) {
                        entries.removeSubrange(..<kept)
                    } else {
                        entries.removeAll()
                        anchor = Raft.LogIndex(max(index.rawValue, last.rawValue) + 1)
                    }
                }
            } else {
                // Raft §7: the log did not hold the snapshot's entry with its term; all of it went.
                entries.removeAll()
                anchor = Raft.LogIndex(index.rawValue + 1)
            }
            if latestMarker.map({ index > $0.index }) ?? true { latestMarker = (index, term) }
        }
    }

    /// Joins the replayed log to the newest valid snapshot (Raft §7) and returns the state, or
    /// why they do not fit together.
    func reconcile(with snapshot: RaftSnapshot?) throws(Inconsistent) -> LogState {
        let base = snapshot?.index ?? .zero
        if let marker = latestMarker, marker.index > base {
            throw Inconsistent(
                reason: "the WAL records a snapshot at index \(marker.index.rawValue) (term \(marker.term.rawValue)) but no valid "
                    + "snapshot file holds it (newest valid: \(snapshot.map { String($0.index.rawValue) } ?? "none"))")
        }
        var kept = entries
        if let first = kept.first, let last = kept.last {
            if base >= first.index, base <= last.index,
                kept[Int(base.rawValue - first.index.rawValue)].term == (snapshot?.term ?? .zero)
            {
                kept.removeSubrange(...Int(base.rawValue - first.index.rawValue))
            } else if first.index.rawValue == base.rawValue + 1 {
                // The log starts right after the snapshot.
            } else if first.index.rawValue > base.rawValue + 1 {
                throw Inconsistent(
                    reason: "the log starts at index \(first.index.rawValue) but the snapshot only covers through "
                        + "\(base.rawValue): entries \(base.rawValue + 1)...\(first.index.rawValue - 1) are missing")
            } else {
                // The log does not hold the snapshot's entry with its term: discard it (Raft §7).
                kept.removeAll()
            }
        }
        return LogState(snapshot: snapshot, entries: kept, hardState: hardState)
    }
}
