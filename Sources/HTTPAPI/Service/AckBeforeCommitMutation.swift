#if QUORUM_MUTATION_ACK_BEFORE_COMMIT
import SchedulerCore
import SchedulerPlanning

// A PLANTED BUG, compiled only into a mutation build (`swift build -Xswiftc
// -DQUORUM_MUTATION_ACK_BEFORE_COMMIT`, which scripts/check-chaos-mutation.sh makes in its own
// scratch directory): no release, test or CI build defines the flag, so none contains this code.
// It exists to show that `quorum chaos` catches a node that acknowledges a write before the
// write is committed (docs/chaos.md, "The mutation check").
extension ReplicatedSchedulerService {
    /// Answers a job submit at once, with the job as it would look once applied to this node's
    /// current state, while the proposal goes on in the background: if it is never committed (a
    /// leader change, a partition, a killed node), the client was told 201 for a job that does
    /// not exist. Returns nil (the correct path runs) when the command cannot be resolved here.
    func acknowledgeBeforeCommit(_ unstamped: UnstampedCommand, jobID: String) async throws(APIError) -> Created<JobResource>? {
        let now = replica.now()
        guard let command = try? unstamped.resolved(at: now) else { return nil }
        let replica = self.replica
        Task { _ = try? await replica.propose(unstamped) }
        return Created(try await replica.read(.stale) { state throws(APIError) in
            var speculative = state
            _ = speculative.apply(command, at: now)
            return ResourceMapper.job(try Self.storedJob(jobID, in: speculative), in: speculative)
        }, isNew: true)
    }
}
#endif
