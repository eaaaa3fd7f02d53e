import RaftCore

extension Simulation {
    /// A seeded cluster of `Raft.Instance` values over a simulated network, disks and clocks.
    ///
    /// Everything happens through one event queue in simulated time; every random choice comes
    /// from one `SeededRandom`. After every event the `SafetyChecker` has seen every action, so a
    /// broken invariant is reported at the step that broke it. Scripted scenarios drive it with
    /// `run(for:)`, the fault methods and `propose`/`read`; random histories switch on
    /// `randomFaults` and `randomWorkload`.
    public struct SimulatedCluster: Sendable {
        enum Event: Sendable {
            case tick(node: Int, epoch: UInt64)
            case deliver(Raft.Message, to: Int)
            case sync(node: Int, epoch: UInt64)
            case restart(node: Int)
            case client
            case fault
            case membership
            case healLink(Link)
            case endSlowdown(node: Int, period: Time, epoch: UInt64)
            /// Crash `node` again if it has not crashed since (a wiped node restarted twice).
            case crashAgain(node: Int, epoch: UInt64)
            /// `node`'s shell sees `peer`'s connection close (`Raft.Instance.linkLost(from:)`):
            /// after a crash, or a spurious blip while `peer` is alive.
            case linkLost(node: Int, peer: Raft.NodeID, epoch: UInt64)
        }

        /// The setup the cluster was built from. Scenarios may change its fault knobs (crash
        /// probabilities, sync latency, client and fault intervals) mid-run; the nodes and their
        /// Raft configuration are fixed at creation.
        public var setup: ClusterSetup
        var random: SeededRandom
        /// The current simulated time.
        public internal(set) var now: Time = 0
        /// Events handled so far.
        public internal(set) var steps = 0
        var queue = EventQueue<Event>()
        /// The network; scripted scenarios cut and heal links directly.
        public var network: SimulatedNetwork
        var nodes: [SimulatedNode]
        let indexOf: [Raft.NodeID: Int]
        /// The invariant checker, fed with every action.
        public internal(set) var checker: SafetyChecker
        var stepLog: StepLog<StepRecord>
        /// Generate client proposals and reads at random nodes.
        public var randomWorkload = false
        /// Generate random faults (partitions, crashes) according to the flavour.
        public var randomFaults = false
        /// Counters describing what the history exercised.
        public internal(set) var statistics = Statistics()
        var nextValue: UInt64 = 1
        var nextReadID: UInt64 = 1
        var membershipPlan: [MembershipStep] = []
        /// Whether every step of the membership plan is done (or there was none).
        public var membershipPlanDone: Bool { membershipPlan.isEmpty }
        /// Which nodes have ever been removed from the configuration (they may not rejoin).
        public internal(set) var removedNodes: Set<Raft.NodeID> = []
        var everMembers: Set<Raft.NodeID>
        var latestConfigurationIndex: UInt64 = 0
        var latestAppliedMembership: Raft.Membership?
        /// Real (not PreVote) vote grants delivered to each candidate, by term: what the checker
        /// holds an election to (`quorum-of-voters`).
        var grantsDelivered: [Raft.Term: [Int: Set<Raft.NodeID>]] = [:]
        /// In partitioned-reads histories: the cut-off leader whose clock was slowed.
        var slowedOldLeader: Int?
        /// Nodes whose data directory was wiped (they abstain until re-recorded with their new incarnation).
        public internal(set) var wipedNodes: Set<Raft.NodeID> = []
        /// How many times each node's data directory was wiped (its incarnation generation).
        var wipeCounts: [Int: Int] = [:]

        /// What a history did, for reports and for checking that faults really happened.
        public struct Statistics: Sendable, CustomStringConvertible {
            /// Times some node became leader.
            public var elections = 0
            /// Client writes acknowledged.
            public var acknowledgedWrites = 0
            /// Reads served.
            public var servedReads = 0
            /// Crashes.
            public var crashes = 0
            /// Partition or link faults.
            public var partitions = 0
            /// Closed connections reported to a node (after a crash, or a spurious blip).
            public var linkLosses = 0
            /// Snapshots taken or installed.
            public var snapshots = 0
            /// Membership changes committed.
            public var membershipChanges = 0
            /// Leadership transfers asked for (membership histories).
            public var transfers = 0
            /// Second changes proposed while one was in flight, and refused (membership histories).
            public var refusedSecondChanges = 0
            /// Messages sent.
            public var messages = 0
            /// AppendEntries messages carrying entries.
            public var appendsWithEntries = 0
            /// Entries carried by those AppendEntries messages.
            public var appendedEntries = 0
            /// Data directories wiped (lost-log faults).
            public var wipes = 0
            /// Of those, wipes of a voter that had voted in the current term.
            public var wipesAfterVoting = 0

            /// All counters at zero.
            public init() {}

