extension Simulation {
    /// The invariants the simulator checks, by the name a failure report prints.
    public enum Invariant: String, Sendable, CaseIterable, CustomStringConvertible {
        /// At most one leader per term (Raft §5.2, Figure 3 "Election Safety").
        case electionSafety = "election-safety"
        /// Two logs holding an entry with the same index and term are identical up to it
        /// (Raft §5.3, Figure 3 "Log Matching").
        case logMatching = "log-matching"
        /// A leader holds every entry committed in earlier terms (Raft §5.4, Figure 3
        /// "Leader Completeness").
        case leaderCompleteness = "leader-completeness"
        /// Every node applies the same entry at each index, in index order (Raft §5.4.3,
        /// Figure 3 "State Machine Safety").
        case stateMachineSafety = "state-machine-safety"
        /// A node's commit index never moves backwards while it runs, and its durable commit
        /// index never moves backwards at all.
        case commitMonotonic = "commit-index-monotonic"
        /// No read returns a state older than one already acknowledged (a write or a read)
        /// before the read started (linearizability; Raft thesis §6.4).
        case linearizableRead = "linearizable-read"
        /// After the faults heal, a leader is elected within 10 election timeouts.
        case leaderAfterHeal = "leader-after-heal"
        /// After the faults heal, every acknowledged proposal is applied on every node.
        case acknowledgedApplied = "acknowledged-proposal-applied"
        /// While a quorum stays connected, a rejoining node causes no leader change
        /// (PreVote and CheckQuorum, Raft thesis §9.6).
        case noDisruption = "no-disruptive-rejoin"
        /// Only the voters of the configuration in a leader's log decide its election and its
        /// commits: the winner's votes and every entry it commits come from a quorum of them
        /// (thesis §4.1). A learner or a removed node never counts.
        case quorumOfVoters = "quorum-of-voters"
        /// A leader appends a configuration change only when every earlier one in its log is
        /// committed: at most one uncommitted change in flight (thesis §4.1, single-server changes).
        case oneChangeInFlight = "one-configuration-change-in-flight"

        /// The invariant's name, as printed in failure reports.
        public var description: String { rawValue }
    }

    /// A broken invariant: which one, and the facts that break it.
    public struct InvariantViolation: Error, Sendable, CustomStringConvertible {
        /// The invariant that does not hold.
        public var invariant: Invariant
        /// What was observed, with node ids, terms and indexes.
        public var detail: String

        /// A violation of `invariant`, explained by `detail`.
        public init(_ invariant: Invariant, _ detail: String) {
            self.invariant = invariant
            self.detail = detail
        }

        /// `invariant <name> broken: <detail>`.
        public var description: String { "invariant \(invariant) broken: \(detail)" }
    }
}
