import Logging
import Node
import NodeCore
import RaftCore
import SchedulerCore
import SchedulerPlanning

/// The node's replicated scheduler as its clients see it: writes go through the leader
/// (proposed here when this node leads, forwarded otherwise), reads are ReadIndex-linearizable
/// unless stale, and every answer is rendered from this node's own state machine once it has
/// applied the entry in question (read-your-writes on every node).
///
/// It knows nothing of HTTP: the `quorum` executable adapts it to the API's `SchedulerReplica`.
public struct RaftReplica: Sendable {
    let driver: RaftDriver
    let stateMachine: SchedulerStateMachine
    let link: PeerLink
    let clusterView: ClusterView
    /// The stamp clock (``StampClock/now()``): what commands proposed here are stamped with.
    let clock: @Sendable () -> Timestamp
    let resolver: LeaderResolver
    /// Where this node appends its clients' writes while it leads, batched with its followers'
    /// forwards.
    let appends: LeaderAppendGate
    let settings: NodeSettings
    let logger: Logger

    /// The proposer's wall clock.
    public func now() -> Timestamp { clock() }

    /// Proposes through the leader and returns the entry's events as applied here.
    ///
    /// - Throws: `.entryTooLarge` when the encoded command is over `[raft] max_entry_bytes`
    ///   (checked here before forwarding, and again by the leader); `.unavailable` otherwise.
    public func propose(_ command: Command) async throws(ReplicaWriteError) -> [SchedulerEvent] {
        try await propose(UnstampedCommand(command))
    }

    /// Proposes a command whose relative times the leader resolves with its own stamp (see
    /// ``SchedulerPlanning/UnstampedCommand``) and returns the entry's events as applied here.
    ///
    /// On the leader, and on a follower whose leader advertised unstamped forwards, no clock but
    /// the leader's touches the command. A follower of an older leader resolves the times with its
    /// own clock and forwards the stamped command, as builds before this one did.
    ///
    /// - Throws: `.entryTooLarge` (checked here before forwarding, and again by the leader),
    ///   `.invalid` (a cron schedule with no fire after the leader's stamp), `.upgradeInProgress`
    ///   (a member's build could not apply it), `.unavailable` otherwise.
    public func propose(_ unstamped: UnstampedCommand) async throws(ReplicaWriteError) -> [SchedulerEvent] {
        // The size the entry will have: relative times resolved against this node's clock take
        // as many bytes, give or take a varint, as against the leader's (which checks again).
        let now = clock()
        let preview = (try? unstamped.resolved(at: now)) ?? unstamped.template
        let size = CommandCodec.encode(preview, at: now).count
        // Refused here, before a forward: an entry over the limit could not be replicated (a
        // peer frame holds at most 48 MiB), and the leader would refuse it anyway.
        do throws(ReplicaWriteError) {
            guard size <= driver.maxEntryBytes else {
                throw .entryTooLarge(EntryTooLarge(size: size, limit: driver.maxEntryBytes))
            }
            try precheckQuotas(preview, entryBytes: size)
            // Claimed before proposing: the entry's events are kept only while a claim covers it.
            let claim = stateMachine.claimEvents()
            let index: Raft.LogIndex
            do throws(ReplicaWriteError) {
                index = try await proposeThroughLeader(unstamped)
            } catch {
                stateMachine.releaseEvents(claim)
                throw error
            }
            guard let events = await stateMachine.events(at: index, claim: claim) else {
                throw .unavailable(ReplicaUnavailable(
                    "the write was committed at \(index.rawValue), but this node no longer knows what it did (a snapshot "
                        + "from the leader replaced its state); retry with the same Idempotency-Key", outcomeUnknown: true))
            }
            return events
        } catch {
            if case .entryTooLarge(let tooLarge) = error {
                // Worth a line: before the limit, such a write stalled the cluster without one.
                logger.warning("refused a write over max_entry_bytes", metadata: ["bytes": "\(tooLarge.size)", "limit": "\(tooLarge.limit)"])
            }
            throw error
        }
    }

