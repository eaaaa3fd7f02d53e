import SchedulerCore
import SchedulerPlanning

/// What ``ReplicatedSchedulerService`` needs from a copy of the scheduler state: a way to get a
/// command into the (replicated) log and a way to read the state at a chosen consistency.
///
/// The Raft node implements it over its driver (propose through the leader, ReadIndex reads);
/// ``LocalReplica`` implements it in memory for tests and a single-process mode. Keeping the
/// HTTP semantics in one generic service means both answer every request identically.
public protocol SchedulerReplica: Sendable {
    /// The proposer's clock, in milliseconds since the epoch (planning `run_at`, first fires).
    func now() -> Timestamp

    /// Gets `command` committed and applied by **this** replica, and returns the events its
    /// entry produced. A refusal by the state machine is returned as a `.rejected` event, not
    /// thrown. Throws ``APIError/unavailable(retryAfter:_:)`` when no leader can take it (or the
    /// outcome is unknown after a leader change: the caller retries with its idempotency key).
    func propose(_ command: Command) async throws(APIError) -> [SchedulerEvent]

    /// As ``propose(_:)``, for a command whose relative times (`delay_seconds`, "now", a cron
    /// job's first fire) the leader resolves with its own stamp. A refusal at that stamp (a
    /// schedule with no fire after it) throws 422 naming the field.
    func propose(_ unstamped: UnstampedCommand) async throws(APIError) -> [SchedulerEvent]

    /// Runs `body` on the state once it is at least as fresh as `consistency` demands.
    /// Linearizable reads throw ``APIError/unavailable(retryAfter:_:)`` without a leader.
    func read<T: Sendable>(_ consistency: ReadConsistency,
                           _ body: @Sendable (SchedulerState) throws(APIError) -> T) async throws(APIError) -> T

    /// The cluster as this replica sees it (works without a leader).
    func cluster() async throws(APIError) -> ClusterResource

    /// Throws `unavailable` unless there is a leader and this replica has applied up to it.
    func checkReady() async throws(APIError)

    /// The digest of this replica's own state with the index it had applied, both taken at one
    /// instant (never a state and an index from either side of an apply). No leader is needed.
    func stateDigest() async throws(APIError) -> StateDigestResource
}

extension SchedulerReplica {
    /// Replicas that keep no applied index (test doubles) report no digest: 503.
    public func stateDigest() async throws(APIError) -> StateDigestResource {
        throw .unavailable(retryAfter: 1, "this replica keeps no applied index to report a digest at")
    }
}

extension SchedulerReplica {
    /// A replica that leads itself resolves the times with its own clock, then proposes.
    public func propose(_ unstamped: UnstampedCommand) async throws(APIError) -> [SchedulerEvent] {
        let command: Command
        do {
            command = try unstamped.resolved(at: now())
        } catch {
            throw APIError(resolving: error)
        }
        return try await propose(command)
    }
}

extension APIError {
    /// 422 naming the field (`jobs[i].schedule` inside a batch) of a command invalid at the stamp.
    public init(resolving error: UnstampedCommand.ResolveError) {
        let field = error.batchIndex.map { FieldPath.join("jobs[\($0)]", error.field) } ?? error.field
        self.init(.invalid, error.message, field: field)
    }
}
