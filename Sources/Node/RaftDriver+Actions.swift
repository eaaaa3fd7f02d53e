import Logging
import RaftCore
import RaftStorage

extension RaftDriver {
    /// Carries out the instance's actions in order, without suspending: storage writes go to the
    /// writer's queue (in order), sends go out at once, applies go to the applier's queue.
    func perform(_ actions: [Raft.Action]) {
        var wroteLog = false
        var queuedApply = false
        for action in actions {
            switch action {
            case .persistHardState(let state):
                writes.enqueue(.hardState(state))
                wroteLog = true
            case .truncateLog(let from):
                writes.enqueue(.truncate(from: from))
                wroteLog = true
            case .appendLog(let entries):
                writes.enqueue(.append(entries))
                wroteLog = true
            case .installSnapshot(let snapshot):
                writes.enqueue(.snapshot(SnapshotEnvelope.storeSnapshot(snapshot)))
                applyQueue.append(.restore(snapshot.metadata, InMemorySnapshotImage(snapshot.data)))
                wroteLog = true
                queuedApply = true
            case .compactLog:
                break  // the store compacts when it saves the snapshot (Raft §7)
            case .send(let message):
                messenger.send(message)
            case .sendSnapshotChunk(let read):
                if let message = snapshotChunks.fill(read, from: store, logger: logger) {
                    messenger.send(message)
                } else if let index = read.chunk?.metadata.index {
                    unreadableSnapshots.insert(index)
                }
            case .apply(let entries):
                applyQueue.append(.entries(entries))
                queuedApply = true
            case .takeSnapshot:
                if !snapshotRequested {
                    snapshotRequested = true
                    applyQueue.append(.takeSnapshot)
                    queuedApply = true
                }
            case .leadershipChanged(let state):
                leadershipChanged(state)
            case .readReady(let read):
                readConfirmed(read)
            case .readFailed(let context):
                failRead(context, code: .readFailed,
                         message: "the leader could not confirm read \(context) (leadership changed); retry")
            case .membershipChanged(let membership):
                logger.info("membership changed", metadata: ["membership": "\(membership)"])
                options.onMembershipChanged?(membership)
            case .droppedMessage(let dropped):
                reportDropped(dropped)
            }
        }
        // After the loop, so the restarted transfers' chunks are carried out as a batch of their
        // own (a chunk of the current snapshot that fails too is not restarted again).
        if !unreadableSnapshots.isEmpty {
            let unreadable = unreadableSnapshots
            unreadableSnapshots = []
            for index in unreadable.sorted() { perform(instance.snapshotUnreadable(through: index)) }
        }
        snapshotChunks.keep(only: instance.snapshotsInTransfer)
        if wroteLog { writerWakeupInput.yield() }
        if queuedApply { applierWakeupInput.yield() }
        reportAbstentionChange()
        reportCommittedMembership()
        startQueuedReadRound()
    }

    /// Tells `Options.onMembershipCommitted` once the configuration in use is committed here.
    private func reportCommittedMembership() {
        guard let report = options.onMembershipCommitted else { return }
        let index = instance.membershipIndexReadInPlace
        guard index <= instance.commitIndex, index != reportedCommittedMembership else { return }
        reportedCommittedMembership = index
        report(instance.membership, index)
    }

    /// Logs when this node starts or stops abstaining from elections (docs/raft.md,
    /// "Incarnations"), so an operator can tell why a voter does not vote.
    private func reportAbstentionChange() {
        let abstaining = instance.abstainsFromElectionsReadInPlace()
        guard abstaining != reportedAbstaining else { return }
        reportedAbstaining = abstaining
        let incarnation = "0x" + String(instance.config.incarnation, radix: 16)
        if abstaining {
            logger.warning("abstaining from elections until the leader records this data directory's incarnation", metadata: [
                "incarnation": "\(incarnation)",
                "recorded": "0x\(String(instance.membership.incarnation(of: id), radix: 16))",
            ])
        } else {
            logger.info("voting again: the configuration records this data directory's incarnation",
                        metadata: ["incarnation": "\(incarnation)"])
        }
    }

    /// Hands a message from the peer the transport authenticated as `peer` to the driver, after
    /// checking that the message names that peer as its sender (peers are checked, not trusted:
    /// docs/security.md). A forged sender is dropped, logged and counted. Never blocks.
    public nonisolated func receive(_ message: Raft.Message, authenticatedAs peer: Raft.NodeID) {
        if let forged = message.senderMismatch(authenticatedAs: peer) {
            reportDropped(forged)
            return
        }
        receive(message)
    }

    /// Logs a dropped peer message and counts it through `Options.onDroppedMessage`.
    nonisolated func reportDropped(_ dropped: Raft.DroppedMessage) {
        logger.warning("dropped a Raft message", metadata: [
            "peer": "\(dropped.from)", "reason": "\(dropped.reason)", "kind": "\(dropped.kind)", "term": "\(dropped.term)",
            "detail": "\(dropped.detail)",
        ])
        options.onDroppedMessage?(dropped)
    }

    /// Publishes the change. When this node stops leading, its pending proposals keep waiting —
    /// the next leader may commit them (success) or another entry at their index (overwritten) —
    /// but only for `Options.proposalOutcomeTicks`: the index may stay empty for long.
    private func leadershipChanged(_ state: Raft.LeaderState) {
        logger.info("leadership changed", metadata: ["state": "\(state)"])
        leadership.publish(state)
        guard state.role != .leader else { return }
        let deadline = tickCount + UInt64(options.proposalOutcomeTicks)
        for (index, proposal) in proposals where proposal.deadlineTick == nil {
            proposals[index]?.deadlineTick = deadline
        }
    }

    /// Fails the proposals whose outcome did not become known in time after a step-down.
    func expireProposals() {
        for (index, proposal) in proposals {
            guard let deadline = proposal.deadlineTick, deadline <= tickCount else { continue }
            proposals[index] = nil
            proposal.continuation.resume(returning: .failure(RaftDriverError(
                code: .leadershipLost, leaderHint: instance.leader,
                message: "\(id) stopped leading before the proposal at \(index) was applied; its outcome is unknown, "
                    + "retry idempotently at \(instance.leader?.rawValue ?? "the next leader")")))
        }
    }

    private func readConfirmed(_ read: Raft.ReadState) {
        if readRoundInFlight == read.context { readRoundInFlight = nil }
        guard var pending = reads[read.context] else { return }
        pending.readIndex = read.index
        reads[read.context] = pending
        completeAppliedReads()
    }

    /// Completes the confirmed reads whose index the state machine has reached.
    func completeAppliedReads() {
        for (context, read) in reads {
            guard let index = read.readIndex, index <= stateMachineApplied else { continue }
            reads[context] = nil
            for waiter in read.continuations { waiter.resume(returning: .success(index)) }
        }
    }

    /// Fails reads whose deadline passed (lost forwarded requests or answers, or a node that
    /// cannot catch up to the read index).
    func expireReads() {
        for (context, read) in reads where read.deadlineTick <= tickCount {
            failRead(context, code: .readTimedOut,
                     message: "read \(context) was not confirmed and applied within \(options.readTimeoutTicks) ticks; retry")
        }
        startQueuedReadRound()
    }

    private func failRead(_ context: Raft.ReadContext, code: RaftDriverError.Code, message: String) {
        if readRoundInFlight == context { readRoundInFlight = nil }
        guard let read = reads.removeValue(forKey: context) else { return }
        let failure = RaftDriverError(code: code, leaderHint: instance.leader, message: message)
        for waiter in read.continuations { waiter.resume(returning: .failure(failure)) }
    }
}
