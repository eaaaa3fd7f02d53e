import Foundation
import Testing

/// Every cluster test except the cron one runs one at a time: each starts 3–5 debug node
/// processes, and on a 2-core machine two such clusters at once make elections flap.
@Suite("real clusters", .serialized)
struct RealClusterTests {}

extension RealClusterTests {
    @Suite("jobs on a 3-node cluster")
    struct JobFlowTests {
        @Test("a job submitted to a follower runs on a follower's executor and completes")
        func followerSubmissionRunsOnAFollower() async throws {
            try await TestCluster.with(nodes: 3) { cluster in
                let (leader, term) = try await cluster.waitForLeader()
                let follower = try #require(cluster.others(than: leader).first)
                let id = try await cluster.submit(
                    JobSubmission(name: "on-a-follower", task: .shell(["/bin/sh", "-c", "echo ran"])), to: follower)
                let job = try await cluster.waitForJob(id, on: follower, state: "succeeded")
                #expect(job.status == "Completed")
                let attempts = try await cluster.attempts(of: id, on: leader)
                #expect(attempts.count == 1)
                let attempt = try #require(attempts.first)
                #expect(attempt.outcome == "succeeded")
                #expect(attempt.exitCode == 0)
                let executor = try #require(attempt.executor)
                #expect(cluster.ids.contains(executor))
                // Followers first: the leader runs attempts only when no follower has a free slot.
                // (If an election happened meanwhile, the leader at dispatch is unknown: skip.)
                let (_, termAfter) = try await cluster.waitForLeader()
                if termAfter == term {
                    #expect(executor != leader, "the attempt ran on the leader \(leader) while followers had free slots")
                }
                // Every node answers the same, linearizably.
                for node in cluster.ids {
                    #expect(try await cluster.job(id, on: node).state == "succeeded", "as seen by \(node)")
                }
                try await Self.refusesOutsideShellAllow(cluster, on: follower)
            }
        }

        /// A program outside `shell_allow` (`/bin/*`, `/usr/bin/*`) is a 422 naming
        /// `task.command[0]` and never runs; the node's data directory is 0700.
        static func refusesOutsideShellAllow(_ cluster: TestCluster, on node: String) async throws {
            let script = "\(cluster.directory)/outside.sh"
            let marker = "\(cluster.directory)/outside-ran"
            try "#!/bin/sh\ntouch \(marker)\n".write(toFile: script, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script)
            let refused = try await cluster.api(node).post("/api/jobs", json: JobSubmission(name: "outside", task: .shell([script])))
            let error = try refused.expect(422, as: ErrorObject.self).error
            #expect(error.field == "task.command[0]")
            #expect(error.message.contains("is not allowed by [executor] shell_allow (/bin/*, /usr/bin/*)"), "\(error.message)")
            #expect(!FileManager.default.fileExists(atPath: marker))
            let mode = try FileManager.default.attributesOfItem(atPath: "\(cluster.directory)/data/\(node)")[.posixPermissions] as? Int
            #expect(mode == 0o700)
        }

        static func fillJob(_ index: Int) -> JobSubmission { JobSubmission(name: "fill-\(index)", task: .sleep(3)) }

        @Test("followers' slots fill first; the leader runs attempts only when they are full")
        func leaderRunsOnlyOverflow() async throws {
            try await TestCluster.with(nodes: 3) { cluster in
                let (leader, term) = try await cluster.waitForLeader()
                let slots = TestCluster.Timing().slots
                let count = 2 * slots + 2  // both followers full, two left over
                let batch = JobBatch(jobs: (0..<count).map(Self.fillJob))
                let ids = try await cluster.api(leader).post("/api/jobs/batch", json: batch).expect(201, as: BatchCreated.self).ids
                #expect(ids.count == count)
                let executors = try await eventually("all \(count) attempts running") {
                    try await cluster.executorsIfAllRunning(ids, on: leader)
                }
                let (_, termAfter) = try await cluster.waitForLeader()
                try #require(termAfter == term, "an election during the test; dispatch is not comparable")
                var perNode: [String: Int] = [:]
                for executor in executors { perNode[executor, default: 0] += 1 }
                for follower in cluster.others(than: leader) {
                    #expect(perNode[follower] == slots, "\(follower) runs \(perNode[follower] ?? 0) of its \(slots) slots: \(perNode)")
                }
                #expect(perNode[leader] == count - 2 * slots, "the leader runs \(perNode[leader] ?? 0): \(perNode)")
            }
        }

