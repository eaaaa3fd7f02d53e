import RaftCore

extension Simulation {
    /// Checks the Raft safety invariants and read linearizability from what the nodes do.
    ///
    /// The checker mirrors each node's log from the entries it asked to persist, hashing each
    /// entry together with its predecessor (a chain hash), so "same index and term implies the
    /// same prefix" is one dictionary lookup per entry. Nodes are numbered `0..<count` for speed;
    /// `names` turns the numbers back into ids for reports.
    public struct SafetyChecker: Sendable {
        /// The node ids, indexed by node number.
        public let names: [Raft.NodeID]

        struct MirroredLog: Sendable {
            /// The index before the first mirrored entry (the snapshot index, or 0).
            var baseIndex: UInt64 = 0
            /// The chain hash at `baseIndex`.
            var baseChain: UInt64 = 0
            /// `(term, chain hash)` of entries `baseIndex+1 ...`.
            var slots: [(term: Raft.Term, chain: UInt64)] = []
            var lastIndex: UInt64 { baseIndex + UInt64(slots.count) }

            func chain(at index: UInt64) -> UInt64? {
                if index == baseIndex { return baseChain }
                guard index > baseIndex, index <= lastIndex else { return nil }
                return slots[Int(index - baseIndex - 1)].chain
            }
            func term(at index: UInt64) -> Raft.Term? {
                guard index > baseIndex, index <= lastIndex else { return nil }
                return slots[Int(index - baseIndex - 1)].term
            }
        }

        private struct IndexAndTerm: Hashable {
            var index: UInt64
            var term: UInt64
        }

        var logs: [MirroredLog]
        private var chainOfEntry: [IndexAndTerm: (chain: UInt64, holder: Int)] = [:]
        var leaderOfTerm: [Raft.Term: Int] = [:]
        /// Per committed index: the entry's term, its content hash, its chain hash, and who applied it first.
        private var committed: [(term: Raft.Term, content: UInt64, chain: UInt64?, node: Int)] = []
        private var appliedIndex: [UInt64]
        var runtimeCommit: [UInt64]
        private var durableCommit: [UInt64]
        /// The newest state any client has seen acknowledged: a write's index or a read's state.
        public private(set) var acknowledgedFloor: UInt64 = 0
        /// The highest index any node has applied (every index up to it is committed).
        public var highestCommitted: UInt64 { UInt64(committed.count) }

        /// Each node's configurations as its log holds them (the membership invariants).
        var configurations: [ConfigurationMirror]
        /// Each node's configuration before its log has any (what it starts with on an empty disk).
        let bootstrap: [Raft.Membership]
        /// Node numbers by id, for the voters a configuration names.
        let numberOf: [Raft.NodeID: Int]
        /// Nodes whose data directory was wiped at least once: what they acknowledged or granted
        /// before is gone, so the quorum checks cannot hold them to it.
        var everWiped: Set<Int> = []

        /// A checker for nodes named `names` (node number = position), each starting with the
        /// configuration `bootstrap` gives it (founding voters the founding one, spares none;
        /// `nil`: nobody has one, so the quorum checks see no voters until a configuration entry).
        public init(names: [Raft.NodeID], bootstrap: [Raft.Membership]? = nil) {
            self.names = names
            let bootstrap = bootstrap ?? Array(repeating: Raft.Membership(voters: []), count: names.count)
            self.bootstrap = bootstrap
            configurations = bootstrap.map { ConfigurationMirror(base: $0) }
            var numberOf: [Raft.NodeID: Int] = [:]
            for (number, name) in names.enumerated() { numberOf[name] = number }
            self.numberOf = numberOf
            logs = Array(repeating: MirroredLog(), count: names.count)
            appliedIndex = Array(repeating: 0, count: names.count)
            runtimeCommit = Array(repeating: 0, count: names.count)
            durableCommit = Array(repeating: 0, count: names.count)
        }

        /// The index a node has applied through.
        public func applied(_ node: Int) -> UInt64 { appliedIndex[node] }

        /// The last index of a node's log as written (persisted or not).
        public func lastLogIndex(_ node: Int) -> UInt64 { logs[node].lastIndex }

        // MARK: Elections

        /// `node` became leader of `term`: at most one per term, holding every committed entry.
        public mutating func leaderElected(_ node: Int, term: Raft.Term) throws(InvariantViolation) {
            if let other = leaderOfTerm[term], other != node {
                throw InvariantViolation(.electionSafety, "\(names[other]) and \(names[node]) are both leader of term \(term)")
            }
            leaderOfTerm[term] = node
            let log = logs[node]
            let mustHold = highestCommitted
            guard mustHold > log.baseIndex else { return }
            guard log.lastIndex >= mustHold else {
                throw InvariantViolation(.leaderCompleteness, "\(names[node]) became leader of \(term) with log through i\(log.lastIndex), but i\(mustHold) is committed")
            }
            for index in (log.baseIndex + 1)...mustHold {
                let entry = committed[Int(index - 1)]
                if log.term(at: index) != entry.term {
                    throw InvariantViolation(.leaderCompleteness, "\(names[node]) became leader of \(term) holding \(log.term(at: index).map(String.init(describing:)) ?? "nothing") at i\(index), but the committed entry there (applied by \(names[entry.node])) has \(entry.term)")
                }
            }
        }

