import Foundation
import HTTPAPI
import QuorumTestServer
import SchedulerCore
import Testing

/// `quorum edit`, and `trigger`/`dlq requeue` with one `Idempotency-Key`, through the built
/// binary against a real HTTP server.
@Suite("quorum edit and keyed trigger/requeue", .serialized)
struct EditCommandTests {
    @Test("`quorum edit --schedule --tz` moves a cron job's next fire; --if-match with an old version exits 2")
    func editMovesNextFire() async throws {
        let service = TestAPIServer.makeService()
        let job = try await service.submitJob(JobSubmission(name: "nightly", schedule: "0 * * * *"), idempotency: nil).value
        #expect(job.nextRunAt?.description == "2026-12-01T10:00:00.000Z")
        try await TestAPIServer.withServer(service) { url in
            let edit = try await QuorumBinary.runAsync(["edit", job.id, "--schedule", "30 12 * * *", "--tz", "Asia/Tokyo",
                                                        "--priority", "4", "--if-match", "1", "--server", url])
            #expect(edit.exitCode == 0, "\(edit.standardError)")
            #expect(edit.standardOutput.contains("edited job \(job.id) (version 2)"), "\(edit.standardOutput)")
            let edited = try await service.job(job.id, consistency: .linearizable)
            #expect(edited.nextRunAt?.description == "2026-12-02T03:30:00.000Z", "12:30 in Tokyo")
            #expect(edited.priority == 4 && edited.version == 2)

            let stale = try await QuorumBinary.runAsync(["edit", job.id, "--priority", "5", "--if-match", "1", "--server", url])
            #expect(stale.exitCode == 2, "\(stale.standardOutput)")
            #expect(stale.standardError.contains("precondition_failed") || stale.standardError.contains("version 2"), "\(stale.standardError)")

            let json = try await QuorumBinary.runAsync(["edit", job.id, "--schedule", "*/5 * * * *", "--json", "--server", url])
            #expect(json.exitCode == 0, "\(json.standardError)")
            let resource = try JSONDecoder().decode(JobResource.self, from: Data(json.standardOutput.utf8))
            #expect(resource.nextRunAt?.description == "2026-12-01T09:05:00.000Z")
            #expect(resource.version == 3)

            let nothing = try await QuorumBinary.runAsync(["edit", job.id, "--server", url])
            #expect(nothing.exitCode == 2)
            let name = try await QuorumBinary.runAsync(["edit", job.id, "--name", "other", "--server", url])
            #expect(name.exitCode == 2)
            #expect(name.standardError.contains("--name"), "\(name.standardError)")
        }
    }

    @Test("`quorum edit --constraint --max-per-node` replaces the placement; --no-constraints removes the constraints, keeping the limit")
    func editPlacement() async throws {
        let service = TestAPIServer.makeService()
        let job = try await service.submitJob(JobSubmission(name: "gpu", schedule: "0 * * * *", constraints: ["gpu": "true"]),
                                              idempotency: nil).value
        try await TestAPIServer.withServer(service) { url in
            let edit = try await QuorumBinary.runAsync(["edit", job.id, "--constraint", "zone=a", "--max-per-node", "2",
                                                        "--if-match", "1", "--server", url])
            #expect(edit.exitCode == 0, "\(edit.standardError)")
            var edited = try await service.job(job.id, consistency: .linearizable)
            #expect(edited.constraints == ["zone": "a"] && edited.maxPerNode == 2 && edited.version == 2)

            let cleared = try await QuorumBinary.runAsync(["edit", job.id, "--no-constraints", "--server", url])
            #expect(cleared.exitCode == 0, "\(cleared.standardError)")
            edited = try await service.job(job.id, consistency: .linearizable)
            #expect(edited.constraints == nil && edited.maxPerNode == 2)

            let both = try await QuorumBinary.runAsync(["edit", job.id, "--no-constraints", "--constraint", "a=b", "--server", url])
            #expect(both.exitCode == 2)
            let bad = try await QuorumBinary.runAsync(["edit", job.id, "--max-per-node", "0", "--server", url])
            #expect(bad.exitCode == 2, "\(bad.standardOutput)")
            #expect(bad.standardError.contains("max_per_node"), "\(bad.standardError)")
        }
    }

    @Test("`quorum trigger --idempotency-key K` twice starts one run; `quorum dlq requeue` twice with one key requeues once")
    func keyedTriggerAndRequeue() async throws {
        let service = TestAPIServer.makeService()
        let job = try await service.submitJob(JobSubmission(name: "c", schedule: "0 0 1 1 *"), idempotency: nil).value
        try await TestAPIServer.withServer(service) { url in
            for _ in 0..<2 {
                let trigger = try await QuorumBinary.runAsync(["trigger", job.id, "--idempotency-key", "trig-1", "--server", url])
                #expect(trigger.exitCode == 0, "\(trigger.standardError)")
            }
            #expect(try await service.replica.read(.stale) { $0.runCount } == 1, "one run")
            #expect(try await service.job(job.id, consistency: .linearizable).lastRun != nil)
        }

        let once = try await service.submitJob(JobSubmission(name: "o", retry: RetryBody(maxAttempts: 1)), idempotency: nil).value
        let runID = try #require(try await service.runs(ofJob: once.id, consistency: .linearizable).first?.runId)
        try await TestAPIServer.killAttempt(attempt: 1, ofRun: runID, in: service)
        try await TestAPIServer.withServer(service) { url in
            for _ in 0..<2 {
                let requeue = try await QuorumBinary.runAsync(["dlq", "requeue", runID, "--idempotency-key", "rq-1", "--server", url])
                #expect(requeue.exitCode == 0, "\(requeue.standardError)")
                #expect(requeue.standardOutput.contains("requeued run \(runID)"), "\(requeue.standardOutput)")
            }
            let status = try await service.jobStatus(once.id, consistency: .linearizable)
            #expect(status.state == "queued")
            #expect(status.tries == 0, "one requeue, one fresh budget")
        }
    }
}