        @Test("a failing shell job retries with its backoff, lands in the DLQ, and a requeue runs it again")
        func failingJobRetriesThenDeadLettersThenRequeues() async throws {
            try await TestCluster.with(nodes: 3) { cluster in
                let (leader, _) = try await cluster.waitForLeader()
                let follower = try #require(cluster.others(than: leader).first)
                // Fails (exit 1) until the flag file exists.
                let flag = "\(cluster.directory)/may-succeed"
                let backoff = 400
                let id = try await cluster.submit(
                    JobSubmission(
                        name: "fails-until-flagged",
                        task: .shell(["/bin/sh", "-c", "test -e \"$FLAG\""], env: ["FLAG": flag]),
                        retry: RetrySpec(maxAttempts: 3, initialBackoffMs: backoff, multiplier: 2, maxBackoffMs: 60_000, jitter: false)),
                    to: follower)
                try await cluster.waitForJob(id, on: follower, state: "dead")
                let attempts = try await cluster.attempts(of: id, on: follower)
                #expect(attempts.map(\.attempt) == [1, 2, 3])
                #expect(attempts.allSatisfy { $0.outcome == "failed" && $0.exitCode == 1 }, "\(attempts)")
                // Attempt k+1 starts no earlier than attempt k's end plus backoff × 2^(k-1).
                for (previous, next) in zip(attempts, attempts.dropFirst()) {
                    let finished = try APITime.parse(try #require(previous.finishedAt))
                    let started = try APITime.parse(try #require(next.startedAt))
                    let wanted = Double(backoff) * pow(2, Double(previous.attempt - 1)) / 1000
                    #expect(started.timeIntervalSince(finished) >= wanted - 0.0005,
                            "attempt \(next.attempt) started \(started.timeIntervalSince(finished)) s after attempt \(previous.attempt) ended; backoff \(wanted) s")
                }

                let runID = try #require(attempts.first?.runId)
                let dlq = try await cluster.api(leader).get("/api/dlq").expect(200, as: Items<DeadLetter>.self).items
                let letter = try #require(dlq.first { $0.runId == runID }, "run \(runID) not in the DLQ: \(dlq)")
                #expect(letter.jobId == id)
                #expect(letter.attempts == 3)

                try #require(FileManager.default.createFile(atPath: flag, contents: nil), "could not create \(flag)")
                let requeue = try await cluster.api(follower).post("/api/dlq/\(runID)/requeue")
                #expect(requeue.status == 200, "\(requeue.text)")
                try await cluster.waitForJob(id, on: follower, state: "succeeded")
                let after = try await cluster.attempts(of: id, on: follower)
                #expect(after.count == 4)
                #expect(after.last?.outcome == "succeeded")
                let dlqAfter = try await cluster.api(follower).get("/api/dlq").expect(200, as: Items<DeadLetter>.self).items
                #expect(!dlqAfter.contains { $0.runId == runID })
            }
        }

        @Test("a diamond DAG runs in dependency order")
        func diamondDAGRunsInOrder() async throws {
            try await TestCluster.with(nodes: 3) { cluster in
                let (leader, _) = try await cluster.waitForLeader()
                let follower = try #require(cluster.others(than: leader).first)
                let step = TaskSpec.sleep(0.2)
                let dag = DAGSubmission(name: "diamond", tasks: [
                    .init(id: "a", task: step),
                    .init(id: "b", task: step, dependsOn: ["a"]),
                    .init(id: "c", task: step, dependsOn: ["a"]),
                    .init(id: "d", task: step, dependsOn: ["b", "c"]),
                ])
                let id = try await cluster.api(follower).post("/api/dags", json: dag).expect(201, as: Created.self).id
                let run = try await eventually("DAG \(id) finished") { () -> DAGRun? in
                    let run = try await cluster.api(follower).get("/api/dags/\(id)").expect(200, as: DAGRun.self)
                    return run.state == "running" ? nil : run
                }
                #expect(run.state == "succeeded", "\(run)")
                var started: [String: Date] = [:]
                var finished: [String: Date] = [:]
                for task in run.tasks {
                    #expect(task.state == "succeeded", "\(task)")
                    started[task.id] = try APITime.parse(try #require(task.startedAt, "\(task.id) has no started_at"))
                    finished[task.id] = try APITime.parse(try #require(task.finishedAt, "\(task.id) has no finished_at"))
                }
                for (task, dependency) in [("b", "a"), ("c", "a"), ("d", "b"), ("d", "c")] {
                    let start = try #require(started[task])
                    let end = try #require(finished[dependency])
                    #expect(start >= end, "\(task) started at \(start), before \(dependency) finished at \(end)")
                }
            }
        }
    }
}
