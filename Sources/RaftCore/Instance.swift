import DeterministicRandom

extension Raft {
    /// One Raft participant as a pure value: feed it inputs, carry out the returned actions in
    /// order.
    ///
    /// How the shell drives it (see `docs/raft.md`):
    /// 1. Call `tick()` at a fixed period, `receive(_:)` for every message, and the proposal,
    ///    read, transfer and membership inputs on behalf of clients.
    /// 2. Carry out the returned `[Action]` in order. Write `persistHardState`, `truncateLog`,
    ///    `appendLog` and `installSnapshot` to storage; once durable, call
    ///    `persisted(hardState:)` and `persisted(through:term:)`. The instance withholds every
    ///    message that depends on unpersisted state until then, so `.send` can go out at once.
    /// 3. Apply `.apply` entries in order (they are committed and durable locally), then call
    ///    `applied(through:)`.
    ///
    /// The instance keeps its log (after the last snapshot) and that snapshot in memory.
    public struct Instance: Sendable {
        /// The configuration this instance was created with.
        public let config: Config
        /// The current term (Raft §5.1).
        public internal(set) var term: Term
        /// Whom this instance voted for in `term`.
        public internal(set) var vote: NodeID?
        /// This instance's role.
        public internal(set) var role: Role = .follower
        /// The leader of `term`, if known.
        public internal(set) var leader: NodeID?
        /// The highest index known to be committed.
        public internal(set) var commitIndex: LogIndex
        /// The configuration in use: the latest one in the log, committed or not (thesis §4.1).
        public internal(set) var membership: Membership
        /// The index of the entry that set ``membership`` (the snapshot's index when it came from
        /// a snapshot): the configuration is committed once ``commitIndex`` reaches it.
        public var membershipIndexReadInPlace: LogIndex { membershipIndex }
        /// The highest index the shell reported as applied.
        public internal(set) var appliedIndex: LogIndex
        /// The highest log index known to be durable on this node.
        public internal(set) var durableIndex: LogIndex

        var log: RaftLog
        /// The configuration as of the snapshot base (or the bootstrap configuration).
        var baseMembership: Membership
        /// Index of the entry that set `membership` (the snapshot index when it came from there).
        var membershipIndex: LogIndex
        /// The latest local snapshot, served to followers that are too far behind (its bytes stay
        /// with the shell, which reads each chunk sent: `Action.sendSnapshotChunk`).
        var snapshot: LocalSnapshot?
        var durableHardState: HardState
        var lastEmittedHardState: HardState
        /// The last index handed to the shell in `.apply` (or installed by snapshot).
        var applyCursor: LogIndex
        var snapshotRequestedThrough: LogIndex = .zero
        /// Payload bytes of entries applied since the last snapshot request (for
        /// `Config.snapshotIntervalBytes`).
        var appliedBytesSinceSnapshot = 0

        var electionElapsed = 0
        var heartbeatElapsed = 0
        var randomizedElectionTimeout = 0
        var random: SplitMix64

        var votes: [NodeID: Bool] = [:]
        var progress: [NodeID: Progress] = [:]
        /// Leader: members just removed, with their last replication state, and how many more
        /// heartbeats repeat the farewell append that tells each of its removal.
        /// `through` is the removing entry's index: nothing after it is ever sent to a removed node.
        var farewells: [NodeID: (progress: Progress, through: LogIndex, heartbeatsLeft: Int)] = [:]
        var transferTarget: NodeID?
        var transferElapsed = 0
        var reads = ReadTracker()
        var forwardedReads: [ReadContext] = []
        var incomingSnapshot: Snapshot?
        /// The latest non-zero incarnation each peer's messages carried (docs/raft.md, "Incarnations").
        var peerIncarnations: [NodeID: UInt64] = [:]
        /// Peers whose latest message carried no incarnation (an older build, or a shell that
        /// could not stamp it): the leader records no incarnation while a member is one.
        var peersWithoutIncarnation: Set<NodeID> = []
        /// What a node with a new incarnation learned about the cluster from its first telling message.
        var newcomerStanding: NewcomerStanding = .undecided
        /// A committed configuration recorded this node's (new) incarnation: it may vote again.
        var incarnationRecordCommitted = false
        /// The log was searched for such a record through this index.
        var incarnationCheckedThrough: LogIndex = .zero

