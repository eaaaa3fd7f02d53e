import RaftCore

extension Simulation.SimulatedCluster {
    /// Carries out a node's actions in order, feeding every consequence to the checker. Inputs
    /// the actions trigger (`applied(through:)`, `snapshotTaken`) add their actions to the list.
    mutating func perform(_ initial: [Raft.Action], at node: Int) throws(Simulation.InvariantViolation) {
        // Winning an election logically precedes what the new leader does next (its no-op), so
        // check election safety before the entries it appends.
        for case .leadershipChanged(let state) in initial where state.role == .leader {
            statistics.elections += 1
            try checker.leaderElected(node, term: state.term)
            try checker.electionQuorum(node, term: state.term, grantedBy: grantsDelivered[state.term]?[node] ?? [])
            if randomFaults, random.chance(setup.isolateNewLeaderProbability) {
                isolate(node, for: random.uniform(in: (setup.electionTimeout / 4)...(setup.electionTimeout * 2)))
            }
        }
        var pending = initial
        var cursor = 0
        while cursor < pending.count {
            let action = pending[cursor]
            cursor += 1
            guard nodes[node].instance != nil else { return }
            switch action {
            case .persistHardState(let hardState):
                write(.hardState(hardState), at: node)
                try checker.commitObserved(node, hardState.commit.rawValue, durable: false, term: hardState.term)
            case .truncateLog(let from):
                write(.truncate(after: Raft.LogIndex(from.rawValue - 1)), at: node)
                checker.logTruncated(node, after: from.rawValue - 1)
            case .appendLog(let entries):
                if let instance = nodes[node].instance, instance.role == .leader {
                    // The leader's commit index as it stands: the one its hard state reports is
                    // held back to its own durable log and comes after the appends of a call.
                    for entry in entries where entry.kind == .configChange && entry.term == instance.term {
                        try checker.configurationProposed(node, at: entry.index.rawValue, commitReached: instance.commitIndex.rawValue)
                    }
                }
                write(.entries(entries), at: node)
                try checker.entriesWritten(node, entries)
            case .send(let message):
                send(message, from: node)
            case .sendSnapshotChunk(let read):
                // Filled from the image the shell kept; one it no longer has is lost (resent later).
                guard let chunk = read.chunk, let image = nodes[node].snapshotImages[chunk.metadata.index],
                      chunk.offset + read.length <= image.count else { break }
                send(read.message(filledWith: Array(image[chunk.offset..<chunk.offset + read.length])), from: node)
            case .apply(let entries):
                pending += try apply(entries, at: node)
            case .installSnapshot(let snapshot):
                write(.snapshot(snapshot, discardLog: true), at: node)
                checker.snapshotTaken(node, index: snapshot.metadata.index.rawValue, term: snapshot.metadata.term, discardLog: true,
                                      membership: snapshot.metadata.membership)
                try checker.snapshotApplied(node, index: snapshot.metadata.index.rawValue)
                nodes[node].restoreStateMachine(from: snapshot)
                nodes[node].snapshotImages[snapshot.metadata.index] = snapshot.data
                statistics.snapshots += 1
                log(.snapshot(nodes[node].id, "installed \(snapshot.metadata)"))
                try serveWaitingReads(at: node)
            case .compactLog:
                break  // the disk compacts when the snapshot is written (`takeSnapshot` below)
            case .takeSnapshot:
                pending += try takeSnapshot(at: node)
            case .leadershipChanged(let state):
                log(.leadership(nodes[node].id, state))
                if state.role == .leader && cursor > initial.count {  // leaders in `initial` were checked above
                    statistics.elections += 1
                    try checker.leaderElected(node, term: state.term)
                    try checker.electionQuorum(node, term: state.term, grantedBy: grantsDelivered[state.term]?[node] ?? [])
                }
            case .readReady(let readState):
                guard let floor = nodes[node].reads.removeValue(forKey: readState.context) else { break }
                log(.read(nodes[node].id, "\(readState.context) confirmed at \(readState.index)"))
                nodes[node].waitingReads.append((readState.context, floor, readState.index.rawValue))
                try serveWaitingReads(at: node)
            case .readFailed(let context):
                nodes[node].reads.removeValue(forKey: context)
            case .membershipChanged, .droppedMessage:
                break
            }
        }
        if let instance = nodes[node].instance, nodes[node].snapshotImages.count > 1 {
            let kept = instance.snapshotsInTransfer.union(instance.snapshotMetadata.map { [$0.index] } ?? [])
            nodes[node].snapshotImages = nodes[node].snapshotImages.filter { kept.contains($0.key) }
        }
    }