            /// Adds another history's counters to these.
            public mutating func add(_ other: Statistics) {
                elections += other.elections
                acknowledgedWrites += other.acknowledgedWrites
                servedReads += other.servedReads
                crashes += other.crashes
                partitions += other.partitions
                linkLosses += other.linkLosses
                snapshots += other.snapshots
                membershipChanges += other.membershipChanges
                transfers += other.transfers
                refusedSecondChanges += other.refusedSecondChanges
                messages += other.messages
                appendsWithEntries += other.appendsWithEntries
                appendedEntries += other.appendedEntries
                wipes += other.wipes
                wipesAfterVoting += other.wipesAfterVoting
            }
            /// `elections=… writes=… reads=… crashes=… partitions=… snapshots=… membership=… messages=…`.
            public var description: String {
                "elections=\(elections) writes=\(acknowledgedWrites) reads=\(servedReads) crashes=\(crashes) partitions=\(partitions) link-losses=\(linkLosses) snapshots=\(snapshots) membership=\(membershipChanges) messages=\(messages)"
                    + (transfers + refusedSecondChanges > 0 ? " transfers=\(transfers) refused-second-changes=\(refusedSecondChanges)" : "")
                    + (wipes > 0 ? " wipes=\(wipes) (\(wipesAfterVoting) after voting)" : "")
            }
        }

        /// Builds and starts the cluster: every node up, clocks ticking, nothing sent yet.
        public init(setup: ClusterSetup, seed: UInt64, reportedSteps: Int = 30) {
            self.setup = setup
            self.random = SeededRandom(seed: seed ^ 0x5EED_C1A5_7E12_0001)
            self.network = SimulatedNetwork(faults: .healthy)
            let all = setup.allNodes
            var indexOf: [Raft.NodeID: Int] = [:]
            for (position, id) in all.enumerated() { indexOf[id] = position }
            self.indexOf = indexOf
            self.everMembers = Set(setup.voters)
            let founding = Raft.Membership(voters: Set(setup.voters))
            self.checker = SafetyChecker(names: all, bootstrap: all.indices.map { $0 < setup.voters.count ? founding : Raft.Membership(voters: []) })
            self.stepLog = StepLog(capacity: reportedSteps)
            nodes = all.enumerated().map { position, id in
                var config = Raft.Config(id: id, electionTicks: setup.electionTicks, heartbeatTicks: setup.heartbeatTicks,
                                         maxEntriesPerAppend: setup.maxEntriesPerAppend,
                                         maxInflightAppends: setup.maxInflightAppends,
                                         snapshotChunkBytes: setup.snapshotChunkBytes,
                                         snapshotInterval: setup.snapshotInterval,
                                         snapshotImageDivisor: setup.snapshotImageDivisor,
                                         snapshotMaxInterval: setup.snapshotMaxInterval)
                Self.enableMutation(setup.mutation, in: &config)
                // A first directory holds no earlier vote or acknowledgement, so founding nodes
                // and spares start as not new (the operator's knowledge, like etcd's
                // initial-cluster-state "new"). Treated as new, they would abstain until recorded,
                // which costs a voter while it lasts (docs/raft.md, "Incarnations"). Only a wipe
                // makes a node new here.
                config.incarnation = Self.incarnation(of: position, generation: 0)
                let membership = position < setup.voters.count ? founding : Raft.Membership(voters: [])
                return SimulatedNode(id: id, config: config, bootstrapMembership: membership, tickPeriod: setup.tickPeriods[position])
            }
            for position in nodes.indices {
                nodes[position].instance = Raft.Instance(config: nodes[position].config, membership: nodes[position].bootstrapMembership,
                                                         seed: random.next())
                queue.schedule(.tick(node: position, epoch: 0), at: random.uniform(in: 1...nodes[position].tickPeriod))
            }
        }

        /// The incarnation of `position`'s data directory after `generation` wipes: distinct,
        /// non-zero and readable in step logs (`0x2_00000001`: the third node, wiped once).
        static func incarnation(of position: Int, generation: Int) -> UInt64 {
            UInt64(position + 1) << 32 | UInt64(generation + 1)
        }

        /// Whether this build can enable mutations (it was compiled with `QUORUM_SIM_MUTATIONS`).
        public static var mutationsAvailable: Bool {
            #if QUORUM_SIM_MUTATIONS
            return true
            #else
            return false
            #endif
        }

        /// The mutation names this build knows.
        public static var mutationNames: [String] {
            #if QUORUM_SIM_MUTATIONS
            return RaftMutation.allCases.map(\.rawValue)
            #else
            return []
            #endif
        }

        static func enableMutation(_ name: String?, in config: inout Raft.Config) {
            guard let name else { return }
            #if QUORUM_SIM_MUTATIONS
            guard let mutation = RaftMutation(rawValue: name) else {
                preconditionFailure("unknown mutation \(name); known: \(mutationNames)")
            }
            config.mutation = mutation
            #else
            preconditionFailure("mutation \(name) needs a build with -DQUORUM_SIM_MUTATIONS (use scripts/simulate.sh)")
            #endif
        }

        // MARK: Views

        /// Every node id, founding voters first.
        public var nodeIDs: [Raft.NodeID] { nodes.map(\.id) }

        /// The node's Raft instance, `nil` while it is crashed.
        public func instance(_ id: Raft.NodeID) -> Raft.Instance? {
            indexOf[id].flatMap { nodes[$0].instance }
        }

