import RaftCore

extension Simulation {
    /// The fixed shape of one simulated cluster, derived from a seed and the history options.
    public struct ClusterSetup: Sendable {
        /// The founding voters.
        public var voters: [Raft.NodeID]
        /// Nodes started with an empty membership, to be added mid-run.
        public var spares: [Raft.NodeID]
        /// The kind of trouble the history concentrates on.
        public var flavour: Flavour
        /// The base election timeout in ticks (every node uses the same).
        public var electionTicks = 10
        /// Heartbeat period in ticks.
        public var heartbeatTicks = 2
        /// Entries per AppendEntries; 1 in leader-churn histories, so a follower can hold an
        /// earlier-term entry without the new leader's no-op (the Figure 8 window).
        public var maxEntriesPerAppend = 8
        /// Unacknowledged appends per follower.
        public var maxInflightAppends = 4
        /// Snapshot every this many applied entries (`nil`: never).
        public var snapshotInterval: Int? = nil
        /// `Raft.Config.snapshotImageDivisor` (`nil`: the count alone decides).
        public var snapshotImageDivisor: Int? = nil
        /// `Raft.Config.snapshotMaxInterval`.
        public var snapshotMaxInterval: Int? = nil
        /// InstallSnapshot chunk size (small, so snapshots take several chunks).
        public var snapshotChunkBytes = 8
        /// Simulated time per tick of each node's clock, by node position (skewed clocks).
        public var tickPeriods: [Time]
        /// Network behaviour while faults are on.
        public var faults: NetworkFaults
        /// Shortest and longest time a disk takes to sync.
        public var syncLatency: ClosedRange<Time> = 5...40
        /// Mean time between two client operations.
        public var clientInterval: Time = 60
        /// The share of client operations that are reads.
        public var readShare = 0.4
        /// Mean time between two fault events.
        public var faultInterval: Time = 1_500
        /// Probability to crash a node right after it grants a vote (before its next disk sync).
        public var crashAfterVoteProbability = 0.0
        /// Probability to crash a node right after it acknowledges an append (before its next sync).
        public var crashAfterAckProbability = 0.0
        /// Probability to cut a node off right after it becomes leader, so its first entries stay
        /// on it alone (building the divergent logs of the Raft paper's Figure 8).
        public var isolateNewLeaderProbability = 0.0
        /// Probability to cut the leader off right after it applies newly committed entries, so
        /// what it sends next (its no-op, the new commit index) is lost.
        public var isolateLeaderAfterCommitProbability = 0.0
        /// Probability that the operator proposes the plan's next change right after one is
        /// accepted, before it commits (RaftCore must refuse it: one change in flight).
        public var eagerSecondChangeProbability = 0.0
        /// Time between two tries of the membership plan's current step (`nil`: a quarter
        /// election timeout).
        public var membershipStepInterval: Time? = nil
        /// Whether to add a learner, promote it, and remove a voter mid-run.
        public var membershipChanges = true
        /// The mutation enabled in every node, by name.
        public var mutation: String?

        /// Every node, founding voters first.
        public var allNodes: [Raft.NodeID] { voters + spares }

        /// The longest election timeout in simulated time: `2 × electionTicks` of the slowest clock.
        public var electionTimeout: Time {
            Time(2 * electionTicks) * (tickPeriods.max() ?? 100)
        }

        /// A plain, healthy setup (used by scripted scenarios).
        public init(voters: [Raft.NodeID], spares: [Raft.NodeID] = [], flavour: Flavour = .chaos) {
            self.voters = voters
            self.spares = spares
            self.flavour = flavour
            self.tickPeriods = Array(repeating: 100, count: voters.count + spares.count)
            self.faults = .healthy
            self.membershipChanges = false
        }

        /// The setup a seed picks for `options`.
        public init(options: HistoryOptions, random: inout SeededRandom) {
            let flavour = options.flavour ?? random.pick(Flavour.allCases)
            let count = options.nodeCount ?? ([.crashBeforeSync, .leaderChurn].contains(flavour) ? 3 : (random.chance(0.5) ? 3 : 5))
            let voters = (1...count).map { Raft.NodeID("n\($0)") }
            let spareCount = options.membershipChanges ? (flavour == .membership ? 2 : 1) : 0
            let spares = (0..<spareCount).map { Raft.NodeID("n\(count + 1 + $0)") }
            self.init(voters: voters, spares: spares, flavour: flavour)
            membershipChanges = options.membershipChanges
            mutation = options.mutation
            tickPeriods = allNodes.map { _ in random.uniform(in: UInt64(80)...125) }
            let loss = random.chance(0.5) ? 0 : Double(random.uniform(in: UInt64(1)...8)) / 100
            let duplication = random.chance(0.5) ? 0 : Double(random.uniform(in: UInt64(1)...5)) / 100
            faults = NetworkFaults(lossRate: loss, duplicationRate: duplication, minimumDelay: 2,
                                   maximumDelay: random.uniform(in: UInt64(10)...60))
            if random.chance(0.4) { snapshotInterval = Int(random.uniform(in: UInt64(10)...40)) }
            // Half of those pace snapshots by the image's size (the node's rule), derived without a
            // new draw so every seed keeps the history it had. The images here are about as long
            // as the log behind them, so a divisor of 1 roughly doubles each interval until the
            // max interval (4×) takes over.
            if let interval = snapshotInterval, interval % 2 == 0 {
                snapshotImageDivisor = 1
                snapshotMaxInterval = 4 * interval
            }
            switch flavour {
            case .membership:
                maxEntriesPerAppend = Int(random.uniform(in: UInt64(1)...8))
                faultInterval = 1_200
                eagerSecondChangeProbability = 0.5
                membershipStepInterval = electionTimeout / 10
            case .chaos:
                maxEntriesPerAppend = Int(random.uniform(in: UInt64(1)...8))
            case .leaderChurn:
                maxEntriesPerAppend = 1
                maxInflightAppends = 1
                faultInterval = 1_000
                isolateNewLeaderProbability = 0.5
                isolateLeaderAfterCommitProbability = 0.4
                clientInterval = 40
                readShare = 0.2
            case .crashBeforeSync:
                syncLatency = 20...80
                crashAfterVoteProbability = 0.3
                crashAfterAckProbability = 0.1
                faultInterval = 1_200
            case .partitionedReads:
                faultInterval = 1_200
                readShare = 0.6
                clientInterval = 40
            case .lostLog:
                faultInterval = 1_200
            }
        }
    }
}