    mutating func write(_ write: Simulation.DiskWrite, at node: Int) {
        nodes[node].disk.write(write)
        if !nodes[node].syncScheduled {
            nodes[node].syncScheduled = true
            queue.schedule(.sync(node: node, epoch: nodes[node].epoch), at: now + random.uniform(in: setup.syncLatency))
        }
    }

    mutating func send(_ message: Raft.Message, from node: Int) {
        guard let target = indexOf[message.to] else { return }
        statistics.messages += 1
        if case .append(let append) = message.body, !append.entries.isEmpty {
            statistics.appendsWithEntries += 1
            statistics.appendedEntries += append.entries.count
        }
        for delay in network.deliveryDelays(from: message.from, to: message.to, random: &random) {
            queue.schedule(.deliver(message, to: target), at: now + delay)
        }
        let crashProbability: Double
        switch message.body {
        case .voteResponse(let response) where response.granted && !response.isPreVote:
            crashProbability = setup.crashAfterVoteProbability
        case .appendResponse(.success):
            crashProbability = setup.crashAfterAckProbability
        default:
            return
        }
        if crashProbability > 0, random.chance(crashProbability) {
            nodes[node].crashRequested = true
            // Cut the recipient off for a while as well, so whatever it counted on this node
            // must survive without it (raft-bugs.md item 3).
            if case .appendResponse = message.body, randomFaults, random.chance(0.5) {
                isolate(target, for: random.uniform(in: (setup.electionTimeout / 2)...(setup.electionTimeout * 2)))
            }
        }
    }

    /// The disk makes everything written so far durable; the instance hears about it.
    mutating func sync(_ node: Int) throws(Simulation.InvariantViolation) {
        nodes[node].syncScheduled = false
        let writes = nodes[node].disk.unsynced
        guard let last = writes.last else { return }
        nodes[node].disk.sync(through: last.sequence)
        var hardState: Raft.HardState?
        var logChanged = false
        for (_, write) in writes {
            switch write {
            case .hardState(let state): hardState = state
            case .entries, .truncate, .snapshot: logChanged = true
            }
        }
        let durable = nodes[node].disk.durable
        log(.synced(nodes[node].id, hardState: hardState, lastIndex: durable.lastIndex))
        var actions: [Raft.Action] = []
        if let hardState {
            try checker.commitObserved(node, hardState.commit.rawValue, durable: true)
            actions += nodes[node].instance?.persisted(hardState: hardState) ?? []
        }
        if logChanged, durable.lastIndex > .zero {
            let term = durable.entries.last?.term ?? durable.snapshotTerm
            actions += nodes[node].instance?.persisted(through: durable.lastIndex, term: term) ?? []
        }
        try perform(actions, at: node)
    }

    /// Applies committed entries to the register state machine, acknowledges the proposals
    /// accepted here, serves reads that were waiting, and reports the applied index.
    mutating func apply(_ entries: [Raft.Entry], at node: Int) throws(Simulation.InvariantViolation) -> [Raft.Action] {
        guard let last = entries.last else { return [] }
        for entry in entries {
            try checker.entryApplied(node, entry)
            nodes[node].appliedIndex = entry.index.rawValue
            if entry.kind == .normal {
                nodes[node].lastValue = SimulatedNodeCodec.decodeValue(entry.data)
            } else if entry.kind == .configChange {
                noteConfigurationApplied(entry, at: node)
            }
            if let proposal = nodes[node].proposals.removeValue(forKey: entry.index.rawValue), proposal.term == entry.term {
                checker.acknowledged(through: entry.index.rawValue)
                statistics.acknowledgedWrites += 1
                log(.acknowledged(nodes[node].id, value: proposal.value, index: entry.index))
            }
        }
        log(.applied(nodes[node].id, through: last.index, lastTerm: last.term))
        if randomFaults, nodes[node].instance?.role == .leader, random.chance(setup.isolateLeaderAfterCommitProbability) {
            isolate(node, for: random.uniform(in: (setup.electionTimeout / 4)...(setup.electionTimeout * 2)))
        }
        try serveWaitingReads(at: node)
        return nodes[node].instance?.applied(through: last.index) ?? []
    }

