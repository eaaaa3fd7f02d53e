import HTTPAPI
import SchedulerCore
import Testing

@Suite("LocalSchedulerService (the in-memory twin)")
struct LocalServiceTests {
    func service() -> LocalSchedulerService {
        LocalSchedulerService(clock: { startOfTest })
    }

    @Test("a submit stamps ids and the first fire; a repeated key returns the first job")
    func submit() async throws {
        let local = service()
        let submission = JobSubmission(name: "n", schedule: "*/15 * * * *", priority: .integer(2))
        let key = IdempotencyKey(key: "k", bodyDigest: 1)
        let first = try await local.submitJob(submission, idempotency: key)
        #expect(first.isNew)
        #expect(first.value.nextRunAt?.description == "2026-12-01T09:15:00.000Z")
        let again = try await local.submitJob(submission, idempotency: key)
        #expect(!again.isNew)
        #expect(again.value.id == first.value.id)
        await #expect(throws: APIError.self) {
            try await local.submitJob(submission, idempotency: IdempotencyKey(key: "k", bodyDigest: 2))
        }
    }

    @Test("a batch with one bad job creates nothing and names jobs[i]")
    func batchAllOrNone() async throws {
        let local = service()
        do {
            _ = try await local.submitBatch([JobSubmission(name: "a"), JobSubmission(name: "b", type: "cron")], idempotency: nil)
            Issue.record("a cron job without a schedule was accepted")
        } catch {
            #expect(error.field == "jobs[1].schedule")
        }
        #expect(await local.snapshot().jobCount == 0)
        let ids = try await local.submitBatch([JobSubmission(name: "a"), JobSubmission(name: "b")], idempotency: nil)
        #expect(ids.value.count == 2)
        #expect(await local.snapshot().jobCount == 2)
    }

    @Test("the command stamper spreads a batch key over its jobs")
    func stamperKeys() throws {
        var stamper = CommandStamper()
        let planned = try SubmissionPlanner.planJob(JobSubmission(name: "a"), now: startOfTest)
        let commands = stamper.submitBatch([planned, planned, planned], idempotency: IdempotencyKey(key: "k", bodyDigest: 9))
        #expect(commands.map { $0.idempotency?.key } == ["k", "k#1", "k#2"])
        #expect(Set(commands.map(\.jobID)).count == 3)
    }
}