        // MARK: Log mirror

        /// `node` wrote `entries` (contiguous); anything it held from the first one's index on is replaced.
        public mutating func entriesWritten(_ node: Int, _ entries: [Raft.Entry]) throws(InvariantViolation) {
            guard let first = entries.first else { return }
            let baseIndex = logs[node].baseIndex
            guard first.index.rawValue > baseIndex else {
                // Entries at or below the snapshot are already committed; keep only the rest.
                let rest = entries.filter { $0.index.rawValue > baseIndex }
                if !rest.isEmpty { try entriesWritten(node, rest) }
                return
            }
            configurations[node].written(entries)
            // Move the log out so it is uniquely referenced and appends happen in place.
            var log = logs[node]
            logs[node] = MirroredLog()
            defer { logs[node] = log }
            let start = first.index.rawValue
            precondition(start <= log.lastIndex + 1, "\(names[node]) wrote entries from i\(start) but its log ends at i\(log.lastIndex): gap")
            log.slots.removeLast(Int(log.lastIndex - (start - 1)))
            var chain = log.chain(at: start - 1) ?? 0
            for entry in entries {
                precondition(entry.index.rawValue == log.lastIndex + 1, "\(names[node]) wrote a non-contiguous batch at \(entry.index)")
                chain = Self.chain(chain, entry)
                log.slots.append((entry.term, chain))
                let key = IndexAndTerm(index: entry.index.rawValue, term: entry.term.rawValue)
                if let known = chainOfEntry[key] {
                    if known.chain != chain {
                        throw InvariantViolation(.logMatching, "\(names[node]) and \(names[known.holder]) both hold an entry at \(entry.index) with \(entry.term), but their logs differ at or before it")
                    }
                } else {
                    chainOfEntry[key] = (chain, node)
                }
            }
        }

        /// `node` dropped every entry after `index`.
        public mutating func logTruncated(_ node: Int, after index: UInt64) {
            configurations[node].dropEntries(after: index)
            guard index < logs[node].lastIndex else { return }
            let keep = index > logs[node].baseIndex ? Int(index - logs[node].baseIndex) : 0
            logs[node].slots.removeLast(logs[node].slots.count - keep)
        }

        /// `node`'s log now starts after a snapshot at `index` (compaction or installed snapshot).
        /// Entries after it are kept only when the node's entry at `index` has `term` and the
        /// snapshot does not replace the whole log (`discardLog`, a snapshot from the leader).
        /// `membership` is the snapshot's configuration (`nil`: the latest one at or below `index`).
        public mutating func snapshotTaken(_ node: Int, index: UInt64, term: Raft.Term, discardLog: Bool,
                                           membership: Raft.Membership? = nil) {
            var log = logs[node]
            logs[node] = MirroredLog()
            defer { logs[node] = log }
            guard index > log.baseIndex || discardLog else { return }
            configurations[node].snapshot(at: index, membership: membership, keepsLog: !discardLog && log.term(at: index) == term)
            let chainHere: UInt64
            if index <= highestCommitted, let known = committed[Int(index - 1)].chain {
                chainHere = known
            } else {
                chainHere = log.chain(at: index) ?? (UInt64(index) &* 0x9E37_79B9 ^ term.rawValue)
            }
            if !discardLog && log.term(at: index) == term {
                log.slots.removeFirst(Int(index - log.baseIndex))
            } else {
                log.slots.removeAll()
            }
            log.baseIndex = index
            log.baseChain = chainHere
        }

        /// `node` crashed and restarted: its log is what was durable (`snapshotIndex` then `entries`),
        /// its state machine starts again from its snapshot, and its runtime commit index resets.
        /// `snapshotMembership` is the durable snapshot's configuration (`nil`: none, the bootstrap's).
        public mutating func restarted(_ node: Int, snapshotIndex: UInt64, snapshotTerm: Raft.Term, entries: [Raft.Entry],
                                       snapshotMembership: Raft.Membership? = nil) throws(InvariantViolation) {
            logs[node] = MirroredLog()
            configurations[node] = ConfigurationMirror(base: snapshotMembership ?? bootstrap[node])
            if snapshotIndex > 0 {
                logs[node].baseIndex = snapshotIndex
                logs[node].baseChain = snapshotIndex <= highestCommitted
                    ? (committed[Int(snapshotIndex - 1)].chain ?? 0) : 0
            }
            try entriesWritten(node, entries)
            appliedIndex[node] = snapshotIndex
            runtimeCommit[node] = snapshotIndex
        }

