extension Raft {
    /// The outcome of an election as far as the votes received so far decide it.
    public enum VoteResult: Hashable, Sendable {
        /// A majority of voters granted.
        case won
        /// A majority of voters refused (or cannot grant any more).
        case lost
        /// Neither yet.
        case pending
    }

    /// Majority-quorum arithmetic (etcd's quorum.MajorityConfig), kept apart so it can be
    /// property-tested against a brute-force oracle.
    public enum Quorum {
        /// The highest index that a majority of `voters` has acknowledged; `acknowledged` maps a
        /// voter to its match index (missing voters count as 0). With no voters, returns `.zero`.
        public static func committedIndex(voters: Set<NodeID>, acknowledged: (NodeID) -> LogIndex) -> LogIndex {
            committedIndex(matches: voters.map(acknowledged))
        }

        /// The highest index that a majority acknowledged, given one match index per voter (in
        /// any order). With no voters, returns `.zero`.
        public static func committedIndex(matches: [LogIndex]) -> LogIndex {
            guard !matches.isEmpty else { return .zero }
            return matches.sorted(by: >)[matches.count / 2]
        }

        /// Whether `votes` (voter → granted) decides an election among `voters`. Votes from
        /// non-voters are ignored.
        public static func voteResult(voters: Set<NodeID>, votes: [NodeID: Bool]) -> VoteResult {
            guard !voters.isEmpty else { return .won }
            var granted = 0
            var missing = 0
            for voter in voters {
                switch votes[voter] {
                case true?: granted += 1
                case false?: break
                case nil: missing += 1
                }
            }
            let quorum = voters.count / 2 + 1
            if granted >= quorum { return .won }
            if granted + missing >= quorum { return .pending }
            return .lost
        }
    }
}
