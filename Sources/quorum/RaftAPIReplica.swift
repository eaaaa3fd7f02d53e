import HTTPAPI
import NodeCore
import NodeRuntime
import SchedulerCore
import SchedulerPlanning

/// Where the API meets the runtime: the node's ``NodeRuntime/RaftReplica`` as the HTTP API's
/// ``HTTPAPI/SchedulerReplica``. Neither module knows the other; only this executable sees both.
struct RaftAPIReplica: SchedulerReplica {
    let replica: RaftReplica

    init(_ replica: RaftReplica) { self.replica = replica }

    func now() -> Timestamp { replica.now() }

    func propose(_ command: Command) async throws(APIError) -> [SchedulerEvent] {
        do {
            return try await replica.propose(command)
        } catch {
            throw Self.apiError(writing: error)
        }
    }

    /// The leader resolves the times with its stamp (see `RaftReplica.propose(_:)`).
    func propose(_ unstamped: UnstampedCommand) async throws(APIError) -> [SchedulerEvent] {
        do {
            return try await replica.propose(unstamped)
        } catch {
            throw Self.apiError(writing: error)
        }
    }

    func read<T: Sendable>(_ consistency: ReadConsistency,
                           _ body: @Sendable (SchedulerState) throws(APIError) -> T) async throws(APIError) -> T {
        if consistency == .linearizable {
            do {
                try await replica.awaitLinearizable()
            } catch {
                throw Self.apiError(error)
            }
        }
        // Inside an admitted list read, the walk and rendering run on the gate's low-priority
        // thread; the ReadIndex wait above and taking the view stay here (ReadAdmission.offloadExecutor).
        return try await replica.read(on: ReadAdmission.offloadExecutor, body)
    }

    func cluster() async throws(APIError) -> ClusterResource {
        let status = await replica.cluster()
        return ClusterResource(
            leader: status.leader, term: status.term, commitIndex: status.commitIndex,
            nodes: status.members.map {
                ClusterNodeResource(id: $0.id, role: $0.role, api: $0.api, raft: $0.raft, reachable: $0.reachable,
                                    matchIndex: $0.matchIndex, slots: $0.slots, busy: $0.busy,
                                    incarnation: $0.incarnation == 0 ? nil : "0x" + String($0.incarnation, radix: 16),
                                    process: $0.process.map { "0x" + String($0, radix: 16) },
                                    appliedIndex: $0.appliedIndex, lag: $0.lag,
                                    voter: $0.voter, labels: $0.labels, formatVersion: $0.formatVersion,
                                    replicaCheck: $0.replicaCheck.map(Self.replicaCheck), draining: $0.draining)
            }, node: status.node, appliedIndex: status.appliedIndex, clusterID: status.clusterID)
    }

    /// The wire form of the leader's replica check of one member.
    static func replicaCheck(_ check: ClusterStatus.ReplicaCheck) -> ReplicaCheckResource {
        guard let mismatch = check.mismatch else {
            return ReplicaCheckResource(state: "ok", verifiedIndex: check.verifiedIndex, awaitingCheck: check.awaitingCheck ? true : nil)
        }
        return ReplicaCheckResource(state: "diverged", verifiedIndex: check.verifiedIndex, mismatchIndex: mismatch.index,
                                    leaderDigest: ReplicaDigest(index: mismatch.index, value: mismatch.leaderDigest).hex,
                                    memberDigest: ReplicaDigest(index: mismatch.index, value: mismatch.memberDigest).hex)
    }

    /// This node's own digest at its applied index (no leader needed).
    func stateDigest() async throws(APIError) -> StateDigestResource {
        let taken = await replica.stateDigest()
        return StateDigestResource(appliedIndex: taken.appliedIndex, digest: taken.digest)
    }

    func checkReady() async throws(APIError) {
        do {
            try await replica.checkReady()
        } catch {
            throw Self.apiError(error)
        }
    }

    /// A too-large write is 413 `payload_too_large` naming `max_entry_bytes`, the size and the
    /// limit (retrying cannot help); one invalid at the leader's stamp is 422 naming the field;
    /// an upgrade refusal is 503 `unavailable` naming the members on older builds (`Retry-After: 5`:
    /// an upgrade takes a while); a quota refusal is 429 `quota_exceeded` (`Retry-After: 5`: runs
    /// finish) or 507 `insufficient_storage`; anything else is an unavailability.
    static func apiError(writing error: ReplicaWriteError) -> APIError {
        switch error {
        case .entryTooLarge(let tooLarge): APIError(.payloadTooLarge, tooLarge.message)
        case .invalid(let problem): APIError(resolving: problem)
        case .upgradeInProgress(let message): .unavailable(retryAfter: 5, message)
        case .quotaExceeded(let refusal):
            switch refusal.quota {
            case .maxPendingJobs: APIError(.quotaExceeded, refusal.message, retryAfterSeconds: 5)
            case .maxStateBytes: APIError(.insufficientStorage, refusal.message)
            }
        case .unavailable(let unavailable): apiError(unavailable)
        }
    }

    /// Every unavailability is a 503 with `Retry-After: 1`: `outcome_unknown` when the write
    /// may have committed (only a retry with the same `Idempotency-Key` is safe), else
    /// `unavailable` (nothing was written).
    static func apiError(_ error: ReplicaUnavailable) -> APIError {
        error.outcomeUnknown ? .outcomeUnknown(retryAfter: 1, error.message) : .unavailable(retryAfter: 1, error.message)
    }
}