        /// `node`'s data directory was wiped: it holds nothing, has applied nothing, and its
        /// persisted commit index starts again from zero.
        public mutating func wiped(_ node: Int) {
            logs[node] = MirroredLog()
            configurations[node] = ConfigurationMirror(base: bootstrap[node])
            everWiped.insert(node)
            appliedIndex[node] = 0
            runtimeCommit[node] = 0
            durableCommit[node] = 0
        }

        // MARK: Commit and apply

        /// `node` reports commit index `index` (`durable` when it comes from a fsynced hard state)
        /// in `term`. A leader's own commit decision (`term` is the one it leads) must rest on a
        /// quorum of its configuration's voters (`quorumOfVoters`).
        public mutating func commitObserved(_ node: Int, _ index: UInt64, durable: Bool, term: Raft.Term? = nil) throws(InvariantViolation) {
            if !durable, let term, index > runtimeCommit[node], leaderOfTerm[term] == node {
                try leaderCommitted(node, through: index, term: term)
            }
            if durable {
                if index < durableCommit[node] {
                    throw InvariantViolation(.commitMonotonic, "\(names[node]) persisted commit i\(index) after having persisted i\(durableCommit[node])")
                }
                durableCommit[node] = index
            } else {
                if index < runtimeCommit[node] {
                    throw InvariantViolation(.commitMonotonic, "\(names[node]) moved its commit index back from i\(runtimeCommit[node]) to i\(index)")
                }
                runtimeCommit[node] = index
            }
        }

        /// `node` applied `entry` to its state machine: it must be the next index, and the same
        /// entry every other node applied there.
        public mutating func entryApplied(_ node: Int, _ entry: Raft.Entry) throws(InvariantViolation) {
            let index = entry.index.rawValue
            guard index == appliedIndex[node] + 1 else {
                throw InvariantViolation(.stateMachineSafety, "\(names[node]) applied \(entry.index) right after i\(appliedIndex[node]) (out of order)")
            }
            appliedIndex[node] = index
            let content = Self.contentHash(entry)
            if index <= highestCommitted {
                let known = committed[Int(index - 1)]
                if known.term != entry.term || known.content != content {
                    throw InvariantViolation(.stateMachineSafety, "\(names[node]) applied \(entry.term) \(entry.kind) at \(entry.index), but \(names[known.node]) applied a different entry (\(known.term)) there")
                }
            } else if index == highestCommitted + 1 {
                committed.append((entry.term, content, logs[node].chain(at: index), node))
            } else {
                // Only reachable after a snapshot jumped past unrecorded indexes; keep indexes aligned.
                while highestCommitted + 1 < index {
                    committed.append((.zero, 0, nil, node))
                }
                committed.append((entry.term, content, logs[node].chain(at: index), node))
            }
        }

        /// `node`'s state machine was replaced by a snapshot through `index`.
        public mutating func snapshotApplied(_ node: Int, index: UInt64) throws(InvariantViolation) {
            if index < appliedIndex[node] {
                throw InvariantViolation(.stateMachineSafety, "\(names[node]) installed a snapshot at i\(index) over a state already applied through i\(appliedIndex[node])")
            }
            appliedIndex[node] = index
        }

        // MARK: Reads

        /// A client saw a write acknowledged at `index` (or a read served from state `index`).
        public mutating func acknowledged(through index: UInt64) {
            acknowledgedFloor = max(acknowledgedFloor, index)
        }

        /// A read that started when the acknowledged floor was `floor` was served by `node` from
        /// its state through `servedIndex`.
        public mutating func readServed(_ node: Int, readID: UInt64, floor: UInt64, servedIndex: UInt64) throws(InvariantViolation) {
            if servedIndex < floor {
                throw InvariantViolation(.linearizableRead, "read r\(readID) served by \(names[node]) returned the state through i\(servedIndex), but state through i\(floor) had been acknowledged before the read started")
            }
            acknowledged(through: servedIndex)
        }

        // MARK: Hashing

        static func contentHash(_ entry: Raft.Entry) -> UInt64 {
            var hash: UInt64 = 0xCBF2_9CE4_8422_2325 ^ UInt64(entry.kind.rawValue)
            for byte in entry.data {
                hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3
            }
            return hash
        }

        static func chain(_ previous: UInt64, _ entry: Raft.Entry) -> UInt64 {
            var z = previous &+ 0x9E37_79B9_7F4A_7C15 &* (entry.term.rawValue &+ 1)
            z ^= contentHash(entry) &+ entry.index.rawValue
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }
}
