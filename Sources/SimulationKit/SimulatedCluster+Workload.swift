import RaftCore

extension Simulation.SimulatedCluster {
    /// Nodes that are running and have not been removed from the configuration.
    var runningMembers: [Int] {
        nodes.indices.filter { nodes[$0].instance != nil && !removedNodes.contains(nodes[$0].id) }
    }

    mutating func randomClientOperation() throws(Simulation.InvariantViolation) {
        let candidates = runningMembers
        guard !candidates.isEmpty else { return }
        var target = random.pick(candidates)
        let isRead = random.chance(setup.readShare)
        if isRead, let slowed = slowedOldLeader, nodes[slowed].instance != nil, random.chance(0.6) {
            target = slowed  // partitioned-reads: read through the cut-off old leader
        }
        if isRead {
            try read(at: target)
        } else {
            try propose(at: target)
        }
    }

    /// A client proposes a fresh value at `id` (forwarded once to the leader it names).
    public mutating func propose(at id: Raft.NodeID) throws(Simulation.InvariantViolation) {
        guard let node = indexOf[id] else { return }
        try propose(at: node)
    }

    /// A client asks `id` for a linearizable read.
    public mutating func read(at id: Raft.NodeID) throws(Simulation.InvariantViolation) {
        guard let node = indexOf[id] else { return }
        try read(at: node)
    }

    mutating func propose(at first: Int) throws(Simulation.InvariantViolation) {
        var node = first
        if let instance = nodes[node].instance, instance.role != .leader,
           let hint = instance.leader, let forwarded = indexOf[hint], nodes[forwarded].instance != nil,
           network.isOpen(from: nodes[node].id, to: hint)
        {
            node = forwarded
        }
        let value = nextValue
        nextValue += 1
        let proposal: Raft.Proposal?
        do {
            proposal = try nodes[node].instance?.propose(SimulatedNodeCodec.encodeValue(value))
        } catch {
            log(.proposed(nodes[node].id, value: value, result: "refused: \(error.code.rawValue)"))
            return
        }
        guard let proposal else { return }
        nodes[node].proposals[proposal.index.rawValue] = (proposal.term, value)
        log(.proposed(nodes[node].id, value: value, result: "appended at \(proposal.index) \(proposal.term)"))
        try perform(proposal.actions, at: node)
    }

    mutating func read(at node: Int) throws(Simulation.InvariantViolation) {
        guard nodes[node].instance != nil else { return }
        let context = Raft.ReadContext(nextReadID)
        nextReadID += 1
        let floor = checker.acknowledgedFloor
        nodes[node].reads[context] = floor
        log(.read(nodes[node].id, "\(context) asked, floor i\(floor)"))
        let actions: [Raft.Action]
        do {
            actions = try nodes[node].instance?.readIndex(context: context) ?? []
        } catch {
            nodes[node].reads.removeValue(forKey: context)
            return
        }
        try perform(actions, at: node)
    }

    // MARK: Membership

    /// Tracks the newest configuration applied anywhere: members of an earlier configuration
    /// missing from it have been removed (ids are never reused).
    mutating func noteConfigurationApplied(_ entry: Raft.Entry, at node: Int) {
        guard let membership = entry.membership, entry.index.rawValue > latestConfigurationIndex else { return }
        latestConfigurationIndex = entry.index.rawValue
        latestAppliedMembership = membership
        everMembers.formUnion(membership.members)
        removedNodes = everMembers.subtracting(membership.members)
    }

