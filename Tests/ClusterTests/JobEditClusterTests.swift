import Foundation
import Testing

/// `PATCH /api/jobs/{id}` and a keyed trigger on real node processes: the edit is forwarded by a
/// follower, the leader stamps the new next fire, and every node sees it.
@Suite("job edits on a real cluster")
struct JobEditClusterTests {
    /// The fields of a job this test reads.
    struct EditedJob: Decodable {
        var version: Int
        var schedule: String?
        var nextRunAt: String?
        var lastRun: Attempt?
    }

    @Test("an edit through a follower moves a cron job's next fire on every node; a trigger sent twice with one key starts one run")
    func editAndKeyedTrigger() async throws {
        try await TestCluster.with(nodes: 3) { cluster in
            let (leader, _) = try await cluster.waitForLeader()
            let followers = cluster.others(than: leader)
            let first = try #require(followers.first)
            let second = try #require(followers.last)
            let id = try await cluster.submit(JobSubmission(name: "yearly", type: "cron", schedule: "0 0 1 1 *", task: .noop), to: first)
            let before = try await cluster.api(second).get("/api/jobs/\(id)").expect(200, as: EditedJob.self)
            let beforeNext = try APITime.parse(try #require(before.nextRunAt))
            #expect(beforeNext.timeIntervalSinceNow > 3_600, "a yearly job's next fire is far away")

            let edited = try await cluster.api(first).patch("/api/jobs/\(id)", json: #"{"schedule":"*/5 * * * *"}"#,
                                                             headers: ["If-Match": "\"\(before.version)\""])
            let job = try edited.expect(200, as: EditedJob.self)
            #expect(edited.header("ETag") == "\"\(before.version + 1)\"")
            let next = try APITime.parse(try #require(job.nextRunAt))
            #expect(next.timeIntervalSinceNow > -5 && next.timeIntervalSinceNow <= 305, "the next */5 fire, got \(job.nextRunAt ?? "nil")")
            #expect(Int(next.timeIntervalSince1970) % 300 == 0)
            for node in cluster.ids {
                let seen = try await cluster.api(node).get("/api/jobs/\(id)").expect(200, as: EditedJob.self)
                #expect(seen.nextRunAt == job.nextRunAt && seen.version == job.version && seen.schedule == "*/5 * * * *", "on \(node)")
            }
            let stale = try await cluster.api(second).patch("/api/jobs/\(id)", json: #"{"priority":3}"#,
                                                            headers: ["If-Match": "\"\(before.version)\""])
            #expect(stale.status == 412, "\(stale.text)")

            let key = ["Idempotency-Key": "cluster-trigger-1"]
            let triggered = try await cluster.api(first).post("/api/jobs/\(id)/trigger", json: String?.none, headers: key)
            #expect(triggered.status == 200, "\(triggered.text)")
            let again = try await cluster.api(second).post("/api/jobs/\(id)/trigger", json: String?.none, headers: key)
            #expect(again.status == 200, "\(again.text)")
            let runID = try #require(triggered.header("Quorum-Run-Id"))
            #expect(again.header("Quorum-Run-Id") == runID, "the repeat names the first trigger's run")
            let ran = try await eventually("the triggered run of \(id) finished", timeout: .seconds(30), poll: .milliseconds(200)) {
                () -> [Attempt]? in
                let attempts = try await cluster.attempts(of: id, on: leader)
                return attempts.contains { $0.runId == runID && $0.outcome == "succeeded" } ? attempts : nil
            }
            // A */5 fire may also have run meanwhile (scheduled on a 5-minute boundary); every
            // other run is a trigger's, and there must be exactly one.
            let triggeredRuns = try Set(ran.filter { Int(try APITime.parse($0.scheduledAt).timeIntervalSince1970 * 1000) % 300_000 != 0 }.map(\.runId))
            #expect(triggeredRuns == [runID], "one run for the two triggers: \(ran.map(\.runId))")
        }
    }
}