    /// `[quotas]` checked on the node that took the request, from its own applied view, before
    /// anything is forwarded: a flood that reaches a follower is refused there with the same 429
    /// or 507 the leader would answer, and costs the leader nothing (issue #19). The leader checks
    /// again with its own counts (``LeaderResolver/entry(for:)``), so this only refuses earlier.
    ///
    /// The follower's view is stale by its apply lag (entries committed but not yet applied here:
    /// typically milliseconds, at most what a caught-up executor may lag), so near the limit it can
    /// let through a write the leader then refuses, or refuse one the leader would still have taken
    /// — runs that finished on the leader but are not applied here yet; its state-size estimate
    /// also counts the entries since *its own* last snapshot (snapshots are staggered per node).
    /// Either way nothing acknowledged is lost: a refusal here writes nothing.
    private func precheckQuotas(_ command: Command, entryBytes: Int) throws(ReplicaWriteError) {
        guard let (limits, gauges) = resolver.quotas,
              let refusal = limits.refusal(for: command, entryBytes: entryBytes, unfinishedRuns: gauges.unfinishedRuns,
                                           stateBytes: gauges.stateBytes) else { return }
        resolver.onQuotaRefusal(refusal)
        throw .quotaExceeded(refusal)
    }

    /// Retries only where the command was certainly not proposed (no leader yet, not the
    /// leader any more, could not reach it); an unknown outcome is thrown at once, for the
    /// client to retry with its `Idempotency-Key`; a too-large entry, an invalid one or an
    /// upgrade refusal at once.
    ///
    /// On the leader the write goes through ``appends``: with the other writes of this node's
    /// clients and the followers' forwards that arrived while a batch was in flight, one hop to
    /// the driver and one AppendEntries per follower for them all (docs/node.md, "Batched
    /// proposals").
    ///
    /// Who leads is read from the driver's leadership broadcast, not its actor-isolated status:
    /// one hop less per write. A stale answer costs a retry, never a wrong outcome: the driver
    /// refuses a proposal when this node does not lead, and another node refuses a forward.
    private func proposeThroughLeader(_ unstamped: UnstampedCommand) async throws(ReplicaWriteError) -> Raft.LogIndex {
        let deadline = settings.clock.monotonic() + settings.leaderWait
        var lastProblem = "no leader is known"
        while true {
            let leader = driver.leadership.latest?.leader
            if leader == driver.id {
                let bytes: [UInt8]
                do {
                    bytes = try resolver.entry(for: unstamped)
                } catch {
                    switch error {
                    case .invalid(let problem): throw .invalid(problem)
                    case .upgradeInProgress(let refusal): throw .upgradeInProgress(message: refusal.message)
                    case .quotaExceeded(let refusal): throw .quotaExceeded(refusal)
                    }
                }
                switch await appends.append(bytes) {
                case .success(let index):
                    return index
                case .failure(let error):
                    if error.code == .entryTooLarge {
                        throw .entryTooLarge(EntryTooLarge(size: bytes.count, limit: driver.maxEntryBytes))
                    }
                    if error.code != .notLeader {
                        let unknown = error.code == .leadershipLost || error.code == .shuttingDown
                        throw .unavailable(ReplicaUnavailable(
                            unknown ? "\(error.message); retry with the same Idempotency-Key" : error.message,
                            outcomeUnknown: unknown))
                    }
                    lastProblem = error.message
                }
            } else if let leader {
                switch try await forward(unstamped, to: leader) {
                case .applied(let index):
                    return index
                case .notProposed(_, let message):
                    lastProblem = message
                case .entryTooLarge(let size, let limit):
                    throw .entryTooLarge(EntryTooLarge(size: size, limit: limit))
                case .outcomeUnknown(let message):
                    throw .unavailable(ReplicaUnavailable("\(message); retry with the same Idempotency-Key", outcomeUnknown: true))
                case .invalid(let problem):
                    throw .invalid(problem)
                case .upgradeInProgress(let message):
                    throw .upgradeInProgress(message: message)
                case .quotaExceeded(let refusal):
                    throw .quotaExceeded(refusal)
                }
            }
            guard settings.clock.monotonic() < deadline else {
                throw .unavailable(ReplicaUnavailable("\(lastProblem); retry shortly"))
            }
            try? await settings.clock.sleep(for: settings.leaderPoll)
        }
    }