    /// Takes the next step of the membership plan through the current leader (see
    /// `MembershipStep.plan`). A change is retried every `membershipStepInterval` until the
    /// newest applied configuration reflects it; in membership histories the next change is
    /// sometimes proposed at once after one is accepted, which RaftCore must refuse.
    mutating func advanceMembershipPlan() throws(Simulation.InvariantViolation) {
        guard let step = membershipPlan.first else { return }
        defer {
            if !membershipPlan.isEmpty { queue.schedule(.membership, at: now + (setup.membershipStepInterval ?? setup.electionTimeout / 4)) }
        }
        guard let leaderID = leader, let node = indexOf[leaderID], let instance = nodes[node].instance else { return }
        let change: Raft.MembershipChange
        switch step {
        case .transferLeadership:
            let targets = instance.membership.voters.subtracting([leaderID]).sorted()
            guard !targets.isEmpty else { return }
            let target = random.pick(targets)
            membershipPlan.removeFirst()
            statistics.transfers += 1
            let actions: [Raft.Action]
            do {
                actions = try nodes[node].instance?.transferLeadership(to: target) ?? []
            } catch {
                log(.fault("transfer leadership \(leaderID) → \(target) refused: \(error.code.rawValue)"))
                return
            }
            log(.fault("transfer leadership \(leaderID) → \(target)"))
            try perform(actions, at: node)
            return
        case .removeLeader:
            guard instance.isVoter, instance.membership.voters.count > 1 else { return }
            change = .remove(leaderID)
            membershipPlan[0] = .change(change)
        case .change(let planned):
            change = planned
        }
        if let applied = latestAppliedMembership, Self.isReflected(change, in: applied) {
            membershipPlan.removeFirst()
            statistics.membershipChanges += 1
            log(.fault("membership change \(change) is committed and applied"))
            return
        }
        guard !Self.isReflected(change, in: instance.membership) else { return }
        guard try proposeChange(change, at: node) else { return }
        // An impatient operator: the next change at once, while this one is uncommitted.
        if membershipPlan.count > 1, case .change(let next) = membershipPlan[1],
           random.chance(setup.eagerSecondChangeProbability),
           let current = nodes[node].instance?.membership, !Self.isReflected(next, in: current)
        {
            if try !proposeChange(next, at: node) { statistics.refusedSecondChanges += 1 }
        }
    }

    /// Proposes `change` at `node`; false when RaftCore refuses it (logged).
    mutating func proposeChange(_ change: Raft.MembershipChange, at node: Int) throws(Simulation.InvariantViolation) -> Bool {
        let proposal: Raft.Proposal?
        do {
            proposal = try nodes[node].instance?.proposeMembershipChange(change)
        } catch {
            log(.fault("membership change \(change) refused at \(nodes[node].id): \(error.code.rawValue)"))
            return false
        }
        guard let proposal else { return false }
        log(.fault("propose membership change \(change) at \(nodes[node].id)"))
        try perform(proposal.actions, at: node)
        return true
    }

    /// Whether `membership` already shows `change` done.
    static func isReflected(_ change: Raft.MembershipChange, in membership: Raft.Membership) -> Bool {
        switch change {
        case .addLearner(let id): membership.contains(id) || membership.removed.contains(id)
        case .promote(let id), .addVoter(let id), .promoteWithIncarnation(let id, _): membership.voters.contains(id)
        case .recordIncarnations(let recorded): recorded.allSatisfy { membership.incarnation(of: $0.key) == $0.value }
        case .remove(let id): !membership.contains(id)
        case .demote(let id): membership.learners.contains(id)
        }
    }
}

extension Simulation.SimulatedCluster {
    /// Proposes a membership change at `id` (scripted scenarios); returns the refusal, if any.
    @discardableResult
    public mutating func proposeMembershipChange(_ change: Raft.MembershipChange, at id: Raft.NodeID) throws(Simulation.InvariantViolation) -> Raft.RaftError? {
        guard let node = indexOf[id] else { return nil }
        let proposal: Raft.Proposal?
        do {
            proposal = try nodes[node].instance?.proposeMembershipChange(change)
        } catch {
            return error
        }
        log(.fault("propose membership change \(change) at \(id)"))
        if let proposal { try perform(proposal.actions, at: node) }
        return nil
    }
}