        /// The index a node's state machine has applied through.
        public func appliedIndex(_ id: Raft.NodeID) -> UInt64 {
            indexOf[id].map { nodes[$0].appliedIndex } ?? 0
        }

        /// What a node's disk has made durable (survives a crash).
        public func durableImage(_ id: Raft.NodeID) -> DiskImage? {
            indexOf[id].map { nodes[$0].disk.durable }
        }

        /// The running node that is leader of the highest term among running nodes, if any.
        public var leader: Raft.NodeID? {
            let running = nodes.compactMap(\.instance)
            guard let top = running.map(\.term).max() else { return nil }
            return running.first { $0.role == .leader && $0.term == top }?.id
        }

        /// The last steps, oldest first, for a failure report.
        public var lastSteps: [String] { stepLog.lines }

        // MARK: Running

        /// Handles events until simulated time passes `now + duration` (or the queue empties).
        public mutating func run(for duration: Time) throws(InvariantViolation) {
            let deadline = now + duration
            while let next = queue.nextTime, next <= deadline {
                try step()
            }
            now = max(now, deadline)
        }

        /// Handles events until `condition` holds or `duration` passes; returns whether it held.
        public mutating func run(for duration: Time, until condition: (SimulatedCluster) -> Bool) throws(InvariantViolation) -> Bool {
            let deadline = now + duration
            while !condition(self) {
                guard let next = queue.nextTime, next <= deadline else {
                    now = max(now, deadline)
                    return condition(self)
                }
                try step()
            }
            return true
        }

        /// Handles exactly one event.
        public mutating func step() throws(InvariantViolation) {
            guard let (time, event) = queue.popNext() else { return }
            now = time
            steps += 1
            try handle(event)
            for position in nodes.indices where nodes[position].crashRequested {
                crash(position, reason: "right after a durable-state send")
                scheduleRestart(position, after: random.uniform(in: 1...60))
            }
        }

        mutating func log(_ entry: StepRecord) {
            stepLog.record(step: steps, time: now, entry)
        }

        mutating func handle(_ event: Event) throws(InvariantViolation) {
            switch event {
            case .tick(let node, let epoch):
                guard nodes[node].epoch == epoch, nodes[node].instance != nil else { return }
                queue.schedule(.tick(node: node, epoch: epoch), at: now + nodes[node].tickPeriod)
                let actions = nodes[node].instance?.tick() ?? []
                try perform(actions, at: node)
            case .deliver(let message, let node):
                guard nodes[node].instance != nil else {
                    log(.dropped(message, reason: "\(message.to) is down"))
                    return
                }
                guard network.isOpen(from: message.from, to: message.to) else {
                    log(.dropped(message, reason: "link cut"))
                    return
                }
                log(.delivered(message))
                if case .voteResponse(let response) = message.body, response.granted, !response.isPreVote {
                    grantsDelivered[message.term, default: [:]][node, default: []].insert(message.from)
                }
                let actions = nodes[node].instance?.receive(message) ?? []
                try perform(actions, at: node)
            case .sync(let node, let epoch):
                guard nodes[node].epoch == epoch else { return }
                try sync(node)
            case .restart(let node):
                nodes[node].restartScheduled = false
                try restart(node)
            case .client:
                guard randomWorkload else { return }
                try randomClientOperation()
                queue.schedule(.client, at: now + random.uniform(in: 1...(2 * setup.clientInterval)))
            case .fault:
                guard randomFaults else { return }
                try randomFault()
                queue.schedule(.fault, at: now + random.uniform(in: (setup.faultInterval / 2)...(setup.faultInterval * 3 / 2)))
            case .membership:
                try advanceMembershipPlan()
            case .healLink(let link):
                if network.cutLinks.contains(link) {
                    network.restore(link)
                    log(.fault("restore link \(link)"))
                }
            case .endSlowdown(let node, let period, let epoch):
                if nodes[node].epoch == epoch { nodes[node].tickPeriod = period }
            case .crashAgain(let node, let epoch):
                if nodes[node].epoch == epoch, nodes[node].instance != nil {
                    crash(node, restartAfter: random.uniform(in: 1...(setup.electionTimeout / 2)))
                }
            case .linkLost(let node, let peer, let epoch):
                guard nodes[node].epoch == epoch, nodes[node].instance != nil else { return }
                log(.fault("\(nodes[node].id) sees \(peer)'s connection close"))
                statistics.linkLosses += 1
                let actions = nodes[node].instance?.linkLost(from: peer) ?? []
                try perform(actions, at: node)
            }
        }

        /// Starts the random client workload and fault schedule.
        public mutating func startRandomActivity(workload: Bool, faults: Bool) {
            randomWorkload = workload
            randomFaults = faults
            if workload { queue.schedule(.client, at: now + setup.clientInterval) }
            if faults {
                network.faults = setup.faults
                queue.schedule(.fault, at: now + setup.faultInterval)
            }
            membershipPlan = MembershipStep.plan(for: setup, random: &random)
            if !membershipPlan.isEmpty { queue.schedule(.membership, at: now + setup.electionTimeout) }
        }
    }
}
