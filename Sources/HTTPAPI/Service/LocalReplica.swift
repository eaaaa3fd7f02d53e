import SchedulerCore
import SchedulerPlanning

/// An in-memory ``SchedulerReplica``: one ``SchedulerState`` that this actor both leads and
/// applies, with an injected clock. Route tests run against it (as ``LocalSchedulerService``).
///
/// "Proposing" is applying at once. Before every request it does the work that has come due
/// (cron fires with their next fire times, due pending runs), as the Raft leader's timers
/// would. Reads ignore ``ReadConsistency``: a single replica is always linearizable.
public actor LocalReplica: SchedulerReplica {
    private var state: SchedulerState
    private var stamper: CommandStamper
    private let clock: @Sendable () -> Timestamp
    private let nodeID: String
    private let apiAddress: String
    private var appliedCommands: UInt64 = 0
    /// What this replica, as its own leader, stamps into submits that left a value to the cluster.
    private let defaults: SubmissionDefaults

    /// A replica over `state`, reading time from `clock` (milliseconds since the epoch) and
    /// stamping `defaults` (`[scheduler]`) into submits that leave them out.
    public init(state: SchedulerState = SchedulerState(), clock: @escaping @Sendable () -> Timestamp,
                ids: any IDGenerator = SequentialIDGenerator(start: 1_000_000), nodeID: String = "local",
                apiAddress: String = "", defaults: SubmissionDefaults = .builtIn) {
        self.defaults = defaults
        self.state = state
        self.clock = clock
        self.stamper = CommandStamper(ids: ids)
        self.nodeID = nodeID
        self.apiAddress = apiAddress
    }

    /// The clock.
    public nonisolated func now() -> Timestamp { clock() }

    /// A copy of the current state (tests, diagnostics).
    public func snapshot() -> SchedulerState { state }

    /// Applies `command` now, as a committed log entry would be.
    public func propose(_ command: Command) -> [SchedulerEvent] {
        runDueWork()
        return apply(command)
    }

    /// Resolves the times with this replica's clock and its ``SubmissionDefaults`` (it is its
    /// own leader), then applies.
    public func propose(_ unstamped: UnstampedCommand) throws(APIError) -> [SchedulerEvent] {
        let command: Command
        do {
            command = try unstamped.resolved(at: now(), defaults: defaults)
        } catch {
            throw APIError(resolving: error)
        }
        return propose(command)
    }

    /// Runs `body` on the state (after doing the work that has come due).
    public func read<T: Sendable>(_ consistency: ReadConsistency,
                                  _ body: @Sendable (SchedulerState) throws(APIError) -> T) throws(APIError) -> T {
        runDueWork()
        return try body(state)
    }

    /// Does what has come due by now: fires due cron jobs (computing their next fire) and
    /// queues due pending runs.
    public func runDueWork() {
        let now = clock()
        for due in state.cronFiresDue(atOrBefore: now) {
            _ = apply(.fireCron(stamper.fire(due, now: now)))
        }
        if let next = state.nextDueInstant, next <= now {
            _ = apply(.tick)
        }
    }

    private func apply(_ command: Command) -> [SchedulerEvent] {
        appliedCommands += 1
        // The count of applied commands is this replica's log index: notifications derive from it.
        var events: [SchedulerEvent] = []
        state.apply(command.withDefaults(defaults), at: clock(), index: UInt64(max(0, appliedCommands)), into: &events)
        return events
    }

    /// One node that is its own leader.
    public func cluster() -> ClusterResource {
        ClusterResource(leader: nodeID, term: 1, commitIndex: appliedCommands, nodes: [
            ClusterNodeResource(id: nodeID, role: "leader", api: apiAddress, raft: "", reachable: true,
                                matchIndex: appliedCommands, slots: 0, busy: state.runningCount,
                                appliedIndex: appliedCommands, lag: 0),
        ], node: nodeID, appliedIndex: appliedCommands)
    }

    /// Always ready.
    public func checkReady() {}

    /// The digest of the state as it is (no due work is done first: observing changes nothing),
    /// at the count of commands applied so far (this replica's log index).
    public func stateDigest() -> StateDigestResource {
        StateDigestResource(appliedIndex: appliedCommands, digest: state.snapshotDigest())
    }
}

/// The in-memory twin of a node: the HTTP semantics of ``ReplicatedSchedulerService`` over a
/// ``LocalReplica``.
public typealias LocalSchedulerService = ReplicatedSchedulerService<LocalReplica>

extension ReplicatedSchedulerService where Replica == LocalReplica {
    /// A service over a fresh ``LocalReplica`` of `state`.
    public convenience init(state: SchedulerState = SchedulerState(), clock: @escaping @Sendable () -> Timestamp,
                            ids: any IDGenerator = SequentialIDGenerator(), nodeID: String = "local",
                            apiAddress: String = "", defaults: SubmissionDefaults = .builtIn) {
        self.init(replica: LocalReplica(state: state, clock: clock, nodeID: nodeID, apiAddress: apiAddress, defaults: defaults),
                  ids: ids)
    }

    /// A copy of the replica's state.
    public func snapshot() async -> SchedulerState { await replica.snapshot() }

    /// Applies `command` now; a rejection throws its ``APIError``. Tests report attempts through this.
    @discardableResult
    public func propose(_ command: Command) async throws(APIError) -> [SchedulerEvent] {
        try Self.throwingRejection(await replica.propose(command))
    }

    /// Does what has come due by now.
    public func runDueWork() async { await replica.runDueWork() }
}
