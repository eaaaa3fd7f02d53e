import RaftCore

extension Simulation.SafetyChecker {
    // MARK: Membership invariants

    /// The configuration `node` uses now, as the checker rebuilt it from the node's writes.
    public func configuration(of node: Int) -> Raft.Membership { configurations[node].current }

    /// `node` won `term` with the real votes `grantedBy` delivered to it: the winner and those
    /// voters must be a quorum of the voters of the configuration in its log. A learner, a removed
    /// node or an unknown id never counts (thesis §4.1: only the configuration's voters decide).
    public func electionQuorum(_ node: Int, term: Raft.Term, grantedBy: Set<Raft.NodeID>) throws(Simulation.InvariantViolation) {
        let configuration = configurations[node].current
        var counted = grantedBy.intersection(configuration.voters)
        if configuration.voters.contains(names[node]) { counted.insert(names[node]) }
        // A wiped voter's lost grant or refusal cannot be judged; give it the benefit of the doubt.
        for voter in configuration.voters where numberOf[voter].map(everWiped.contains) == true {
            counted.insert(voter)
        }
        guard counted.count < configuration.quorum else { return }
        let others = grantedBy.subtracting(configuration.voters).sorted().map(\.rawValue)
        throw Simulation.InvariantViolation(.quorumOfVoters,
            "\(names[node]) became leader of \(term) with votes of \(counted.sorted().map(\.rawValue)) only"
            + (others.isEmpty ? "" : " (and of non-voters \(others))")
            + ", fewer than the quorum of \(configuration.quorum) of its configuration \(configuration)")
    }

    /// `node`, leader of `term`, moved its commit index to `index`: the entry there must be held
    /// by a quorum of the voters of the configuration in the leader's log (the leader's own
    /// acknowledgement only if it is a voter). A leader that counts a learner's or a removed
    /// node's acknowledgement commits entries no quorum holds.
    mutating func leaderCommitted(_ node: Int, through index: UInt64, term: Raft.Term) throws(Simulation.InvariantViolation) {
        guard let entryTerm = logs[node].term(at: index) else { return }  // below its snapshot: committed before
        let configuration = configurations[node].current
        let holders = configuration.voters.filter { voter in
            guard let holder = numberOf[voter] else { return false }
            if everWiped.contains(holder) { return true }
            let log = logs[holder]
            return log.baseIndex >= index || log.term(at: index) == entryTerm
        }
        guard holders.count < configuration.quorum else { return }
        throw Simulation.InvariantViolation(.quorumOfVoters,
            "\(names[node]), leader of \(term), committed i\(index) (\(entryTerm)) but only \(holders.sorted().map(\.rawValue)) of "
            + "its configuration's voters hold it, fewer than the quorum of \(configuration.quorum) (\(configuration))")
    }

    /// `node`, leading, appended a configuration entry at `index` (call before `entriesWritten`):
    /// every configuration entry before it in the node's log must be committed as far as the
    /// node has reported or, for a leader, reached (`commitReached`: the hard state it reports
    /// is held back to its own durable log while a majority of others may already hold more;
    /// thesis §4.1: one change at a time, or two majorities may not overlap).
    public func configurationProposed(_ node: Int, at index: UInt64, commitReached: UInt64 = 0) throws(Simulation.InvariantViolation) {
        let commit = max(runtimeCommit[node], commitReached)
        let previous = configurations[node].entries.last { $0.index < index }
        guard let previous, previous.index > commit else { return }
        throw Simulation.InvariantViolation(.oneChangeInFlight,
            "\(names[node]) appended a configuration change at i\(index) while the one at i\(previous.index) "
            + "(\(previous.membership)) was not committed (its commit index is i\(commit))")
    }
}
