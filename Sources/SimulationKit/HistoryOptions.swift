extension Simulation {
    /// Which kind of trouble a history concentrates on. Each seed picks one, so a few thousand
    /// seeds cover every kind; each kind is aimed at a class of bug (see docs/testing.md).
    public enum Flavour: String, Sendable, CaseIterable, CustomStringConvertible {
        /// A bit of everything: loss, duplication, reordering, partitions, crashes.
        case chaos
        /// Leaders crash or are cut off right after replicating to a minority, then come back
        /// (the Raft paper's Figure 8); aimed at committing entries of earlier terms.
        case leaderChurn = "leader-churn"
        /// Nodes crash right after granting a vote or acknowledging an append, before their
        /// disk syncs (raft-bugs.md item 3); aimed at unpersisted votes and acknowledgements.
        case crashBeforeSync = "crash-before-sync"
        /// The leader is cut off (or slowed) while clients read through it and write through the
        /// new leader (raft-bugs.md item 5a); aimed at stale reads.
        case partitionedReads = "partitioned-reads"
        /// A node's data directory is wiped and it restarts empty (the operator's procedure after
        /// damage), often a voter that voted in the current term; aimed at a leader that never
        /// repairs a follower whose log went back (`ignore-reject-hint`).
        case lostLog = "lost-log"
        /// An operator's membership plan under partitions, crashes and message loss: add a
        /// learner, promote it, transfer leadership, remove the leader mid-change, add and
        /// promote a second one, remove a founding voter — and sometimes propose the next change
        /// before the previous one commits. Aimed at two changes in flight and at learners or
        /// removed nodes counted in a quorum.
        case membership

        /// The flavour's name.
        public var description: String { rawValue }
    }

    /// What one simulated history looks like.
    public struct HistoryOptions: Sendable {
        /// The seed; the whole history is a function of it and of these options.
        public var seed: UInt64
        /// How many events to run with faults on, before the faults heal.
        public var steps: Int
        /// The cluster size (3 or 5); `nil` lets the seed choose.
        public var nodeCount: Int?
        /// The flavour; `nil` lets the seed choose.
        public var flavour: Flavour?
        /// The deliberate bug to enable in every node (simulator builds only), by name.
        public var mutation: String?
        /// Whether to run a membership change mid-run (add a learner, promote it, remove a voter).
        public var membershipChanges: Bool
        /// How many recent steps a failure report prints.
        public var reportedSteps: Int

        /// Options for one history.
        public init(seed: UInt64, steps: Int = 1_000, nodeCount: Int? = nil, flavour: Flavour? = nil,
                    mutation: String? = nil, membershipChanges: Bool = true, reportedSteps: Int = 30) {
            self.seed = seed
            self.steps = steps
            self.nodeCount = nodeCount
            self.flavour = flavour
            self.mutation = mutation
            self.membershipChanges = membershipChanges
            self.reportedSteps = reportedSteps
        }
    }
}