        var outbox: [PendingMessage] = []
        var actions: [Action] = []
        var lastReportedLeadership: LeaderState?
        var lastReportedMembership: Membership

        /// Creates a brand-new member. Every founding member is created with the same `membership`;
        /// a member that will be added later is created with an empty one and waits to be contacted.
        /// `seed` drives the election jitter.
        public init(config: Config, membership: Membership, seed: UInt64) {
            self.init(config: config,
                      restoring: PersistedState(hardState: HardState(), entries: [], bootstrapMembership: membership),
                      seed: seed)
        }

        /// Restarts a member from what its storage made durable. Everything given is treated as
        /// durable; the state machine is assumed restored from `state.snapshot` (entries after it
        /// up to the commit index are handed out again through `.apply`).
        public init(config: Config, restoring state: PersistedState, seed: UInt64) {
            do {
                try config.validate()
            } catch {
                preconditionFailure("invalid Raft.Config (call validate() first): \(error)")
            }
            self.config = config
            self.random = SplitMix64(seed: seed)
            let base = state.snapshot?.metadata
            // Storage may still hold entries the snapshot covers (compaction is lazy): skip them.
            let entries = state.entries.filter { $0.index > (base?.index ?? .zero) }
            self.log = RaftLog(snapshotIndex: base?.index ?? .zero, snapshotTerm: base?.term ?? .zero, entries: entries)
            self.snapshot = state.snapshot.map { LocalSnapshot(metadata: $0.metadata,
                                                                      byteCount: state.snapshotImageBytes ?? $0.data.count) }
            self.baseMembership = base?.membership ?? state.bootstrapMembership
            self.membership = baseMembership
            self.membershipIndex = base?.index ?? .zero
            self.lastReportedMembership = baseMembership
            // A log entry of a later term than the hard state means the term was not made durable
            // before a crash; never reuse a term this node may already have led or voted in.
            self.term = max(state.hardState.term, log.lastTerm)
            self.vote = state.hardState.term == term ? state.hardState.vote : nil
            self.commitIndex = min(max(state.hardState.commit, log.snapshotIndex), log.lastIndex)
            self.durableIndex = log.lastIndex
            self.durableHardState = state.hardState
            self.lastEmittedHardState = state.hardState
            self.applyCursor = log.snapshotIndex
            self.appliedIndex = log.snapshotIndex
            recomputeMembership()
            lastReportedMembership = membership
            resetElectionTimer()
            lastReportedLeadership = leadershipState
        }

        // MARK: Read-only views

        /// The hard state as it stands (possibly not yet durable).
        public var hardState: HardState { HardState(term: term, vote: vote, commit: commitIndex) }
        /// This node's id.
        public var id: NodeID { config.id }
        /// Who leads, as this instance sees it.
        public var leadershipState: LeaderState { LeaderState(leader: leader, term: term, role: role) }
        /// The index of the first entry still in the log (after the snapshot).
        public var firstLogIndex: LogIndex { log.firstIndex }
        /// The index of the last entry in the log.
        public var lastLogIndex: LogIndex { log.lastIndex }
        /// The term of the last entry in the log.
        public var lastLogTerm: Term { log.lastTerm }
        /// The entry at `index`, if still in the log.
        public func entry(at index: LogIndex) -> Entry? { log.entry(at: index) }
        /// The term of the entry at `index`, if known (including the snapshot base).
        public func term(at index: LogIndex) -> Term? { log.term(at: index) }
        /// The latest local snapshot's metadata.
        public var snapshotMetadata: SnapshotMetadata? { snapshot?.metadata }
        /// Whether this node may campaign: it is a voter of its current configuration.
        public var isVoter: Bool { membership.voters.contains(id) }
        /// The leader's view of `peer`'s replication (`nil` off the leader or for non-members).
        public func replicationState(of peer: NodeID) -> ReplicationState? {
            guard let progress = progress[peer] else { return nil }
            return ReplicationState(match: progress.match, next: progress.next, mode: progress.state.rawValue,
                                    inflightAppends: progress.inflights.count, inflightBytes: progress.inflights.bytes,
                                    recentlyActive: progress.recentActive)
        }

