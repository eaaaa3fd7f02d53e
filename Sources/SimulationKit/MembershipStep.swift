import RaftCore

extension Simulation {
    /// One step of an operator's membership plan, taken through whichever node leads when it
    /// is due (docs/testing.md, "membership" histories).
    enum MembershipStep: Sendable, CustomStringConvertible {
        /// A single-server change, retried until the applied configuration reflects it.
        case change(Raft.MembershipChange)
        /// Remove whoever leads when the step is first tried (the leader removed mid-change: it
        /// keeps leading until the removal commits, then steps down). Becomes `.change(.remove)`.
        case removeLeader
        /// Hand leadership to another voter, chosen when the step is due; done once asked,
        /// whether or not the transfer completes (faults may abandon it).
        case transferLeadership

        var description: String {
            switch self {
            case .change(let change): "\(change)"
            case .removeLeader: "remove the leader"
            case .transferLeadership: "transfer leadership"
            }
        }

        /// The plan of a seed's history: in membership histories, add a learner, promote it,
        /// transfer leadership, remove the leader, add and promote a second spare, remove a
        /// founding voter (the voter count goes 3→4→3→4→3 or 5→6→5→6→5); in other flavours the
        /// older add–promote–remove of one spare (no removal in lost-log histories).
        static func plan(for setup: ClusterSetup, random: inout SeededRandom) -> [MembershipStep] {
            guard setup.membershipChanges, let first = setup.spares.first else { return [] }
            if setup.flavour == .membership, setup.spares.count >= 2 {
                let second = setup.spares[1]
                return [.change(.addLearner(first)), .change(.promote(first)), .transferLeadership, .removeLeader,
                        .change(.addLearner(second)), .change(.promote(second)), .change(.remove(random.pick(setup.voters)))]
            }
            var plan: [MembershipStep] = [.change(.addLearner(first)), .change(.promote(first))]
            // No removal in lost-log histories: a voter whose log holds its own uncommitted
            // removal does not campaign, and with a wiped voter abstaining for good the rest
            // could then lack a quorum that accepts any candidate's log.
            if setup.flavour != .lostLog { plan.append(.change(.remove(random.pick(setup.voters)))) }
            return plan
        }
    }
}
