import BinaryCoding
import Logging
import NodeCore
import Node
import NodeMetrics
import RaftCore
import SchedulerCore

/// A committed entry this build cannot decode: the node stops instead of skipping it.
public struct UndecodableEntry: Error, Hashable, Sendable, CustomStringConvertible {
    /// The entry's log index.
    public var index: Raft.LogIndex
    /// What the decoder said.
    public var reason: String
    /// What happened and what to do.
    public var description: String {
        "the committed log entry at index \(index.rawValue) cannot be decoded by this build (\(reason)); it was written by a "
            + "newer build or is damaged. Every replica holds the same entry, so skipping it would make this node's "
            + "state diverge: run a build that knows it (upgrade this node), then restart"
    }
}

/// What one `apply` call changed, handed synchronously to the node's reactions (executor,
/// leader duties, metrics) before the new state is visible to readers.
public struct AppliedChanges: Sendable {
    /// The last entry applied.
    public var throughIndex: Raft.LogIndex
    /// `true` while the node replays the log it had on disk at start-up: attempts assigned to
    /// it then are not started (they were running when it died; they are reported lost).
    public var isReplay: Bool
    /// Every event, in order.
    public var events: [SchedulerEvent]
    /// Attempts to start on this node (never during replay).
    public var starts: [AttemptOrder]
    /// Attempts on this node to stop (cancelled or replaced).
    public var stops: [AttemptKey]
    /// The stamp of the last entry, when it was applied live (it may confirm this node's clock).
    public var lastLiveStamp: Timestamp?
    /// Set when a snapshot replaced the state: the attempts it has running on this node. A stop
    /// inside the snapshot is never seen as an event, so an attempt held for a slot and not
    /// among these is dropped (``ExecutorHost``).
    public var restoredActiveHere: Set<AttemptKey>?
    /// The scheduler time after the batch (or the snapshot): no entry applied so far applies
    /// later. A leader's lease echoes carry no earlier time (``NodeCore/LeaderSide/noteApplied(time:)``).
    public var appliedTime: Timestamp = .zero
}

