import Dispatch
import Logging
import RaftCore
import RaftStorage

/// The shell around one `Raft.Instance`: the only place where a node's consensus meets time,
/// disk, network and the state machine.
///
/// `run()` drives it: a tick loop (an injected clock), an inbox loop for peer messages, a writer
/// that makes log writes durable in merged batches, and an applier that feeds committed entries
/// to the `ReplicatedStateMachine` in order. Every input is handled on the actor without
/// suspending, and the instance's actions are carried out in order (see `docs/node.md`):
/// storage writes are queued for the writer, sends go out at once (the core withholds messages
/// that depend on unpersisted state), applies are queued for the applier.
public actor RaftDriver {
    /// Runtime settings that are not part of the Raft configuration.
    public struct Options: Sendable {
        /// The period of `Raft.Instance.tick()`; `electionTicks` and `heartbeatTicks` count these.
        public var tickInterval: Duration
        /// A linearizable read that is not confirmed and applied within this many ticks fails with
        /// `.readTimedOut` (a forwarded read or its answer can be lost).
        public var readTimeoutTicks: Int
        /// After this node stops leading, a pending proposal waits this many more ticks for its
        /// index to be applied (the next leader may still commit it, or commit another entry
        /// there) before failing with `.leadershipLost` (outcome unknown).
        public var proposalOutcomeTicks: Int
        /// Peer messages buffered before `run()` handles them; newer ones are dropped beyond this.
        public var inboxCapacity: Int
        /// Called after each durable log write with how long it took (append and sync), for
        /// `quorum_raft_append_seconds`. Must not block.
        public var onLogWrite: (@Sendable (Duration) -> Void)?
        /// Called for every peer message dropped by validation (the core's rules or a forged
        /// sender), after it is logged, for `quorum_raft_dropped_messages_total`. Must not block.
        public var onDroppedMessage: (@Sendable (Raft.DroppedMessage) -> Void)?
        /// Called with the configuration in use whenever it changes (an entry appended or
        /// truncated away, a snapshot installed), before the entry commits: the transport must
        /// reach a new member as soon as the leader starts replicating to it. Must not block.
        public var onMembershipChanged: (@Sendable (Raft.Membership) -> Void)?
        /// Called once with each configuration in use when it is known committed on this node,
        /// with the index of the entry that set it (the snapshot's index when it came from one).
        /// A committed configuration is never truncated away, so what it says — an id removed,
        /// say — is final: the peer link answers a removed node with a removal notice only then.
        /// Must not block.
        public var onMembershipCommitted: (@Sendable (Raft.Membership, Raft.LogIndex) -> Void)?
        /// `propose` refuses data longer than this with `.entryTooLarge` (`[raft] max_entry_bytes`).
        ///
        /// Why: an entry travels whole in one AppendEntries frame (at least one entry is always
        /// sent), and a frame over the transport's limit is dropped by the sender — forever, so
        /// the entry never commits and every later write waits behind it. Keep it, plus the
        /// message envelope, under the peer frame limit (the config validator enforces it).
        public var maxEntryBytes: Int

        /// The default ``maxEntryBytes``: 4 MiB, well under the 48 MiB peer frame limit.
        public static let defaultMaxEntryBytes = 4 << 20

        /// Creates options.
        public init(tickInterval: Duration = .milliseconds(100), readTimeoutTicks: Int = 30, proposalOutcomeTicks: Int = 50,
                    inboxCapacity: Int = 8192, maxEntryBytes: Int = Options.defaultMaxEntryBytes,
                    onLogWrite: (@Sendable (Duration) -> Void)? = nil,
                    onDroppedMessage: (@Sendable (Raft.DroppedMessage) -> Void)? = nil,
                    onMembershipChanged: (@Sendable (Raft.Membership) -> Void)? = nil,
                    onMembershipCommitted: (@Sendable (Raft.Membership, Raft.LogIndex) -> Void)? = nil) {
            self.onMembershipChanged = onMembershipChanged
            self.onMembershipCommitted = onMembershipCommitted
            self.tickInterval = tickInterval
            self.readTimeoutTicks = readTimeoutTicks
            self.proposalOutcomeTicks = proposalOutcomeTicks
            self.inboxCapacity = inboxCapacity
            self.maxEntryBytes = maxEntryBytes
            self.onLogWrite = onLogWrite
            self.onDroppedMessage = onDroppedMessage
        }
    }

    enum Phase { case idle, running, stopped }

    /// What the inbox carries, in arrival order: a peer's message, or the news that a peer's
    /// connection closed (which must not overtake that peer's last messages).
    enum PeerInput: Sendable {
        case message(Raft.Message)
        case linkLost(Raft.NodeID)
    }

    /// What the applier task does next, in log order.
    enum ApplyWork: Sendable {
        case entries([Raft.Entry])
        /// The image is read in pieces by the state machine: from the file after a restart.
        case restore(Raft.SnapshotMetadata, any SnapshotImage)
        case takeSnapshot
    }

    struct PendingProposal {
        var term: Raft.Term
        /// Set when this node stops leading: fail as `.leadershipLost` at this tick.
        var deadlineTick: UInt64?
        var continuation: ProposalWaiter
    }

    typealias ReadWaiter = CheckedContinuation<Result<Raft.LogIndex, RaftDriverError>, Never>

    /// One ReadIndex round and the reads it answers.
    struct PendingRead {
        /// Set once the leader confirmed the read.
        var readIndex: Raft.LogIndex?
        var deadlineTick: UInt64
        var continuations: [ReadWaiter]
    }

    /// This node's id.
    public nonisolated let id: Raft.NodeID
    /// The largest data ``propose(_:)`` accepts (`Options.maxEntryBytes`), for callers that
    /// refuse a too-large command before forwarding it.
    public nonisolated let maxEntryBytes: Int
    /// Every leadership change this node observes (term, leader, role), starting with the state
    /// at `run()`, for any number of consumers (``LeadershipBroadcast/subscribe()``); the streams
    /// finish when `run()` returns.
    public nonisolated let leadership = LeadershipBroadcast()
    /// The configuration in use when the driver was created (from the snapshot and log it
    /// recovered, else the bootstrap one); later ones arrive through `Options.onMembershipChanged`.
    public nonisolated let initialMembership: Raft.Membership

    var instance: Raft.Instance
    let store: any RaftLogStore
    let stateMachine: any ReplicatedStateMachine
    let messenger: any PeerMessenger
    let clock: any Clock<Duration>
    let options: Options
    let logger: Logger

    let inbox: AsyncStream<PeerInput>
    let inboxInput: AsyncStream<PeerInput>.Continuation
    let writerWakeups: AsyncStream<Void>
    let writerWakeupInput: AsyncStream<Void>.Continuation
    let applierWakeups: AsyncStream<Void>
    let applierWakeupInput: AsyncStream<Void>.Continuation
    let snapshotWakeups: AsyncStream<Void>
    let snapshotWakeupInput: AsyncStream<Void>.Continuation

    var phase = Phase.idle
    var writes = LogWriteQueue()
    var applyQueue: [ApplyWork] = []
    var stateMachineApplied = Raft.LogIndex.zero
    /// A local snapshot is under way (frozen, encoding or saving): further requests are ignored.
    var snapshotRequested = false
    /// Whether the instance abstained from elections when last checked (logged when it changes).
    var reportedAbstaining = false
    /// The index of the configuration last reported committed (`Options.onMembershipCommitted`).
    var reportedCommittedMembership: Raft.LogIndex?
    /// Frozen states waiting for the snapshot task: the applied index and the encoder.
    var snapshotsToEncode: [(index: Raft.LogIndex, encode: SnapshotEncoder)] = []
    /// Where the snapshot task encodes and writes a snapshot (off the cooperative pool).
    nonisolated let snapshotQueue = DispatchQueue(label: "quorum.snapshot")
    /// The local snapshot the writer is saving (its index and image size); the core learns of it
    /// once it is durable.
    var localSnapshotSaving: (index: Raft.LogIndex, byteCount: Int)?
    /// Reads the chunks of snapshots sent to followers from their files.
    var snapshotChunks = SnapshotChunkServer()
    /// Snapshots whose chunks could not be read while carrying out a batch of actions: their
    /// transfers start over from the current snapshot once the batch is done
    /// (`Raft.Instance.snapshotUnreadable(through:)`).
    var unreadableSnapshots: Set<Raft.LogIndex> = []
    var proposals: [Raft.LogIndex: PendingProposal] = [:]
    var reads: [Raft.ReadContext: PendingRead] = [:]
    var nextReadContext: UInt64 = 1
    /// The ReadIndex round this node started and that is not confirmed or failed yet, if any.
    var readRoundInFlight: Raft.ReadContext?
    /// Reads that arrived while ``readRoundInFlight`` was out: they share the next round, started
    /// once that one ends (``startQueuedReadRound()``).
    var readsForNextRound: [ReadWaiter] = []
    var tickCount: UInt64 = 0

    /// Creates the driver from what `store` recovered (hard state, latest snapshot, log), so a
    /// restart resumes where the node left off: the state machine is restored from the snapshot
    /// when `run()` starts and the committed entries after it are applied again.
    ///
    /// - Parameters:
    ///   - bootstrapMembership: the cluster's founding configuration (used until the log or a
    ///     snapshot holds one; empty for a member added later).
    ///   - seed: election jitter; use a random value in production, a fixed one in tests.
    /// - Throws: `RaftDriverFailure` if `config` is invalid or the store's contents are unreadable.
    public init(config: Raft.Config, bootstrapMembership: Raft.Membership, store: any RaftLogStore,
                stateMachine: any ReplicatedStateMachine, messenger: any PeerMessenger, options: Options = Options(),
                clock: any Clock<Duration> = ContinuousClock(), logger: Logger = Logger(label: "quorum.raft"),
                seed: UInt64) throws(RaftDriverFailure) {
        do {
            try config.validate()
        } catch {
            throw RaftDriverFailure(message: "invalid Raft configuration: \(error.field) \(error.message)")
        }
        // The image stays in the file: the core needs its size, the restore reads it in windows.
        var restore: (metadata: Raft.SnapshotMetadata, image: any SnapshotImage)?
        if let reader = store.openSnapshotReader() { restore = try SnapshotEnvelope.storedImage(reader) }
        var entries: [Raft.Entry] = []
        if store.lastIndex >= store.firstIndex {
            do {
                entries = try store.entries(from: store.firstIndex, through: store.lastIndex)
            } catch {
                throw RaftDriverFailure(message: "cannot read the recovered log of \(config.id): \(error)")
            }
        }
        var persisted = Raft.PersistedState(hardState: store.hardState,
                                            snapshot: restore.map { Raft.Snapshot(metadata: $0.metadata, data: []) },
                                            entries: entries, bootstrapMembership: bootstrapMembership)
        persisted.snapshotImageBytes = restore?.image.count
        self.instance = Raft.Instance(config: config, restoring: persisted, seed: seed)
        self.initialMembership = instance.membership
        self.id = config.id
        self.maxEntryBytes = options.maxEntryBytes
        self.store = store
        self.stateMachine = stateMachine
        self.messenger = messenger
        self.clock = clock
        self.options = options
        var logger = logger
        logger[metadataKey: "node"] = "\(config.id)"
        self.logger = logger
        (inbox, inboxInput) = AsyncStream.makeStream(of: PeerInput.self,
                                                     bufferingPolicy: .bufferingOldest(options.inboxCapacity))
        (writerWakeups, writerWakeupInput) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        (applierWakeups, applierWakeupInput) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        (snapshotWakeups, snapshotWakeupInput) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        if let restore { applyQueue.append(.restore(restore.metadata, restore.image)) }
    }

    // MARK: Inputs

    /// Hands a message from a peer to the driver. Never blocks (callable from a NIO event loop);
    /// messages for another node, or beyond `Options.inboxCapacity`, are dropped.
    public nonisolated func receive(_ message: Raft.Message) {
        guard message.to == id else { return }
        inboxInput.yield(.message(message))
    }

    /// Tells the driver that `peer`'s connection to this node closed (its process died or the
    /// connection broke), in order with the messages handed to ``receive(_:)`` before it: a
    /// follower whose leader it was campaigns soon instead of after an election timeout
    /// (`Raft.Instance.linkLost(from:)`). Never blocks.
    public nonisolated func linkLost(from peer: Raft.NodeID) {
        inboxInput.yield(.linkLost(peer))
    }

    /// Proposes `data` and returns its index once the entry is committed **and applied by the
    /// local state machine** (Raft §5.3; a proposal is acknowledged only when an entry with its
    /// index and term is applied, §8).
    ///
    /// - Throws: `.entryTooLarge` at once when `data` is over `Options.maxEntryBytes` (nothing is
    ///   appended, on any node); `.notLeader` (with `leaderHint`) or `.refused` at once; `.entryOverwritten` when a
    ///   different entry was applied at its index; `.leadershipLost` when this node stopped leading
    ///   and no entry was applied at the index within `Options.proposalOutcomeTicks` (outcome
    ///   unknown); `.shuttingDown`. Cancelling the caller does not withdraw the proposal.
    public func propose(_ data: [UInt8]) async throws(RaftDriverError) -> Raft.LogIndex {
        guard phase != .stopped else { throw .shuttingDown(id) }
        guard data.count <= maxEntryBytes else { throw .entryTooLarge(size: data.count, limit: maxEntryBytes) }
        let proposal: Raft.Proposal
        do {
            proposal = try instance.propose(data)
        } catch {
            throw RaftDriverError(error)
        }
        return try await awaitApplied(proposal)
    }

    /// Waits until the entry `proposal` appended is applied (or its outcome is known otherwise).
    func awaitApplied(_ proposal: Raft.Proposal) async throws(RaftDriverError) -> Raft.LogIndex {
        supersede(at: proposal.index, by: proposal.term)
        let result = await withCheckedContinuation { continuation in
            proposals[proposal.index] = PendingProposal(term: proposal.term, deadlineTick: nil,
                                                        continuation: ProposalWaiter(continuation))
            perform(proposal.actions)
        }
        return try result.get()
    }

    /// Proposes each of `batch` as its own entry, appended together (one log write, one
    /// AppendEntries per follower), and returns each entry's outcome in order once every one is
    /// known — each as ``propose(_:)`` would have: an index once applied here, or its own error
    /// (`.entryOverwritten`, `.leadershipLost`, `.shuttingDown`).
    ///
    /// - Throws: for the whole batch at once, before anything is appended: `.entryTooLarge` when
    ///   any data is over `Options.maxEntryBytes` (callers check each first), `.notLeader`,
    ///   `.refused`, `.shuttingDown`.
    public func propose(batch: [[UInt8]]) async throws(RaftDriverError) -> [Result<Raft.LogIndex, RaftDriverError>] {
        guard phase != .stopped else { throw .shuttingDown(id) }
        guard !batch.isEmpty else { return [] }
        if let tooLarge = batch.first(where: { $0.count > maxEntryBytes }) {
            throw .entryTooLarge(size: tooLarge.count, limit: maxEntryBytes)
        }
        let proposal: Raft.Proposal
        do {
            proposal = try instance.propose(batch: batch)
        } catch {
            throw RaftDriverError(error)
        }
        return await withCheckedContinuation { continuation in
            let outcomes = BatchOutcomes(count: batch.count, continuation: continuation)
            for slot in batch.indices {
                let index = Raft.LogIndex(proposal.index.rawValue + UInt64(slot))
                supersede(at: index, by: proposal.term)
                proposals[index] = PendingProposal(term: proposal.term, deadlineTick: nil,
                                                   continuation: ProposalWaiter(slot: slot, of: outcomes))
            }
            perform(proposal.actions)
        }
    }

    /// Fails an earlier term's proposal still waiting at `index` after a step-down: this node now
    /// leads with a different entry there (of `term`), so it cannot learn that outcome.
    private func supersede(at index: Raft.LogIndex, by term: Raft.Term) {
        guard let earlier = proposals.removeValue(forKey: index) else { return }
        earlier.continuation.resume(returning: .failure(RaftDriverError(
            code: .leadershipLost, leaderHint: instance.leader,
            message: "the proposal at \(index) in \(earlier.term) was superseded locally by an entry of "
                + "\(term); its outcome is unknown, retry idempotently")))
    }

    /// Returns a read index once leadership was confirmed by a quorum (ReadIndex, thesis §6.4)
    /// and the local state machine has applied through it: reading the state machine now is
    /// linearizable. Works on followers (forwarded to the leader).
    ///
    /// - Throws: `.notLeader` without a known leader, `.readFailed` when leadership changed,
    ///   `.readTimedOut` after `Options.readTimeoutTicks`, `.shuttingDown`.
    ///
    /// Concurrent reads share rounds, as etcd's read loop does: while one round is out, the reads
    /// that arrive wait for the next, which starts when it ends — so every read waits for a round
    /// that started after it arrived (what makes it linearizable), and a burst of reads costs two
    /// heartbeat rounds, not one each.
    public func linearizableRead() async throws(RaftDriverError) -> Raft.LogIndex {
        guard phase != .stopped else { throw .shuttingDown(id) }
        let result = await withCheckedContinuation { continuation in
            if readRoundInFlight != nil {
                readsForNextRound.append(continuation)
            } else {
                startReadRound(for: [continuation])
            }
        }
        return try result.get()
    }

    /// Starts one ReadIndex round answering `waiters`; fails them all if the instance refuses
    /// (no leader known).
    private func startReadRound(for waiters: [ReadWaiter]) {
        let context = Raft.ReadContext(nextReadContext)
        nextReadContext += 1
        let actions: [Raft.Action]
        do {
            actions = try instance.readIndex(context: context)
        } catch {
            let failure = RaftDriverError(error)
            for waiter in waiters { waiter.resume(returning: .failure(failure)) }
            return
        }
        reads[context] = PendingRead(readIndex: nil, deadlineTick: tickCount + UInt64(options.readTimeoutTicks),
                                     continuations: waiters)
        readRoundInFlight = context
        perform(actions)
    }

    /// ReadIndex rounds this node has started (tests: concurrent reads share them).
    var readRoundsStarted: UInt64 { nextReadContext - 1 }

    /// Starts the round for the reads that queued behind the last one, once it has ended. Called
    /// after every batch of actions is carried out (never in the middle of one, so the round's
    /// messages go out after everything the batch sent).
    func startQueuedReadRound() {
        guard readRoundInFlight == nil, !readsForNextRound.isEmpty, phase != .stopped else { return }
        let waiters = readsForNextRound
        readsForNextRound = []
        startReadRound(for: waiters)
    }

    /// Starts handing leadership to `target` (thesis §3.10). Returns once the transfer started;
    /// watch `leadership` or `status` for the outcome (it is abandoned after an election
    /// timeout). Proposals are refused with `.refused`/`transfer-in-progress` meanwhile.
    public func transferLeadership(to target: Raft.NodeID) throws(RaftDriverError) {
        guard phase != .stopped else { throw .shuttingDown(id) }
        do {
            perform(try instance.transferLeadership(to: target))
        } catch {
            throw RaftDriverError(error)
        }
    }

    /// The node's current Raft state; `appliedIndex` is the state machine's.
    public var status: RaftStatus {
        RaftStatus(id: id, term: instance.term, leader: instance.leader, role: instance.role,
                   commitIndex: instance.commitIndex, appliedIndex: stateMachineApplied,
                   lastLogIndex: instance.lastLogIndexReadInPlace(), durableIndex: instance.durableIndex)
    }
}

extension RaftDriver {
    /// On the leader, the highest index known replicated on `peer` (thesis §3.5 `matchIndex`);
    /// `nil` on a follower or for an unknown peer.
    public func matchIndex(of peer: Raft.NodeID) -> Raft.LogIndex? {
        if peer == id { return instance.role == .leader ? instance.lastLogIndex : nil }
        return instance.replicationState(of: peer)?.match
    }

    /// The data-directory incarnation this node's configuration records for `member`; 0 when
    /// unrecorded (docs/raft.md, "Incarnations").
    public func recordedIncarnation(of member: Raft.NodeID) -> UInt64 {
        instance.membership.incarnation(of: member)
    }

    /// The data-directory incarnation each member (voters, learners and this node) runs as far
    /// as this node knows — the latest a peer's stamped message carried; 0 when unknown.
    public func knownIncarnations() -> [Raft.NodeID: UInt64] {
        let members = instance.membership.voters.union(instance.membership.learners).union([id])
        return Dictionary(uniqueKeysWithValues: members.map { ($0, instance.knownIncarnation(of: $0)) })
    }
}
