import RaftCore

extension Simulation {
    /// What a disk holds: a hard state, a snapshot, and the log after it.
    public struct DiskImage: Sendable, Hashable {
        /// The last hard state written.
        public var hardState = Raft.HardState()
        /// The latest snapshot, if any.
        public var snapshot: Raft.Snapshot?
        /// The log entries after the snapshot, contiguous.
        public var entries: [Raft.Entry] = []

        /// An empty disk.
        public init() {}

        /// The index the snapshot covers (0: none).
        public var snapshotIndex: Raft.LogIndex { snapshot?.metadata.index ?? .zero }
        /// The term of the entry at `snapshotIndex`.
        public var snapshotTerm: Raft.Term { snapshot?.metadata.term ?? .zero }

        /// The last index held (snapshot or log).
        public var lastIndex: Raft.LogIndex { entries.last?.index ?? snapshotIndex }

        /// Applies one write.
        public mutating func apply(_ write: DiskWrite) {
            switch write {
            case .hardState(let state):
                hardState = state
            case .entries(let batch):
                guard let first = batch.first else { return }
                truncate(after: Raft.LogIndex(first.index.rawValue - 1))
                let kept = batch.filter { $0.index > snapshotIndex }
                precondition(kept.first.map { $0.index.rawValue == lastIndex.rawValue + 1 } ?? true,
                             "disk append at \(kept.first?.index.description ?? "-") leaves a gap after \(lastIndex)")
                entries.append(contentsOf: kept)
            case .truncate(let after):
                truncate(after: after)
            case .snapshot(let newSnapshot, let discardLog):
                let index = newSnapshot.metadata.index
                guard index > snapshotIndex else { return }
                if !discardLog, let position = entries.firstIndex(where: { $0.index == index }),
                   entries[position].term == newSnapshot.metadata.term
                {
                    entries.removeFirst(position + 1)
                } else {
                    entries.removeAll()
                }
                snapshot = newSnapshot
            }
        }

        private mutating func truncate(after index: Raft.LogIndex) {
            guard index < lastIndex else { return }
            let keep = index > snapshotIndex ? Int(index.rawValue - snapshotIndex.rawValue) : 0
            entries.removeLast(entries.count - keep)
        }
    }

    /// One write a node asks its disk to make durable.
    public enum DiskWrite: Sendable, Hashable {
        /// Replace the hard state.
        case hardState(Raft.HardState)
        /// Append entries, replacing any held from the first one's index on.
        case entries([Raft.Entry])
        /// Drop every entry after the index.
        case truncate(after: Raft.LogIndex)
        /// Store a snapshot and drop the log it covers (the whole log when `discardLog`, as for a
        /// snapshot received from the leader).
        case snapshot(Raft.Snapshot, discardLog: Bool)
    }

    /// A node's durable storage: writes are visible at once but durable only once synced.
    ///
    /// A crash keeps `durable` and loses every write not yet synced, like a disk whose page
    /// cache was never flushed (raft-bugs.md items 3 and 4).
    public struct SimulatedDisk: Sendable {
        /// What survives a crash.
        public private(set) var durable = DiskImage()
        /// Writes made but not yet synced, oldest first, each with its sequence number.
        public private(set) var unsynced: [(sequence: UInt64, write: DiskWrite)] = []
        private var nextSequence: UInt64 = 1

        /// An empty disk.
        public init() {}

        /// Records a write; returns its sequence number, to sync through later.
        @discardableResult
        public mutating func write(_ write: DiskWrite) -> UInt64 {
            let sequence = nextSequence
            nextSequence += 1
            unsynced.append((sequence, write))
            return sequence
        }

        /// Makes every write up to `sequence` durable.
        public mutating func sync(through sequence: UInt64) {
            var synced = 0
            for pending in unsynced {
                guard pending.sequence <= sequence else { break }
                durable.apply(pending.write)
                synced += 1
            }
            unsynced.removeFirst(synced)
        }

        /// The node crashed: unsynced writes are lost.
        public mutating func crash() {
            unsynced.removeAll()
        }
    }
}
