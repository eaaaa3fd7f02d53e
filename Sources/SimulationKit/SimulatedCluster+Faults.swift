import RaftCore

extension Simulation.SimulatedCluster {
    // MARK: Scripted faults

    /// Cuts `id` off from every other node, both ways.
    public mutating func isolate(_ id: Raft.NodeID) {
        guard let node = indexOf[id] else { return }
        network.isolate(id, from: nodeIDs)
        statistics.partitions += 1
        log(.fault("isolate \(nodes[node].id)"))
    }

    /// Cuts the one-way link `from → to`.
    public mutating func cut(from: Raft.NodeID, to: Raft.NodeID) {
        network.cut(from: from, to: to)
        statistics.partitions += 1
        log(.fault("cut \(from)→\(to)"))
    }

    /// Restores every link and removes network loss and duplication.
    public mutating func healNetwork() {
        network.heal()
        network.faults = .healthy
        log(.fault("heal network"))
    }

    /// Crashes `id` now: it loses every write its disk had not synced.
    public mutating func crash(_ id: Raft.NodeID) {
        guard let node = indexOf[id] else { return }
        crash(node, reason: "scripted")
    }

    /// Restarts a crashed `id` from its durable state.
    public mutating func restart(_ id: Raft.NodeID) throws(Simulation.InvariantViolation) {
        guard let node = indexOf[id] else { return }
        try restart(node)
    }

    /// Stops random faults, restores the network and every clock, and restarts crashed nodes.
    public mutating func healEverything() {
        randomFaults = false
        healNetwork()
        slowedOldLeader = nil
        for node in nodes.indices {
            nodes[node].tickPeriod = setup.tickPeriods[node]
            if nodes[node].instance == nil { scheduleRestart(node, after: 1) }
        }
    }

    // MARK: Random faults

    mutating func isolate(_ node: Int, for duration: Simulation.Time) {
        let id = nodes[node].id
        for other in nodeIDs where other != id {
            for link in [Simulation.Link(from: id, to: other), Simulation.Link(from: other, to: id)] {
                network.cut(from: link.from, to: link.to)
                queue.schedule(.healLink(link), at: now + duration)
            }
        }
        statistics.partitions += 1
        log(.fault("isolate \(id) for \(duration)"))
    }

    mutating func cutLink(_ link: Simulation.Link, for duration: Simulation.Time) {
        network.cut(from: link.from, to: link.to)
        queue.schedule(.healLink(link), at: now + duration)
        statistics.partitions += 1
        log(.fault("cut \(link) for \(duration)"))
    }

    mutating func crash(_ node: Int, restartAfter delay: Simulation.Time) {
        crash(node, reason: "random")
        scheduleRestart(node, after: delay)
    }

    var leaderIndex: Int? { leader.flatMap { indexOf[$0] } }

    mutating func randomFault() throws(Simulation.InvariantViolation) {
        let timeout = setup.electionTimeout
        let everyone = Array(nodes.indices)
        switch setup.flavour {
        case .chaos, .membership:
            switch random.below(7) {
            case 0:
                isolate(random.pick(everyone), for: random.uniform(in: (timeout / 2)...(timeout * 3)))
            case 1:
                let shuffled = everyone.sorted { _, _ in random.chance(0.5) }
                let cut = random.uniform(in: 1...(shuffled.count - 1))
                let duration = random.uniform(in: (timeout / 2)...(timeout * 3))
                for a in shuffled[..<cut] {
                    for b in shuffled[cut...] {
                        cutLink(Simulation.Link(from: nodes[a].id, to: nodes[b].id), for: duration)
                        cutLink(Simulation.Link(from: nodes[b].id, to: nodes[a].id), for: duration)
                    }
                }
            case 2:
                let from = random.pick(everyone)
                let to = random.pick(everyone.filter { $0 != from })
                cutLink(Simulation.Link(from: nodes[from].id, to: nodes[to].id), for: random.uniform(in: timeout...(timeout * 4)))
            case 3:
                crash(random.pick(everyone), restartAfter: random.uniform(in: 1...(timeout * 2)))
            case 4:
                if let leaderIndex { crash(leaderIndex, restartAfter: random.uniform(in: (timeout / 4)...(timeout * 2))) }
            case 5:
                linkBlip(random.pick(everyone))
            default:
                let node = random.pick(everyone)
                slowDown(node, factor: random.uniform(in: UInt64(2)...4), for: random.uniform(in: timeout...(timeout * 3)))
            }
        case .leaderChurn:
            let roll = random.below(10)
            if let leaderIndex, roll < 6 {
                crash(leaderIndex, restartAfter: random.uniform(in: (timeout / 4)...(timeout * 2)))
            } else if let leaderIndex, roll < 8 {
                isolate(leaderIndex, for: random.uniform(in: (timeout / 2)...(timeout * 2)))
            } else {
                crash(random.pick(everyone), restartAfter: random.uniform(in: 1...timeout))
            }
        case .crashBeforeSync:
            let roll = random.below(10)
            if let leaderIndex, roll < 5 {
                crash(leaderIndex, restartAfter: random.uniform(in: 1...timeout))
            } else if roll < 8 {
                isolate(random.pick(everyone), for: random.uniform(in: (timeout / 2)...(timeout * 2)))
            } else {
                crash(random.pick(everyone), restartAfter: random.uniform(in: 1...timeout))
            }
        case .lostLog:
            let roll = random.below(10)
            if roll < 5 {
                wipeDataDirectory()
            } else if roll < 7 {
                crash(random.pick(everyone), restartAfter: random.uniform(in: 1...timeout))
            } else if roll < 9 {
                isolate(random.pick(everyone), for: random.uniform(in: (timeout / 2)...(timeout * 2)))
            } else if let leaderIndex {
                crash(leaderIndex, restartAfter: random.uniform(in: (timeout / 4)...timeout))
            }
        case .partitionedReads:
            if let leaderIndex, slowedOldLeader == nil, random.chance(0.8) {
                // Cut the leader off and slow its clock (a paused process, etcd #20418), so it
                // keeps believing it leads while the others elect a leader and commit writes.
                let duration = random.uniform(in: (timeout * 2)...(timeout * 4))
                isolate(leaderIndex, for: duration)
                slowDown(leaderIndex, factor: random.uniform(in: UInt64(3)...5), for: duration)
                slowedOldLeader = leaderIndex
            } else if slowedOldLeader != nil, network.cutLinks.isEmpty {
                slowedOldLeader = nil  // the old leader's partition healed: aim reads anywhere again
            } else {
                crash(random.pick(everyone), restartAfter: random.uniform(in: 1...timeout))
            }
        }
    }