        // MARK: Inputs

        /// Advances logical time by one tick: election timeouts, heartbeats, CheckQuorum and the
        /// leadership-transfer timeout.
        public mutating func tick() -> [Action] {
            if role == .leader {
                tickLeader()
            } else {
                tickElection()
            }
            return finish()
        }

        /// Handles a message from a peer.
        public mutating func receive(_ message: Message) -> [Action] {
            step(message)
            return finish()
        }

        /// Reports that the connection on which `peer` sends to this node has closed (the shell
        /// saw end-of-file or a reset; a killed process's sockets are closed by its kernel at
        /// once). If `peer` is this follower's leader, the follower stops counting it as live —
        /// it forgets the leader, so it also grants other pre-candidates' PreVotes — and
        /// campaigns through PreVote after a short randomized delay (`1...max(1, electionTicks
        /// / 2)` ticks) instead of a whole election timeout. Anything else is ignored.
        ///
        /// Safe against a link that merely blipped: PreVote changes no term, and every voter that
        /// still hears the leader (and the leader itself) ignores vote requests within its
        /// election timeout (CheckQuorum's lease rule), so such a follower cannot win, and the
        /// leader's next message makes it a follower again. Only with both PreVote and
        /// CheckQuorum on (the defaults); docs/raft.md, "Leader link loss".
        public mutating func linkLost(from peer: NodeID) -> [Action] {
            noticeLinkLost(from: peer)
            return finish()
        }

        /// Appends `data` as a new entry if this node leads. Throws `.notLeader` (with the leader
        /// hint) on a follower, `.transferInProgress` during a leadership transfer.
        public mutating func propose(_ data: [UInt8]) throws(RaftError) -> Proposal {
            try checkCanPropose()
            let entry = Entry(term: term, index: log.lastIndex + 1, kind: .normal, data: data)
            appendAsLeader([entry])
            return Proposal(index: entry.index, term: term, actions: finish())
        }

        /// Appends each of `batch` as a new entry, in order, with one append to the log and one
        /// AppendEntries per follower for them all (a leader proposing forwarded commands that
        /// arrived together). The entries sit at `index`, `index + 1`, …, `index + batch.count - 1`
        /// of the returned proposal; an empty batch appends nothing. Throws as ``propose(_:)``.
        public mutating func propose(batch: [[UInt8]]) throws(RaftError) -> Proposal {
            try checkCanPropose()
            let first = log.lastIndex + 1
            // A loop, not a closure over `self` (which would copy the instance: see maybeCommit).
            var entries: [Entry] = []
            entries.reserveCapacity(batch.count)
            for data in batch {
                entries.append(Entry(term: term, index: first + UInt64(entries.count), kind: .normal, data: data))
            }
            if !entries.isEmpty { appendAsLeader(entries) }
            return Proposal(index: first, term: term, actions: finish())
        }

        /// Asks for a linearizable read (thesis §6.4). The answer arrives later as `.readReady`
        /// (serve once applied through its index) or `.readFailed` (retry). On a follower the
        /// request is forwarded to the leader; without a known leader this throws `.notLeader`.
        public mutating func readIndex(context: ReadContext) throws(RaftError) -> [Action] {
            switch role {
            case .leader:
                requestRead(context: context, origin: id)
            case .follower where leader != nil:
                guard let leader else { break }
                forwardedReads.append(context)
                send(to: leader, .readIndexRequest(context))
            default:
                throw notLeaderError()
            }
            return finish()
        }

