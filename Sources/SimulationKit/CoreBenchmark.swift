import RaftCore

extension Simulation {
    /// The core benchmark: how many entries a 3-node cluster commits per second of wall time when
    /// clients keep the leader busy, with batching (up to 256 entries per AppendEntries) and
    /// pipelining. It runs through the simulator (healthy network, disks syncing in 5–40 units),
    /// so the figure includes the simulator's and the checker's own work: a lower bound on the core.
    public enum CoreBenchmark {
        /// What a benchmark run did.
        public struct Result: Sendable {
            /// Entries committed (applied on the leader).
            public var committed: Int
            /// Messages sent.
            public var messages: Int
            /// AppendEntries messages carrying at least one entry.
            public var appends: Int
            /// Entries carried by those messages (each entry goes to two followers).
            public var appendedEntries: Int
        }

        /// Commits at least `entries` entries, proposing `proposalsPerRound` at the leader every
        /// 10 units of simulated time.
        public static func run(entries: Int, proposalsPerRound: Int) -> Result {
            var setup = ClusterSetup(voters: ["n1", "n2", "n3"])
            setup.maxEntriesPerAppend = 256
            setup.maxInflightAppends = 16
            var cluster = SimulatedCluster(setup: setup, seed: 1)
            do {
                _ = try cluster.run(for: setup.electionTimeout * 10) { $0.leader != nil }
                let start = cluster.statistics
                var applied: UInt64 = 0
                while let leader = cluster.leader, applied < UInt64(entries) {
                    for _ in 0..<proposalsPerRound { try cluster.propose(at: leader) }
                    try cluster.run(for: 10)
                    applied = cluster.appliedIndex(leader)
                }
                return Result(committed: Int(applied), messages: cluster.statistics.messages - start.messages,
                              appends: cluster.statistics.appendsWithEntries - start.appendsWithEntries,
                              appendedEntries: cluster.statistics.appendedEntries - start.appendedEntries)
            } catch {
                preconditionFailure("the benchmark cluster broke an invariant: \(error)")
            }
        }
    }
}
