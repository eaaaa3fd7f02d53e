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
}

/// The scheduler as the Raft driver's state machine: decodes each committed entry, applies it
/// to one ``SchedulerState`` and keeps the events of recent entries so that whoever proposed
/// an entry (here or, forwarded, on another node) learns what it did.
///
/// Reads run a closure on this actor, so no reader ever holds a copy of the state (a copy
/// would make the next apply copy every table it touches). The one exception is the snapshot
/// encoder, which holds a frozen copy while it serialises (``snapshotEncoder()``).
public actor SchedulerStateMachine: ReplicatedStateMachine {
    private var state = SchedulerState()
    private let executorID: ExecutorID
    private let replayThrough: Raft.LogIndex
    private let startedWall: Timestamp
    private let leaseProven: @Sendable () -> Bool
    private let leaseExpired: @Sendable () -> Bool
    private let wallClock: (@Sendable () -> Timestamp)?
    private let killGraceMs: Int64
    private let onApplied: @Sendable (AppliedChanges) -> Void
    private let metrics: QuorumMetrics?
    private let eventHub: EventHub?
    private let logger: Logger
    private(set) var appliedIndex = Raft.LogIndex.zero

    /// Events of recent entries by index, and the order to forget them in.
    private var recentEvents: [Raft.LogIndex: [SchedulerEvent]] = [:]
    private var recentOrder: [Raft.LogIndex] = []
    private var recentStart = 0
    private let recentLimit: Int
    private var waiters: [Raft.LogIndex: [CheckedContinuation<[SchedulerEvent]?, Never>]] = [:]

    /// A state machine for node `executorID`.
    ///
    /// - Parameters:
    ///   - replayThrough: the last log index on disk at start-up; entries up to it are replay.
    ///   - recentLimit: how many entries' events are kept for proposers that ask late.
    ///   - onApplied: called on this actor after each applied batch; must not block.
    ///   - metrics: counts jobs, finished runs, queue depth and the DLQ from every applied entry.
    ///   - eventHub: receives each applied entry's client-visible events (`GET /api/events`),
    ///     replayed entries included, so a restarted node can resume clients after its snapshot.
    ///   - leaseExpired: while the executor lease has run out (the node fences), nothing starts.
    ///   - startedWall, leaseProven: until `leaseProven()`, attempts assigned before `startedWall`
    ///     (this process's start) are not started (``NodeCore/ExecutorOrders/withoutStale(_:in:startedAt:)``).
    ///   - wallClock, killGraceMs: attempts are time-boxed to end, killed, before the leader's
    ///     deadline (``NodeCore/ExecutorOrders/timeBoxed(_:in:now:killGraceMs:)``).
    public init(executorID: ExecutorID, replayThrough: Raft.LogIndex, recentLimit: Int = 16_384,
                metrics: QuorumMetrics? = nil, eventHub: EventHub? = nil, startedWall: Timestamp = .zero, leaseProven: @escaping @Sendable () -> Bool = { true },
                leaseExpired: @escaping @Sendable () -> Bool = { false }, wallClock: (@Sendable () -> Timestamp)? = nil, killGraceMs: Int64 = 5_000,
                logger: Logger, onApplied: @escaping @Sendable (AppliedChanges) -> Void) {
        self.wallClock = wallClock
        self.killGraceMs = killGraceMs
        self.executorID = executorID
        self.replayThrough = replayThrough
        self.startedWall = startedWall
        self.leaseProven = leaseProven
        self.leaseExpired = leaseExpired
        self.recentLimit = recentLimit
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
        if let failure = apply(entries, to: &state) {
            logger.critical("stopping: a committed log entry cannot be decoded by this build",
                            metadata: ["index": "\(failure.index)", "error": "\(failure.reason)"])
            throw failure
        }
    }

    /// Applies `entries` to `state` — the actor's own state, passed `inout` so that every read
    /// below (metrics, change events, start orders) borrows it in place. Read from the actor's
    /// property instead, each of those calls copied the whole state first (every table retained
    /// and released, several times per entry; docs/benchmarks.md, "CPU per drained job").
    /// Must not touch `self.state` (it is being modified through `state`).
    ///
    /// - Returns: the entry that could not be decoded, after applying the ones before it.
    private func apply(_ entries: [Raft.Entry], to state: inout SchedulerState) -> UndecodableEntry? {
        var events: [SchedulerEvent] = []
        var batchEvents: [SchedulerEvent] = []
        var liveEvents: [SchedulerEvent] = []
        var applied: Raft.LogIndex?
        var lastLiveStamp: Timestamp?
        var failure: UndecodableEntry?
        for entry in entries {
            events.removeAll(keepingCapacity: true)
            let stamped: StampedCommand
            do {
                stamped = try CommandCodec.decode(entry.data)
                state.apply(stamped.command, at: stamped.at, into: &events)
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
            remember(events, at: entry.index)
            applied = entry.index
        }
        if let last = applied {
            metrics?.recordGauges(of: state)  // once per batch: the gauges follow the state after it
            var (starts, stops) = ExecutorOrders.collect(from: liveEvents, for: executorID, in: state)
            if !starts.isEmpty {
                starts = ExecutorOrders.admitted(starts, in: state, fenced: leaseExpired(), proven: leaseProven(),
                                                 startedAt: startedWall, now: wallClock?(), killGraceMs: killGraceMs)
            }
            appliedIndex = last
            onApplied(AppliedChanges(throughIndex: last, isReplay: last <= replayThrough, events: batchEvents,
                                     starts: starts, stops: stops, lastLiveStamp: lastLiveStamp))
            resumeWaiters(through: last)
        }
        return failure
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
        return { frozen.snapshot() }
    }

    /// Replaces the state with a snapshot through `index`.
    public func restore(_ snapshot: [UInt8], through index: Raft.LogIndex) async throws {
        state = try SchedulerState(snapshot: snapshot)
        metrics?.recordGauges(of: state)
        appliedIndex = index
        eventHub?.restart(after: index.rawValue)
        recentEvents = [:]
        recentOrder = []
        recentStart = 0
        onApplied(AppliedChanges(throughIndex: index, isReplay: index <= replayThrough, events: [], starts: [], stops: []))
        resumeWaiters(through: index)
    }

    // MARK: Queries

    /// Runs `body` on the current state.
    public func read<T: Sendable, E: Error>(_ body: (SchedulerState) throws(E) -> T) throws(E) -> T {
        try body(state)
    }

    /// The events of the entry at `index` once it is applied here; `nil` when they are no
    /// longer known (applied long ago, or covered by an installed snapshot).
    public func events(at index: Raft.LogIndex) async -> [SchedulerEvent]? {
        if index <= appliedIndex { return recentEvents[index] }
        return await withCheckedContinuation { continuation in
            waiters[index, default: []].append(continuation)
        }
    }

    // MARK: Internals

    private func remember(_ events: [SchedulerEvent], at index: Raft.LogIndex) {
        recentEvents[index] = events
        recentOrder.append(index)
        if recentOrder.count - recentStart > recentLimit {
            recentEvents[recentOrder[recentStart]] = nil
            recentStart += 1
            if recentStart > recentLimit {
                recentOrder.removeFirst(recentStart)
                recentStart = 0
            }
        }
    }

    private func resumeWaiters(through index: Raft.LogIndex) {
        guard !waiters.isEmpty else { return }
        for waiting in waiters.keys where waiting <= index {
            let events = recentEvents[waiting]
            for continuation in waiters.removeValue(forKey: waiting) ?? [] { continuation.resume(returning: events) }
        }
    }
}