/// The scheduler as the Raft driver's state machine: decodes each committed entry, applies it
/// to one ``SchedulerState`` and keeps the events of the entries a proposer on this node (which
/// proposed here or forwarded to the leader) may still ask for, so it learns what its entry did.
///
/// Reads run off this actor (issue #12): after each applied batch the state is published as an
/// isolated view (``PublishedStateView``), and ``read(_:)`` runs its closure on that value on the
/// caller's executor — the low-priority reader thread (``ReadExecutor/lists``) for list reads, which the
/// API's read admission gate puts there — so a scan never delays an apply. A copy of the state is O(1) and the apply
/// after it duplicates only what it touches (the tables are persistent: `ChunkedArray`,
/// `TreeDictionary`); the snapshot encoder holds such a copy too (``snapshotEncoder()``).
public actor SchedulerStateMachine: ReplicatedStateMachine {
    private var state = SchedulerState()
    /// The state as of the last applied batch, for ``read(_:)``.
    private let published = PublishedStateView()
    /// The unfinished-run count and state-size estimate the leader's quota check reads.
    public nonisolated let admissionGauges = AdmissionGauges()
    private let executorID: ExecutorID
    private let replayThrough: Raft.LogIndex
    /// This process's data directory incarnation (0 = unknown), against which named assignments
    /// are checked (``NodeCore/ExecutorOrders/admitted(_:in:fenced:proven:startedWithoutLog:incarnation:process:startedAt:now:killGraceMs:lapseEnded:)``).
    private let incarnation: UInt64
    /// This process's incarnation (0 = none): an assignment naming it is this process's own.
    private let processIncarnation: UInt64
    private let startedWall: Timestamp
    private let leaseProven: @Sendable () -> Bool
    private let leaseExpired: @Sendable () -> Bool
    private let leaseLapseEnded: @Sendable () -> Timestamp?
    private let wallClock: (@Sendable () -> Timestamp)?
    private let killGraceMs: Int64
    private let onApplied: @Sendable (AppliedChanges) -> Void
    private let metrics: QuorumMetrics?
    private let eventHub: EventHub?
    /// Digests the state at checkpoint indexes for the replica check (``ReplicaDigester``).
    private let digester: ReplicaDigester?
    private let logger: Logger
    #if DEBUG
    /// Test only: `QUORUM_TEST_ONLY_DIVERGE_AT_INDEX` (``TestOnlyStatePerturbation``).
    private var perturbation = TestOnlyStatePerturbation.fromProcessEnvironment()
    #endif
    private(set) var appliedIndex = Raft.LogIndex.zero

    /// The events of the entries a local proposer may still ask for, and the proposers waiting
    /// (``ProposerEventsBoard``: a lock, not this actor).
    private let proposerEvents: ProposerEventsBoard

    /// A state machine for node `executorID`.
    ///
    /// - Parameters:
    ///   - replayThrough: the last log index on disk at start-up; entries up to it are replay.
    ///   - recentLimit: the most entries whose events are kept for proposers at once (a ceiling:
    ///     they are kept only while a proposer's claim covers them, ``claimEvents()``).
    ///   - onApplied: called on this actor after each applied batch; must not block.
    ///   - metrics: counts jobs, finished runs, queue depth and the DLQ from every applied entry.
    ///   - eventHub: receives each applied entry's client-visible events (`GET /api/events`),
    ///     replayed entries included, so a restarted node can resume clients after its snapshot.
    ///   - leaseExpired: while the executor lease has run out (the node fences), nothing starts.
    ///   - leaseLapseEnded: when the lease last came back after running out; nothing assigned
    ///     before it starts (``NodeCore/ExecutorOrders/admitted(_:in:fenced:proven:startedWithoutLog:incarnation:process:startedAt:now:killGraceMs:lapseEnded:)``).
    ///   - startedWall, leaseProven: until `leaseProven()`, attempts assigned before `startedWall`
    ///     (this process's start) are not started (``NodeCore/ExecutorOrders/withoutStale(_:in:startedAt:)``);
    ///     with `replayThrough` zero (no log on disk: a new or wiped directory) never, proven or not.
    ///   - wallClock, killGraceMs: attempts are time-boxed to end, killed, before the leader's
    ///     deadline (``NodeCore/ExecutorOrders/timeBoxed(_:in:now:killGraceMs:)``).
    ///   - digester: given the state after each checkpoint index (the replica check).
    ///   - incarnation: this process's data directory incarnation; an assignment naming another
    ///     one (its predecessor under this id, before a wipe) is never started.
    ///   - processIncarnation: this process's incarnation (the node's peer link reports it in
    ///     lease probes); an assignment naming it is started whatever the clocks say, one naming
    ///     another process (this node's before a restart) never.
    public init(executorID: ExecutorID, replayThrough: Raft.LogIndex, incarnation: UInt64 = 0, processIncarnation: UInt64 = 0,
                recentLimit: Int = 16_384,
                metrics: QuorumMetrics? = nil, eventHub: EventHub? = nil, startedWall: Timestamp = .zero, leaseProven: @escaping @Sendable () -> Bool = { true },
                leaseExpired: @escaping @Sendable () -> Bool = { false },
                leaseLapseEnded: @escaping @Sendable () -> Timestamp? = { nil }, wallClock: (@Sendable () -> Timestamp)? = nil, killGraceMs: Int64 = 5_000,
                digester: ReplicaDigester? = nil,
                logger: Logger, onApplied: @escaping @Sendable (AppliedChanges) -> Void) {
        self.digester = digester
        self.wallClock = wallClock
        self.killGraceMs = killGraceMs
        self.executorID = executorID
        self.replayThrough = replayThrough
        self.incarnation = incarnation
        self.processIncarnation = processIncarnation
        self.startedWall = startedWall
        self.leaseProven = leaseProven
        self.leaseExpired = leaseExpired
        self.leaseLapseEnded = leaseLapseEnded
        self.proposerEvents = ProposerEventsBoard(ceiling: recentLimit)
        self.metrics = metrics
        self.eventHub = eventHub
        self.logger = logger
        self.onApplied = onApplied
    }

    // MARK: ReplicatedStateMachine

    /// Applies committed entries in order.
    ///
    /// - Throws: ``UndecodableEntry`` for an entry this build cannot decode, after applying the
    ///   entries before it. The node must stop: skipping it would make this replica's state
    ///   differ from those that can decode it, and guessing is worse than stopping.
    public func apply(_ entries: [Raft.Entry]) async throws {
        guard !entries.isEmpty else { return }
        // Unpublished while it changes: with no reader holding a view, the tables are mutated in
        // place (a published copy would make this apply duplicate what it touches).
        published.withdraw()
        let (applied, failure) = apply(entries, to: &state)
        // Published before any proposer learns its entry applied (`ProposerEventsBoard.applied`) and before the
        // driver counts it applied (this call returns), so a read that follows sees it.
        published.publish(state, through: appliedIndex)
        if let last = applied { proposerEvents.applied(through: last) }
        if let failure {
            logger.critical("stopping: a committed log entry cannot be decoded by this build",
                            metadata: ["index": "\(failure.index)", "error": "\(failure.reason)"])
            throw failure
        }
        try refuseDowngrade()
    }

    /// Stops the node when the state records a newer build for it than this one (``BuildBelowRecord``).
    private func refuseDowngrade() throws {
        guard let refusal = BuildBelowRecord.check(state, node: executorID.rawValue) else { return }
        logger.critical("stopping: \(refusal)")
        throw refusal
    }

    /// Applies `entries` to `state` — the actor's own state, passed `inout` so that every read
    /// below (metrics, change events, start orders) borrows it in place. Read from the actor's
    /// property instead, each of those calls copied the whole state first (every table retained
    /// and released, several times per entry; docs/benchmarks.md, "CPU per drained job").
    /// Must not touch `self.state` (it is being modified through `state`).
    ///
    /// - Returns: the last entry applied, and the entry that could not be decoded (after applying
    ///   the ones before it). The caller publishes the state, then resumes the waiters.
    private func apply(_ entries: [Raft.Entry], to state: inout SchedulerState) -> (applied: Raft.LogIndex?, failure: UndecodableEntry?) {
        var events: [SchedulerEvent] = []
        var batchEvents: [SchedulerEvent] = []
        var liveEvents: [SchedulerEvent] = []
        var applied: Raft.LogIndex?
        var lastLiveStamp: Timestamp?
        var failure: UndecodableEntry?
        var appliedBytes = 0
        for entry in entries {
            events.removeAll(keepingCapacity: true)
            let stamped: StampedCommand
            do {
                stamped = try CommandCodec.decode(entry.data)
                state.apply(stamped.command, at: stamped.at, index: entry.index.rawValue, into: &events)
                #if DEBUG
                if perturbation?.perturb(&state, after: entry.index.rawValue, at: stamped.at) == true {
                    logger.critical("TEST ONLY: this node's scheduler state was perturbed on purpose (\(TestOnlyStatePerturbation.environmentVariable)); its replica digests now differ from its peers'",
                                    metadata: ["index": "\(entry.index)"])
                }
                #endif
            } catch {
                failure = UndecodableEntry(index: entry.index, reason: "\(error)")
                break
            }
            let replaying = entry.index <= replayThrough
            metrics?.recordApplied(events, state: state, replaying: replaying, gauges: false)
            if !replaying {
                liveEvents.append(contentsOf: events)
                lastLiveStamp = stamped.at
            }
            batchEvents.append(contentsOf: events)
            eventHub?.append(ChangeEvents.derive(from: events, index: entry.index.rawValue, at: stamped.at, state: state))
            proposerEvents.remember(events, at: entry.index)
            // At a checkpoint, an O(1) copy of the state as of this entry; encoded on the
            // digester's thread.
            digester?.checkpoint(state, at: entry.index.rawValue)
            applied = entry.index
            appliedBytes += entry.data.count
        }
        admissionGauges.noteApplied(unfinishedRuns: state.unfinishedRunCount, entryBytes: appliedBytes)
        metrics?.setQuotaGauges(pendingJobs: state.unfinishedRunCount, stateBytes: admissionGauges.stateBytes)
        if let last = applied {
            metrics?.recordGauges(of: state)  // once per batch: the gauges follow the state after it
            var (starts, stops) = ExecutorOrders.collect(from: liveEvents, for: executorID, in: state)
            if !starts.isEmpty {
                starts = ExecutorOrders.admitted(starts, in: state, fenced: leaseExpired(), proven: leaseProven(),
                                                 startedWithoutLog: replayThrough == .zero, incarnation: incarnation,
                                                 process: processIncarnation, startedAt: startedWall, now: wallClock?(), killGraceMs: killGraceMs,
                                                 lapseEnded: leaseLapseEnded())
            }
            appliedIndex = last
            onApplied(AppliedChanges(throughIndex: last, isReplay: last <= replayThrough, events: batchEvents,
                                     starts: starts, stops: stops, lastLiveStamp: lastLiveStamp, appliedTime: state.now))
        }
        return (applied, failure)
    }

    /// The whole state.
    public func snapshot() async -> [UInt8] { state.snapshot() }

    /// Freezes the state in O(1) — a copy of the value, whose tables are copy-on-write — and
    /// returns its encoder, which the driver runs off the apply path (issue #10).
    ///
    /// The price: while the encoder holds the frozen copy, the first apply that touches a table
    /// copies that table once (the tables it does not touch stay shared), and memory holds both
    /// versions of the touched tables until the encoding ends. Both are far cheaper than making
    /// every apply wait for the whole encoding (docs/benchmarks.md, "Snapshot off the apply path").
    public func snapshotEncoder() async -> SnapshotEncoder {
        let frozen = state
        let gauges = admissionGauges
        let mark = gauges.freezeMark()
        return { write in
            var bytes = 0
            // In 1 MiB pieces the driver writes to the snapshot file as they come (issue #18).
            frozen.snapshot { piece in
                bytes += piece.count
                write(piece)
            }
            gauges.noteEncoded(bytes: bytes, mark: mark)
        }
    }

    /// Replaces the state with a snapshot through `index`.
    public func restore(_ snapshot: [UInt8], through index: Raft.LogIndex) async throws {
        try install(SchedulerState(snapshot: snapshot), imageBytes: snapshot.count, through: index)
    }

    /// Replaces the state with a snapshot through `index`, decoded from `image` in 1 MiB windows:
    /// the image is never held whole beside the state it becomes (issue #18). Nothing is
    /// installed unless the whole image decodes.
    public func restore(from image: any SnapshotImage, through index: Raft.LogIndex) async throws {
        try install(SchedulerState(snapshot: SnapshotImageSource(image: image)), imageBytes: image.count, through: index)
    }

    /// Makes `restored` the state, as of `index`.
    private func install(_ restored: SchedulerState, imageBytes: Int, through index: Raft.LogIndex) throws {
        published.withdraw()
        state = restored
        admissionGauges.noteRestored(unfinishedRuns: state.unfinishedRunCount, snapshotBytes: imageBytes)
        metrics?.setQuotaGauges(pendingJobs: state.unfinishedRunCount, stateBytes: admissionGauges.stateBytes)
        metrics?.recordGauges(of: state)
        appliedIndex = index
        digester?.stateReplaced()
        eventHub?.restart(after: index.rawValue)
        let activeHere = Set(state.activeAttempts(on: executorID).map { AttemptKey(runID: $0.runID, attempt: $0.attempt) })
        onApplied(AppliedChanges(throughIndex: index, isReplay: index <= replayThrough, events: [], starts: [], stops: [],
                                 restoredActiveHere: activeHere, appliedTime: state.now))
        published.publish(state, through: index)
        proposerEvents.restored(through: index)
        try refuseDowngrade()
    }

    // MARK: Queries

    /// The applied index and the FNV-1a digest of the state's snapshot encoding, both of one
    /// published view (no apply can fall between them), computed off this actor like any read.
    /// Costs one full snapshot encoding: O(state size) time, hashed in pieces as it is encoded
    /// (one 1 MiB buffer, never the whole image); applies go on meanwhile.
    public nonisolated func stateDigest() async -> (appliedIndex: Raft.LogIndex, digest: UInt64) {
        let view = await view()
        return await withTaskExecutorPreference(ReadExecutor.encodings) {
            (view.index, view.state.snapshotDigest())
        }
    }

    /// Runs `body` on the state as of the last applied batch, off this actor: on the caller's
    /// task, with its own view of the state, so applies go on while `body` runs (and `body` sees
    /// none of them). The view holds every entry applied before this call began, so a read after a
    /// write's reply, or after a ReadIndex round (``RaftReplica/awaitLinearizable()``), sees it.
    ///
    /// The closure runs on the calling task's executor. Table walks come through the HTTP API's
    /// read admission gate, which runs them on ``ReadExecutor/lists`` (a low-priority thread of its own,
    /// not the concurrency pool the applier and the driver need); the other reads — leader duties,
    /// a write's read-back of its resource, single resources — are short and run where they are
    /// called, at normal priority, never queued behind a list (and without two thread wake-ups
    /// per call for a hop to a reader thread and back: a measurable share of a drained job's CPU
    /// on the 2-core benchmark machine, docs/benchmarks.md).
    public nonisolated func read<T: Sendable, E: Error>(_ body: (SchedulerState) throws(E) -> T) async throws(E) -> T {
        try await read(on: nil, body)
    }

    /// ``read(_:)`` with `body` run on `executor` (nil: here). The view is taken first, on the
    /// caller's executor: only the synchronous `body` moves, so this actor is never entered
    /// from `executor`'s thread.
    public nonisolated func read<T: Sendable, E: Error>(on executor: (any TaskExecutor)?,
                                                        _ body: (SchedulerState) throws(E) -> T) async throws(E) -> T {
        let view = await view()
        guard let executor else { return try body(view.state) }
        return try await withTaskExecutorPreference(executor) { () async throws(E) -> T in try body(view.state) }
    }

    /// The published view, or, while an apply is in progress, the state after it (taken on this
    /// actor, once the apply is done).
    nonisolated func view() async -> PublishedStateView.View {
        if let view = published.view() { return view }
        return await currentView()
    }

    private func currentView() -> PublishedStateView.View {
        PublishedStateView.View(state: state, index: appliedIndex)
    }

    /// Claims the events of the entries applied from now on, for a proposer about to propose
    /// (its entry will be one of them). End the claim with ``events(at:claim:)``, or with
    /// ``releaseEvents(_:)`` if the proposal failed. Off the actor (``ProposerEventsBoard``).
    public nonisolated func claimEvents() -> ProposerEventsClaim {
        ProposerEventsClaim(claim: proposerEvents.claim())
    }

    /// Ends a claim whose proposal failed.
    public nonisolated func releaseEvents(_ claim: ProposerEventsClaim) {
        proposerEvents.release(claim.claim)
    }

    /// The events of the entry at `index` once it is applied here, and ends `claim`; `nil` when
    /// they are not known (a snapshot from the leader covered the entry, or `claim` was taken
    /// after it was applied): the outcome is unknown, never "nothing happened". Off the actor:
    /// the caller is resumed once, from the apply that published its entry.
    public nonisolated func events(at index: Raft.LogIndex, claim: ProposerEventsClaim) async -> [SchedulerEvent]? {
        await proposerEvents.events(at: index, claim: claim.claim)
    }

    /// The number of entries whose events are kept for proposers (tests, benchmarks).
    nonisolated var keptEventEntries: Int { proposerEvents.keptEntries }
}

/// A proposer's claim on the events of the entries applied after it was taken
/// (``SchedulerStateMachine/claimEvents()``).
public struct ProposerEventsClaim: Hashable, Sendable {
    let claim: ProposerEvents.Claim
}
