import RaftCore

extension Simulation {
    /// The outcome of one seeded history.
    public struct HistoryResult: Sendable {
        /// The seed that produced it.
        public var seed: UInt64
        /// What the seed chose.
        public var setup: ClusterSetup
        /// Events handled (faulty phase plus healing).
        public var steps: Int
        /// Simulated time at the end.
        public var simulatedTime: Time
        /// What the history exercised.
        public var statistics: SimulatedCluster.Statistics
        /// The broken invariant, if any, with the last steps before it.
        public var failure: Failure?

        /// A broken invariant and the steps that led to it.
        public struct Failure: Sendable {
            /// What broke.
            public var violation: InvariantViolation
            /// The last steps, oldest first.
            public var lastSteps: [String]
            /// The step at which it broke.
            public var step: Int
        }

        /// Whether every invariant held.
        public var passed: Bool { failure == nil }

        /// The full failure report: seed, invariant, last steps, and how to replay it.
        public var report: String {
            let shape = "seed=\(seed) flavour=\(setup.flavour) voters=\(setup.voters.count) spares=\(setup.spares.count)"
                + (setup.mutation.map { " mutation=\($0)" } ?? "")
            guard let failure else {
                return "PASS \(shape) steps=\(steps) time=\(simulatedTime) \(statistics)"
            }
            var lines = ["FAIL \(shape) at step \(failure.step)", "\(failure.violation)", "last \(failure.lastSteps.count) steps:"]
            lines += failure.lastSteps.map { "  \($0)" }
            lines.append("replay: scripts/simulate.sh --seed \(seed)" + (setup.mutation.map { " --mutation \($0)" } ?? ""))
            return lines.joined(separator: "\n")
        }
    }

    /// Runs seeded histories: a faulty phase of `steps` events with random faults, client writes
    /// and reads and a membership change, then healing, with every invariant checked throughout.
    public enum HistoryRunner {
        /// Runs one history. Deterministic: the same options give the same result.
        public static func run(_ options: HistoryOptions) -> HistoryResult {
            var random = SeededRandom(seed: options.seed)
            let setup = ClusterSetup(options: options, random: &random)
            var cluster = SimulatedCluster(setup: setup, seed: random.next(), reportedSteps: options.reportedSteps)
            var failure: HistoryResult.Failure?
            do {
                try runPhases(&cluster, steps: options.steps)
            } catch {
                failure = .init(violation: error, lastSteps: cluster.lastSteps, step: cluster.steps)
            }
            return HistoryResult(seed: options.seed, setup: setup, steps: cluster.steps, simulatedTime: cluster.now,
                                 statistics: cluster.statistics, failure: failure)
        }

        static func runPhases(_ cluster: inout SimulatedCluster, steps: Int) throws(InvariantViolation) {
            // Let a first leader emerge before trouble starts.
            _ = try cluster.run(for: cluster.setup.electionTimeout * 5) { $0.leader != nil }
            cluster.startRandomActivity(workload: true, faults: true)
            let target = cluster.steps + steps
            while cluster.steps < target {
                try cluster.step()
            }
            // Membership histories keep their faults on until the whole plan is done (bounded),
            // so its later steps (the leader's removal, the second spare) happen under faults too.
            if cluster.setup.flavour == .membership {
                let limit = cluster.steps + 4 * steps
                while !cluster.membershipPlanDone, cluster.steps < limit {
                    try cluster.step()
                }
            }
            try heal(&cluster)
        }

        /// Heals every fault, then requires a leader within 10 election timeouts and every
        /// acknowledged write applied on every member within 10 more.
        static func heal(_ cluster: inout SimulatedCluster) throws(InvariantViolation) {
            cluster.healEverything()
            let timeout = cluster.setup.electionTimeout
            let budget = 200_000
            let start = cluster.steps
            let elected = try cluster.run(for: 10 * timeout) { $0.hasStableLeader || $0.steps - start > budget }
            guard elected, cluster.steps - start <= budget else {
                let terms = cluster.nodeIDs.map { id in
                    cluster.instance(id).map { "\(id): \($0.leadershipState)" } ?? "\(id): down"
                }
                throw InvariantViolation(.leaderAfterHeal, "no leader 10 election timeouts (\(10 * timeout)) after healing"
                    + (cluster.steps - start > budget ? " (message storm: over \(budget) events)" : "") + "; \(terms.joined(separator: ", "))")
            }
            cluster.randomWorkload = false
            let floor = cluster.checker.acknowledgedFloor
            let convergeStart = cluster.steps
            let converged = try cluster.run(for: 10 * timeout) {
                $0.laggingMembers(behind: floor).isEmpty || $0.steps - convergeStart > budget
            }
            guard converged, cluster.steps - convergeStart <= budget else {
                let lagging = cluster.laggingMembers(behind: floor).map { "\($0) applied through i\(cluster.appliedIndex($0))" }
                throw InvariantViolation(.acknowledgedApplied, "state through i\(floor) was acknowledged, but after healing \(lagging.joined(separator: ", "))"
                    + (cluster.steps - convergeStart > budget ? " (message storm: over \(budget) events)" : ""))
            }
        }
    }
}

extension Simulation.SimulatedCluster {
    /// A running leader of the highest running term that is a voter of its own configuration.
    public var hasStableLeader: Bool {
        guard let id = leader, let instance = instance(id) else { return false }
        return instance.isVoter
    }

    /// Members of the leader's configuration (or founding voters) whose state machine is behind `index`.
    public func laggingMembers(behind index: UInt64) -> [Raft.NodeID] {
        let members = leader.flatMap { instance($0)?.membership.members } ?? Set(setup.voters)
        return members.sorted().filter { appliedIndex($0) < index }
    }
}