        /// Hands leadership to `target` (thesis §3.10): catch it up, then send TimeoutNow. New
        /// proposals are refused with `.transferInProgress` until it completes or, after an
        /// election timeout, is abandoned.
        public mutating func transferLeadership(to target: NodeID) throws(RaftError) -> [Action] {
            guard role == .leader else { throw notLeaderError() }
            guard target != id else { return finish() }
            guard membership.voters.contains(target) else {
                throw RaftError(code: .invalidTransferTarget,
                                message: "\(target) is not a voter (\(membership)); transfer to one of the voters")
            }
            if transferTarget != target {
                transferTarget = target
                transferElapsed = 0
                if progress[target]?.match == log.lastIndex {
                    send(to: target, .timeoutNow)
                } else {
                    sendAppend(to: target)
                }
            }
            return finish()
        }

        /// Proposes a single-server membership change (thesis §4.1). Refused unless this leader has
        /// committed an entry of its own term and no other change is uncommitted. `directory`, when
        /// given, replaces the configuration's member directory in the same entry (the new
        /// member's addresses travel with its addition); otherwise the current one is kept.
        public mutating func proposeMembershipChange(_ change: MembershipChange, directory: [UInt8]? = nil) throws(RaftError) -> Proposal {
            try checkCanProposeConfiguration()
            var next = try membership.applying(change)
            if let directory { next.directory = directory }
            return proposeConfiguration(next)
        }

        /// Proposes the current member set with a new member directory (no quorum changes). The
        /// shell uses it to write the founding members' addresses into the log once, so from then
        /// on the log, not each node's file, says where members are. Same rules as a membership
        /// change: one uncommitted configuration at a time.
        public mutating func proposeDirectory(_ directory: [UInt8]) throws(RaftError) -> Proposal {
            try checkCanProposeConfiguration()
            var next = membership
            next.directory = directory
            return proposeConfiguration(next)
        }

        /// Whether a configuration entry of this leader's may be proposed now.
        private func checkCanProposeConfiguration() throws(RaftError) {
            try checkCanPropose()
            guard log.term(at: commitIndex) == term else {
                throw RaftError(code: .membershipChangePending,
                                message: "leader has not committed an entry of term \(term) yet (commit \(commitIndex)); retry shortly")
            }
            guard membershipIndex <= commitIndex || mutated("two-changes-in-flight") else {
                throw RaftError(code: .membershipChangePending,
                                message: "the change at \(membershipIndex) is not committed yet (commit \(commitIndex)); retry after it commits")
            }
        }

        private mutating func proposeConfiguration(_ next: Membership) -> Proposal {
            let entry = Entry(term: term, index: log.lastIndex + 1, kind: .configChange, data: next.encoded)
            appendAsLeader([entry])
            return Proposal(index: entry.index, term: term, actions: finish())
        }

        /// Reports that storage has made the log durable through `index`, whose entry has `term`.
        /// A report for an entry that was since truncated is ignored.
        public mutating func persisted(through index: LogIndex, term entryTerm: Term) -> [Action] {
            if index > durableIndex, index <= log.lastIndex, log.term(at: index) == entryTerm {
                durableIndex = index
                if role == .leader { _ = maybeCommit() }
            }
            return finish()
        }

        /// Reports that storage has made `hardState` durable.
        public mutating func persisted(hardState: HardState) -> [Action] {
            if hardState.term >= durableHardState.term {
                durableHardState = hardState
                if role == .leader { _ = maybeCommit() }
            }
            return finish()
        }

        /// Reports that the state machine has applied everything through `index`.
        public mutating func applied(through index: LogIndex) -> [Action] {
            let previous = appliedIndex
            appliedIndex = max(appliedIndex, min(index, applyCursor))
            if config.snapshotIntervalBytes != nil || config.snapshotImageDivisor != nil, appliedIndex > previous {
                var next = previous.rawValue + 1
                while next <= appliedIndex.rawValue {
                    appliedBytesSinceSnapshot += log.entry(at: LogIndex(next))?.data.count ?? 0
                    next += 1
                }
            }
            if snapshotDue(), appliedIndex > snapshotRequestedThrough {
                snapshotRequestedThrough = appliedIndex
                appliedBytesSinceSnapshot = 0
                actions.append(.takeSnapshot(through: appliedIndex))
            }
            return finish()
        }

