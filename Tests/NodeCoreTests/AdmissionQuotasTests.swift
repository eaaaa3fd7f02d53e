import NodeCore
import SchedulerCore
import Testing

/// `[quotas]` on the leader: which commands count, and the refusal at and past each limit.
@Suite("Admission quotas")
struct AdmissionQuotasTests {
    static func submit(_ id: String) -> Command {
        .submitJob(SubmitJob(jobID: JobID(id), spec: JobSpec(name: id), runID: RunID("r-" + id)))
    }

    let quotas = AdmissionQuotas(maxPendingJobs: 3, maxStateBytes: 10_000)

    @Test("a submit is taken up to the pending-jobs limit and refused at it, naming the key, the count and the limit")
    func pendingJobsAtAndPastLimit() throws {
        #expect(quotas.refusal(for: Self.submit("a"), entryBytes: 100, unfinishedRuns: 2, stateBytes: 0) == nil)
        let atLimit = try #require(quotas.refusal(for: Self.submit("a"), entryBytes: 100, unfinishedRuns: 3, stateBytes: 0))
        #expect(atLimit == QuotaRefusal(quota: .maxPendingJobs, current: 3, adding: 1, limit: 3))
        #expect(atLimit.message.contains("[quotas] max_pending_jobs (3)"))
        #expect(atLimit.message.contains("3 runs are pending, queued or running"))
        #expect(quotas.refusal(for: Self.submit("a"), entryBytes: 100, unfinishedRuns: 4, stateBytes: 0)?.quota == .maxPendingJobs)
    }

    @Test("a batch counts each of its jobs; an idempotent wrapper counts what it wraps")
    func batchCountsJobs() {
        let batch = Command.batch([Self.submit("a"), Self.submit("b")])
        #expect(AdmissionQuotas.runsCreated(by: batch) == 2)
        #expect(quotas.refusal(for: batch, entryBytes: 100, unfinishedRuns: 1, stateBytes: 0) == nil)
        #expect(quotas.refusal(for: batch, entryBytes: 100, unfinishedRuns: 2, stateBytes: 0)?.adding == 2)
        let wrapped = Command.idempotent(IdempotencyStamp(key: "k", bodyDigest: 1), batch)
        #expect(AdmissionQuotas.runsCreated(by: wrapped) == 2)
        #expect(AdmissionQuotas.runsCreated(by: .trigger(TriggerJob(jobID: "j", runID: "r"))) == 1)
        #expect(AdmissionQuotas.runsCreated(by: .requeue("r")) == 1)
    }

    @Test("the state-bytes quota refuses once the estimate plus the entry would pass the limit (507's message)")
    func stateBytes() throws {
        #expect(quotas.refusal(for: Self.submit("a"), entryBytes: 100, unfinishedRuns: 0, stateBytes: 9_900) == nil)
        let over = try #require(quotas.refusal(for: Self.submit("a"), entryBytes: 100, unfinishedRuns: 0, stateBytes: 9_901))
        #expect(over == QuotaRefusal(quota: .maxStateBytes, current: 9_901, adding: 100, limit: 10_000))
        #expect(over.message.contains("[quotas] max_state_bytes (10000)") && over.message.contains("9901 bytes"))
    }

    @Test("commands that create nothing are never refused, however far over the quotas")
    func nonCreatingPass() {
        let freeing: [Command] = [
            .cancelJob("j"), .purge("r"), .tick, .pause("j"),
            .finishAttempt(FinishAttempt(runID: "r", attempt: 1, report: .success)),
        ]
        for command in freeing {
            #expect(quotas.refusal(for: command, entryBytes: 100, unfinishedRuns: 1_000, stateBytes: 1 << 40) == nil)
        }
    }
}