    /// Forwards to `leader`: unstamped when it advertised that it takes them, otherwise resolved
    /// and stamped with this node's clock (the older leader re-stamps the time but keeps the rest).
    private func forward(_ original: UnstampedCommand, to leader: Raft.NodeID) async throws(ReplicaWriteError)
        -> ForwardedOutcome.Result {
        // Spelled the way the leader's build decodes it (URL-safe task run ids, lost caps); a
        // leader too old to stamp the cluster defaults gets this node's.
        // (Defaults first, so a downgrade strips a stamped history limit too.)
        let format = link.leaderFormat(leader)
        let stamped = format < CommandCodec.leaderStampedDefaults ? original.withDefaults(resolver.defaults) : original
        let unstamped = stamped.compatible(withFormat: format)
        if unstamped.template.minimumFormatVersion > format {
            throw .upgradeInProgress(message: "upgrade in progress: this write needs command format "
                + "\(unstamped.template.minimumFormatVersion), and the leader \(leader) runs an older build; nothing was written — "
                + "finish upgrading it, then retry")
        }
        if link.leaderTakesUnstamped(leader) {
            return await link.forward(unstamped: unstamped, to: leader, timeout: settings.forwardTimeout, poll: settings.leaderPoll)
        }
        let now = clock()
        let command: Command
        do {
            command = try unstamped.resolved(at: now, defaults: resolver.defaults)
        } catch {
            throw .invalid(error)
        }
        return await link.forward(CommandCodec.encode(command, at: now), to: leader, timeout: settings.forwardTimeout,
                                  poll: settings.leaderPoll)
    }

    /// Returns once this node's state holds every write acknowledged before the call (a ReadIndex
    /// round through the leader), waiting up to the leader wait for a leader.
    public func awaitLinearizable() async throws(ReplicaUnavailable) {
        let deadline = settings.clock.monotonic() + settings.leaderWait
        while true {
            do {
                _ = try await driver.linearizableRead()
                return
            } catch {
                guard error.isRetriable, settings.clock.monotonic() < deadline else {
                    throw ReplicaUnavailable("\(error.message); retry shortly or read with ?stale=true")
                }
            }
            try? await settings.clock.sleep(for: settings.leaderPoll)
        }
    }

    /// Runs `body` on this node's current state (call ``awaitLinearizable()`` first for a
    /// linearizable read).
    public func read<T: Sendable, E: Error>(_ body: @Sendable (SchedulerState) throws(E) -> T) async throws(E) -> T {
        try await read(on: nil, body)
    }

    /// ``read(_:)`` with `body` — synchronous, so no actor is entered from it — run on
    /// `executor` (a list read's low-priority thread); the view is taken here first.
    public func read<T: Sendable, E: Error>(on executor: (any TaskExecutor)?,
                                            _ body: @Sendable (SchedulerState) throws(E) -> T) async throws(E) -> T {
        try await stateMachine.read(on: executor, body)
    }

    /// This node's applied index and the digest of its state there (its own view: no leader
    /// needed). Encodes the whole state once (see ``SchedulerStateMachine/stateDigest()``).
    public func stateDigest() async -> (appliedIndex: UInt64, digest: UInt64) {
        let taken = await stateMachine.stateDigest()
        return (taken.appliedIndex.rawValue, taken.digest)
    }

    /// The cluster as this node sees it (works without a leader).
    public func cluster() async -> ClusterStatus {
        await clusterView.status()
    }

    /// Ready when a leader is known and this node applied everything it knows committed.
    public func checkReady() async throws(ReplicaUnavailable) {
        let status = await driver.status
        guard status.leader != nil else { throw ReplicaUnavailable("no leader is known") }
        guard status.appliedIndex >= status.commitIndex else {
            throw ReplicaUnavailable("catching up: applied \(status.appliedIndex) of \(status.commitIndex) committed")
        }
    }
}