        /// Whether the entries applied beyond the last snapshot call for a new one (`Config`'s
        /// `snapshotInterval`, `snapshotIntervalBytes`, `snapshotImageDivisor`, `snapshotMaxInterval`).
        private func snapshotDue() -> Bool {
            let entries = appliedIndex.rawValue &- min(appliedIndex.rawValue, log.snapshotIndex.rawValue)
            if let bytes = config.snapshotIntervalBytes, appliedBytesSinceSnapshot >= bytes { return true }
            if let most = config.snapshotMaxInterval, entries >= UInt64(most) { return true }
            guard let interval = config.snapshotInterval, entries >= UInt64(interval) else { return false }
            guard let divisor = config.snapshotImageDivisor, let image = snapshot?.byteCount else { return true }
            return appliedBytesSinceSnapshot >= image / divisor
        }

        /// Records a snapshot the shell took (and made durable) of the state machine through
        /// `index` (at most the applied index), whose image has `byteCount` bytes, and compacts the
        /// log behind it (Raft §7). The shell keeps the image and reads the chunks sent from it.
        public mutating func snapshotTaken(through index: LogIndex, byteCount: Int) throws(RaftError) -> [Action] {
            guard index > log.snapshotIndex, index <= applyCursor, let entryTerm = log.term(at: index) else {
                throw RaftError(code: .invalidSnapshot,
                                message: "snapshot index \(index) must be above the current snapshot \(log.snapshotIndex) and at most the applied index \(applyCursor)")
            }
            let snapshotMembership = log.latestMembership(atOrBelow: index) ?? baseMembership
            snapshot = LocalSnapshot(metadata: SnapshotMetadata(index: index, term: entryTerm, membership: snapshotMembership),
                                     byteCount: byteCount)
            baseMembership = snapshotMembership
            if membershipIndex < index { membershipIndex = index }
            log.compact(through: index)
            actions.append(.compactLog(through: index))
            return finish()
        }
    }

    /// A read-only summary of the leader's replication state for one peer.
    public struct ReplicationState: Hashable, Sendable {
        /// Highest index known to match.
        public var match: LogIndex
        /// Next index to send.
        public var next: LogIndex
        /// `probe`, `replicate` or `snapshot`.
        public var mode: String
        /// Unacknowledged appends.
        public var inflightAppends: Int
        /// Bytes in unacknowledged appends.
        public var inflightBytes: Int
        /// Whether the peer answered since the start of the current election-timeout window
        /// (CheckQuorum's activity flag, which the leader clears every election timeout).
        public var recentlyActive: Bool
    }
}

extension Raft.Instance {
    func notLeaderError() -> Raft.RaftError {
        Raft.RaftError(code: .notLeader, leaderHint: leader,
                       message: "\(id) is not the leader (\(leadershipState)); forward to \(leader?.rawValue ?? "the leader once one is elected")")
    }

    func checkCanPropose() throws(Raft.RaftError) {
        guard role == .leader else { throw notLeaderError() }
        if let transferTarget {
            throw Raft.RaftError(code: .transferInProgress, leaderHint: transferTarget,
                                 message: "leadership is moving from \(id) to \(transferTarget); retry in a moment")
        }
    }

    /// Whether any deliberate bug is switched on (always false outside simulator builds).
    var anyMutationActive: Bool {
        #if QUORUM_SIM_MUTATIONS
        return config.mutation != nil
        #else
        return false
        #endif
    }

    /// Whether a deliberate bug is switched on (always false outside simulator builds).
    func mutated(_ name: @autoclosure () -> String) -> Bool {
        #if QUORUM_SIM_MUTATIONS
        return config.mutation?.rawValue == name()
        #else
        return false
        #endif
    }
}