    mutating func serveWaitingReads(at node: Int) throws(Simulation.InvariantViolation) {
        guard !nodes[node].waitingReads.isEmpty else { return }
        let applied = nodes[node].appliedIndex
        var still: [(context: Raft.ReadContext, floor: UInt64, index: UInt64)] = []
        for read in nodes[node].waitingReads {
            if read.index <= applied {
                log(.read(nodes[node].id, "\(read.context) served state through i\(applied) (v\(nodes[node].lastValue)), floor i\(read.floor)"))
                try checker.readServed(node, readID: read.context.rawValue, floor: read.floor, servedIndex: applied)
                statistics.servedReads += 1
            } else {
                still.append(read)
            }
        }
        nodes[node].waitingReads = still
    }

    mutating func takeSnapshot(at node: Int) throws(Simulation.InvariantViolation) -> [Raft.Action] {
        let index = Raft.LogIndex(nodes[node].appliedIndex)
        let data = nodes[node].stateMachineData
        let actions: [Raft.Action]
        do {
            actions = try nodes[node].instance?.snapshotTaken(through: index, byteCount: data.count) ?? []
        } catch {
            log(.snapshot(nodes[node].id, "refused at \(index): \(error)"))
            return []
        }
        guard let metadata = nodes[node].instance?.snapshotMetadata, metadata.index == index else { return actions }
        nodes[node].snapshotImages[index] = data
        write(.snapshot(Raft.Snapshot(metadata: metadata, data: data), discardLog: false), at: node)
        checker.snapshotTaken(node, index: index.rawValue, term: metadata.term, discardLog: false, membership: metadata.membership)
        statistics.snapshots += 1
        log(.snapshot(nodes[node].id, "taken through \(index)"))
        return actions
    }

    // MARK: Crash and restart

    /// Crashes a node: its instance and every unsynced write are gone, and so are the client
    /// requests it held (those clients see an error, never an acknowledgement).
    mutating func crash(_ node: Int, reason: String) {
        nodes[node].crashRequested = false
        guard nodes[node].instance != nil else { return }
        let lost = nodes[node].disk.unsynced.count
        nodes[node].disk.crash()
        nodes[node].instance = nil
        nodes[node].epoch += 1
        nodes[node].syncScheduled = false
        nodes[node].proposals.removeAll()
        nodes[node].reads.removeAll()
        nodes[node].waitingReads.removeAll()
        nodes[node].tickPeriod = setup.tickPeriods[node]
        statistics.crashes += 1
        log(.crashed(nodes[node].id, lostWrites: lost, reason: reason))
        // The dead process's kernel closes its sockets: every peer it could reach sees the
        // connection end almost at once (a cut link carries no reset).
        let id = nodes[node].id
        for other in nodes.indices where other != node && nodes[other].instance != nil && network.isOpen(from: id, to: nodes[other].id) {
            queue.schedule(.linkLost(node: other, peer: id, epoch: nodes[other].epoch), at: now + 1)
        }
    }

    mutating func scheduleRestart(_ node: Int, after delay: Simulation.Time) {
        guard !nodes[node].restartScheduled else { return }
        nodes[node].restartScheduled = true
        queue.schedule(.restart(node: node), at: now + delay)
    }

    /// Restarts a crashed node from exactly what its disk made durable.
    mutating func restart(_ node: Int) throws(Simulation.InvariantViolation) {
        guard nodes[node].instance == nil else { return }
        let durable = nodes[node].disk.durable
        let state = Raft.PersistedState(hardState: durable.hardState, snapshot: durable.snapshot, entries: durable.entries,
                                        bootstrapMembership: nodes[node].bootstrapMembership)
        nodes[node].instance = Raft.Instance(config: nodes[node].config, restoring: state, seed: random.next())
        // The incarnation file now exists: the next start finds it.
        nodes[node].config.incarnationIsNew = false
        nodes[node].restoreStateMachine(from: durable.snapshot)
        nodes[node].snapshotImages = durable.snapshot.map { [$0.metadata.index: $0.data] } ?? [:]
        try checker.restarted(node, snapshotIndex: durable.snapshotIndex.rawValue, snapshotTerm: durable.snapshotTerm,
                              entries: durable.entries, snapshotMembership: durable.snapshot?.metadata.membership)
        log(.restarted(nodes[node].id, hardState: durable.hardState, lastIndex: durable.lastIndex))
        queue.schedule(.tick(node: node, epoch: nodes[node].epoch), at: now + nodes[node].tickPeriod)
    }
}

/// The register state machine's value encoding (8 little-endian bytes).
enum SimulatedNodeCodec {
    static func decodeValue(_ bytes: [UInt8]) -> UInt64 { Simulation.SimulatedNode.decodeValue(bytes) }
    static func encodeValue(_ value: UInt64) -> [UInt8] { Simulation.SimulatedNode.encodeValue(value) }
}
