import Dispatch
import Logging
import RaftCore
import RaftStorage

extension RaftDriver {
    /// Drives the node until the calling task is cancelled (returns normally) or storage or the
    /// state machine fails (throws; the process must stop and recover on restart). Five child
    /// tasks — ticks, inbox, writer, applier, snapshots — all end with it; pending requests then fail with
    /// `.shuttingDown`. Call once.
    public func run() async throws(RaftDriverFailure) {
        guard phase == .idle else {
            throw RaftDriverFailure(message: "run() was already called on driver \(id); create a new driver to restart")
        }
        phase = .running
        leadership.publish(instance.leadershipState)
        logger.info("raft driver started", metadata: ["status": "\(status)"])
        applierWakeupInput.yield()
        writerWakeupInput.yield()
        var failure: RaftDriverFailure?
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await self.tickLoop() }
                group.addTask { await self.inboxLoop() }
                group.addTask { try await self.writerLoop() }
                group.addTask { try await self.applierLoop() }
                group.addTask { try await self.snapshotLoop() }
                // Every loop runs until cancellation, so the first to return means we stop.
                _ = try await group.next()
                group.cancelAll()
                try await group.waitForAll()
            }
        } catch let error as RaftDriverFailure {
            failure = error
        } catch {
            failure = RaftDriverFailure(message: "raft driver \(id) stopped: \(error)")
        }
        shutDown()
        if let failure {
            logger.error("raft driver stopped", metadata: ["error": "\(failure)"])
            throw failure
        }
        logger.info("raft driver stopped")
    }

    private func shutDown() {
        phase = .stopped
        let error = RaftDriverError.shuttingDown(id)
        for (_, proposal) in proposals { proposal.continuation.resume(returning: .failure(error)) }
        proposals = [:]
        for (_, read) in reads {
            for waiter in read.continuations { waiter.resume(returning: .failure(error)) }
        }
        reads = [:]
        for waiter in readsForNextRound { waiter.resume(returning: .failure(error)) }
        readsForNextRound = []
        readRoundInFlight = nil
        inboxInput.finish()
        writerWakeupInput.finish()
        applierWakeupInput.finish()
        snapshotWakeupInput.finish()
        leadership.finish()
    }

    // MARK: Loops (child tasks of run)

    private nonisolated func tickLoop() async {
        while !Task.isCancelled {
            do {
                try await Self.sleep(on: clock, for: options.tickInterval)
            } catch {
                return  // cancelled
            }
            await tick()
        }
    }

    private static func sleep<C: Clock>(on clock: C, for duration: Duration) async throws where C.Duration == Duration {
        try await clock.sleep(until: clock.now.advanced(by: duration), tolerance: nil)
    }

    private nonisolated func inboxLoop() async {
        for await input in inbox {
            switch input {
            case .message(let message): await handle(message)
            case .linkLost(let peer): await handleLinkLost(from: peer)
            }
        }
    }

    /// Makes queued log writes durable, one merged batch per store call: whatever arrives while a
    /// batch is being synced is written together in the next one (the store group-commits too).
    private nonisolated func writerLoop() async throws {
        for await _ in writerWakeups {
            while let batch = await takeWriteBatch() {
                switch batch {
                case .log(let hardState, let entries):
                    let last: Raft.LogIndex
                    let started = ContinuousClock.now
                    do {
                        last = try await store.persist(hardState: hardState, entries: entries)
                        options.onLogWrite?(ContinuousClock.now - started)
                    } catch {
                        throw RaftDriverFailure(message: "log write failed on \(id) (\(entries.count) entries from "
                            + "\(entries.first?.index.description ?? "-")): \(error); the node must restart")
                    }
                    await logBecameDurable(hardState: hardState, through: last, term: store.term(at: last))
                case .snapshot(let snapshot):
                    do {
                        try await store.saveSnapshot(snapshot)
                    } catch {
                        throw RaftDriverFailure(message: "saving the snapshot at \(snapshot.index) failed on \(id): \(error); "
                            + "the node must restart")
                    }
                    await snapshotBecameDurable(snapshot)
                case .localSnapshot(let draft):
                    do {
                        try await store.saveSnapshot(draft)
                    } catch where error.code == .invalidArgument {
                        // A locally taken snapshot overtaken by a newer one (installed from the
                        // leader): nothing is lost, the newer one covers it.
                        logger.debug("skipped an outdated local snapshot", metadata: ["index": "\(draft.index)"])
                        await localSnapshotSaved(through: draft.index, durable: false)
                        continue
                    } catch {
                        throw RaftDriverFailure(message: "saving the snapshot at \(draft.index) failed on \(id): \(error); "
                            + "the node must restart")
                    }
                    await localSnapshotSaved(through: draft.index, durable: true)
                }
            }
        }
    }

    /// Feeds the state machine in log order, one item at a time.
    private nonisolated func applierLoop() async throws {
        for await _ in applierWakeups {
            while let (work, appliedIndex) = await takeApplyWork() {
                switch work {
                case .entries(let entries):
                    let commands = entries.filter { $0.kind == .normal }
                    if !commands.isEmpty {
                        do {
                            try await stateMachine.apply(commands)
                        } catch {
                            throw RaftDriverFailure(message: "the state machine of \(id) cannot apply the committed entries "
                                + "\(commands[0].index)...\(commands[commands.count - 1].index): \(error)")
                        }
                    }
                    await entriesApplied(entries)
                case .restore(let metadata, let image):
                    do {
                        try await stateMachine.restore(from: image, through: metadata.index)
                    } catch {
                        throw RaftDriverFailure(message: "the state machine of \(id) refused the snapshot at "
                            + "\(metadata.index): \(error); the node must restart")
                    }
                    await snapshotRestored(metadata)
                    // The image and the decoder's scratch are freed now, scattered over the heap.
                    trimAllocator(after: "a restore")
                case .takeSnapshot:
                    // Only the freeze happens here; the encoding runs on the snapshot task.
                    let encode = await stateMachine.snapshotEncoder()
                    await snapshotFrozen(through: appliedIndex, encode: encode)
                }
            }
        }
    }

    /// Encodes frozen states off the applier and the actor, one at a time, straight into a
    /// snapshot draft of the store, then hands the draft to the writer (issue #10: applies go on
    /// while a large state is serialised; issue #18: the image is never held whole).
    private nonisolated func snapshotLoop() async throws {
        for await _ in snapshotWakeups {
            while let (index, encode) = await takeSnapshotToEncode() {
                guard let metadata = await metadataToEncode(through: index) else { continue }
                switch await Self.writeSnapshot(metadata, encodedBy: encode, to: store, on: snapshotQueue) {
                case .success(let written):
                    await snapshotWritten(written.draft, imageBytes: written.imageBytes)
                case .failure(let error):
                    throw RaftDriverFailure(message: "writing the snapshot at \(index) failed on \(id): \(error); "
                        + "the node must restart")
                }
            }
            // The frozen state is released by now, and with it the old versions of every table
            // the applies copied meanwhile: hand the pages they leave free back to the system.
            trimAllocator(after: "a snapshot")
        }
    }

    /// Hands the allocator's free pages back to the system on the snapshot thread, after work
    /// that freed much memory all over the heap (a snapshot written, a snapshot restored).
    private nonisolated func trimAllocator(after what: String) {
        let logger = logger
        snapshotQueue.async {
            let released = AllocatorTrim.returnFreeMemory()
            let heap = AllocatorTrim.usage()
            logger.info("returned the allocator's free memory", metadata: [
                "after": "\(what)", "released_mib": "\(released >> 20)", "heap_in_use_mib": "\(heap.inUse >> 20)",
                "heap_free_mib": "\(heap.free >> 20)", "heap_mapped_mib": "\(heap.mapped >> 20)",
            ])
        }
    }

    /// Encodes the frozen state into a sealed draft of `store`: the envelope header first, then
    /// the image's pieces as `encode` hands them out. Runs on `queue`, a thread of its own: the
    /// encoding is CPU for a second or more on a large state, and the writes and the `fsync` block,
    /// neither of which belongs on the cooperative pool.
    private static func writeSnapshot(_ metadata: Raft.SnapshotMetadata, encodedBy encode: @escaping SnapshotEncoder,
                                      to store: any RaftLogStore, on queue: DispatchQueue) async -> Result<WrittenSnapshot, StorageError> {
        await withCheckedContinuation { continuation in
            queue.async {
                continuation.resume(returning: Result { () throws(StorageError) -> WrittenSnapshot in
                    let draft = try store.beginSnapshot(index: metadata.index, term: metadata.term)
                    var failure: StorageError?
                    var imageBytes = 0
                    do throws(StorageError) {
                        try draft.write(SnapshotEnvelope.header(membership: metadata.membership))
                    } catch {
                        failure = error
                    }
                    encode { piece in
                        // After a failed write the rest of the encoding is skipped, not stopped:
                        // the encoder cannot be interrupted, and the failure stops the node.
                        guard failure == nil else { return }
                        do throws(StorageError) {
                            try draft.write(piece)
                            imageBytes += piece.count
                        } catch {
                            failure = error
                        }
                    }
                    if failure == nil {
                        do throws(StorageError) { try draft.seal() } catch { failure = error }
                    }
                    if let failure {
                        draft.discard()
                        throw failure
                    }
                    return WrittenSnapshot(draft: draft, imageBytes: imageBytes)
                })
            }
        }
    }

    // MARK: Actor-side steps of the loops

    private func tick() {
        tickCount += 1
        perform(instance.tick())
        expireReads()
        expireProposals()
    }

    private func handle(_ message: Raft.Message) {
        perform(instance.receive(message))
    }

    private func handleLinkLost(from peer: Raft.NodeID) {
        let before = instance.leader
        perform(instance.linkLost(from: peer))
        if before == peer, instance.leader == nil {
            logger.info("the leader's connection closed; campaigning early", metadata: ["leader": "\(peer)"])
        }
    }

    private func takeWriteBatch() -> StoreBatch? { writes.takeBatch() }

    private func takeSnapshotToEncode() -> (Raft.LogIndex, SnapshotEncoder)? {
        guard !snapshotsToEncode.isEmpty else { return nil }
        let next = snapshotsToEncode.removeFirst()
        return (next.index, next.encode)
    }

    /// The next item for the applier, with the state machine's applied index before it.
    private func takeApplyWork() -> (ApplyWork, Raft.LogIndex)? {
        guard !applyQueue.isEmpty else { return nil }
        return (applyQueue.removeFirst(), stateMachineApplied)
    }

    private func logBecameDurable(hardState: Raft.HardState?, through last: Raft.LogIndex, term: Raft.Term?) {
        var actions: [Raft.Action] = []
        if let hardState { actions += instance.persisted(hardState: hardState) }
        if let term, last > .zero { actions += instance.persisted(through: last, term: term) }
        perform(actions)
    }

    private func snapshotBecameDurable(_ snapshot: RaftSnapshot) {
        perform(instance.persisted(through: snapshot.index, term: snapshot.term))
    }

    private func entriesApplied(_ entries: [Raft.Entry]) {
        guard let last = entries.last else { return }
        stateMachineApplied = max(stateMachineApplied, last.index)
        for entry in entries {
            guard let proposal = proposals.removeValue(forKey: entry.index) else { continue }
            if entry.term == proposal.term {
                proposal.continuation.resume(returning: .success(entry.index))
            } else {
                proposal.continuation.resume(returning: .failure(RaftDriverError(
                    code: .entryOverwritten, leaderHint: instance.leader,
                    message: "the proposal at \(entry.index) in \(proposal.term) was replaced by an entry of "
                        + "\(entry.term); it was not applied — retry it")))
            }
        }
        perform(instance.applied(through: last.index))
        completeAppliedReads()
    }

    private func snapshotRestored(_ metadata: Raft.SnapshotMetadata) {
        stateMachineApplied = max(stateMachineApplied, metadata.index)
        for (index, proposal) in proposals where index <= metadata.index {
            proposals[index] = nil
            proposal.continuation.resume(returning: .failure(RaftDriverError(
                code: .leadershipLost, leaderHint: instance.leader,
                message: "the proposal at \(index) is covered by a snapshot from the leader; its outcome is unknown, "
                    + "retry idempotently")))
        }
        completeAppliedReads()
    }

    /// The applier froze the state at `index`: queue it for the snapshot task.
    private func snapshotFrozen(through index: Raft.LogIndex, encode: @escaping SnapshotEncoder) {
        guard index > (instance.snapshotMetadata?.index ?? .zero) else {
            snapshotRequested = false
            return
        }
        snapshotsToEncode.append((index, encode))
        snapshotWakeupInput.yield()
    }

    /// The metadata (with the membership as of `index`) of the snapshot through `index` about to
    /// be encoded, or `nil` — the request withdrawn — when a snapshot from the leader covers it.
    private func metadataToEncode(through index: Raft.LogIndex) -> Raft.SnapshotMetadata? {
        guard phase != .stopped, let metadata = instance.snapshotMetadata(through: index) else {
            logger.debug("skipped an outdated local snapshot", metadata: ["index": "\(index)"])
            snapshotRequested = false
            return nil
        }
        return metadata
    }

    /// The snapshot through `draft.index` is written and synced: queue its save. The core learns
    /// of it only once that is durable (`localSnapshotSaved`).
    private func snapshotWritten(_ draft: any SnapshotDraft, imageBytes: Int) {
        guard phase != .stopped, instance.snapshotMetadata(through: draft.index) != nil else {
            // A snapshot from the leader covers it by now (or the driver stopped meanwhile).
            logger.debug("skipped an outdated local snapshot", metadata: ["index": "\(draft.index)"])
            draft.discard()
            snapshotRequested = false
            return
        }
        localSnapshotSaving = (draft.index, imageBytes)
        writes.enqueue(.localSnapshot(draft))
        writerWakeupInput.yield()
    }

    /// The writer saved (`durable`) or skipped the local snapshot through `index`: hand it to the
    /// core, which compacts its log and serves it to followers from now on.
    private func localSnapshotSaved(through index: Raft.LogIndex, durable: Bool) {
        snapshotRequested = false
        guard let saving = localSnapshotSaving, saving.index == index else { return }
        localSnapshotSaving = nil
        guard durable else { return }
        do {
            perform(try instance.snapshotTaken(through: index, byteCount: saving.byteCount))
        } catch {
            logger.debug("snapshot not taken", metadata: ["index": "\(index)", "reason": "\(error)"])
        }
    }
}

/// A local snapshot written to a sealed draft, and the size of its image (the data after the
/// envelope), which the core records (`snapshotTaken(through:byteCount:)`).
struct WrittenSnapshot: Sendable {
    var draft: any SnapshotDraft
    var imageBytes: Int
}