    /// Picks a node to wipe: preferably a voter that voted in the current term (its lost vote is
    /// the dangerous part), never a removed node, and never so many voters that the ones still
    /// allowed to vote could not elect a leader after healing.
    mutating func wipeDataDirectory() {
        // Any wiped node may be a voter by the time the faults heal (the spare gets promoted).
        let limit = (setup.voters.count - 1) / 2
        let eligible = nodes.indices.filter { node in
            let id = nodes[node].id
            return !removedNodes.contains(id) && (wipedNodes.contains(id) || wipedNodes.count < limit)
        }
        guard !eligible.isEmpty else { return }
        let topTerm = nodes.compactMap(\.instance).map(\.term).max() ?? .zero
        let voted = eligible.filter { node in
            guard let instance = nodes[node].instance else { return false }
            return instance.role != .leader && instance.vote != nil && instance.term == topTerm
        }
        let node = !voted.isEmpty && random.chance(0.7) ? random.pick(voted) : random.pick(eligible)
        let restartDelay = random.uniform(in: 1...setup.electionTimeout)
        wipe(node, restartAfter: restartDelay)
        if let leaderIndex, leaderIndex != node, random.chance(0.4) {
            // Force an election while the wiped node is back but still empty: its vote is what
            // could elect a leader missing entries it had acknowledged.
            crash(leaderIndex, restartAfter: restartDelay + random.uniform(in: (setup.electionTimeout / 2)...(setup.electionTimeout * 2)))
        }
    }

    /// An operator wipes `node`'s data directory (docs/storage.md's procedure after damage) and
    /// starts it again after `delay`: it comes back with an empty disk — no log, no snapshot, no
    /// term or vote — and a new incarnation. It abstains from elections until the leader has
    /// demoted it and promoted it again with the new incarnation (or, if it was unrecorded,
    /// recorded it), as `RaftCore` decides on its own (docs/raft.md, "Incarnations").
    mutating func wipe(_ node: Int, restartAfter delay: Simulation.Time) {
        let topTerm = nodes.compactMap(\.instance).map(\.term).max() ?? .zero
        if let instance = nodes[node].instance, instance.isVoter, instance.vote != nil, instance.term == topTerm {
            statistics.wipesAfterVoting += 1
        }
        if nodes[node].instance != nil { crash(node, reason: "wipe") }
        nodes[node].disk = Simulation.SimulatedDisk()
        wipeCounts[node, default: 0] += 1
        nodes[node].config.incarnation = Self.incarnation(of: node, generation: wipeCounts[node, default: 0])
        nodes[node].config.incarnationIsNew = true
        nodes[node].appliedIndex = 0
        nodes[node].lastValue = 0
        checker.wiped(node)
        wipedNodes.insert(nodes[node].id)
        statistics.wipes += 1
        log(.fault("wipe \(nodes[node].id)'s data directory"))
        scheduleRestart(node, after: delay)
        if random.chance(0.5) {
            // Restarted again before it is repaired: no longer new (its incarnation file exists)
            // and its log may not hold its old record yet, so its own abstention may not cover
            // it — candidates' and leaders' incarnation checks must (docs/raft.md, "Gaps").
            queue.schedule(.crashAgain(node: node, epoch: nodes[node].epoch),
                           at: now + delay + random.uniform(in: 1...(setup.electionTimeout / 2)))
        }
    }

    /// Wipes `id`'s data directory now and restarts it after `delay` (scripted scenarios).
    public mutating func wipe(_ id: Raft.NodeID, restartAfter delay: Simulation.Time) {
        guard let node = indexOf[id] else { return }
        wipe(node, restartAfter: delay)
    }

    /// `node`'s connection from its leader (or, without one, from a random peer) closes while
    /// that peer is alive — a reset or a restarted connection — and is redialed: the report must
    /// not let `node` disrupt a leader the others still hear.
    mutating func linkBlip(_ node: Int) {
        guard let instance = nodes[node].instance else { return }
        let peers = nodeIDs.filter { $0 != nodes[node].id }
        guard let peer = instance.leader.flatMap({ $0 == nodes[node].id ? nil : $0 }) ?? (peers.isEmpty ? nil : random.pick(peers)) else { return }
        queue.schedule(.linkLost(node: node, peer: peer, epoch: nodes[node].epoch), at: now + 1)
    }

    mutating func slowDown(_ node: Int, factor: UInt64, for duration: Simulation.Time) {
        let normal = setup.tickPeriods[node]
        nodes[node].tickPeriod = normal * factor
        queue.schedule(.endSlowdown(node: node, period: normal, epoch: nodes[node].epoch), at: now + duration)
        log(.fault("slow \(nodes[node].id)'s clock ×\(factor) for \(duration)"))
    }
}
