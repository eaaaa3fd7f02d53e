import RaftCore

extension Simulation {
    /// The checker's own copy of the configurations one node's log holds, rebuilt from the
    /// entries the node asked to write (never from the node's state), so the membership
    /// invariants judge RaftCore by what it wrote, not by what it believes.
    ///
    /// Raft uses the latest configuration in its log, committed or not (thesis §4.1), so
    /// `current` is the last configuration entry written, or the one the snapshot (or the
    /// bootstrap) carries when no configuration entry follows it.
    struct ConfigurationMirror: Sendable {
        /// The configuration below the first mirrored entry: the snapshot's, or the bootstrap's.
        var base: Raft.Membership
        /// Configuration entries in the log after the snapshot, oldest first.
        var entries: [(index: UInt64, membership: Raft.Membership)] = []

        /// The configuration the node uses now.
        var current: Raft.Membership { entries.last?.membership ?? base }

        /// The index of the newest configuration entry in the log (0 when only the base).
        var latestIndex: UInt64 { entries.last?.index ?? 0 }

        /// The node wrote `written` (contiguous): entries it held from the first index on are gone.
        mutating func written(_ written: [Raft.Entry]) {
            guard let first = written.first else { return }
            dropEntries(after: first.index.rawValue - 1)
            for entry in written {
                if let membership = entry.membership { entries.append((entry.index.rawValue, membership)) }
            }
        }

        /// The node dropped every entry after `index`.
        mutating func dropEntries(after index: UInt64) {
            entries.removeAll { $0.index > index }
        }

        /// The log now starts after a snapshot at `index` whose configuration is `membership`;
        /// `keepsLog` when later entries survive (a local snapshot over a matching entry).
        mutating func snapshot(at index: UInt64, membership: Raft.Membership?, keepsLog: Bool) {
            let covered = entries.last { $0.index <= index }?.membership
            base = membership ?? covered ?? base
            if keepsLog {
                entries.removeAll { $0.index <= index }
            } else {
                entries.removeAll()
            }
        }
    }
}
