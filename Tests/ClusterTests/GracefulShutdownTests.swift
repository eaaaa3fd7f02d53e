import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension RealClusterTests {
    @Suite("graceful shutdown on SIGTERM")
    struct GracefulShutdownTests {
        @Test("SIGTERM an executor mid-attempt: the attempt finishes within the grace and is reported; the node exits 0")
        func executorDrainsOnSIGTERM() async throws {
            var timing = TestCluster.Timing()
            timing.shutdownGraceMs = 5_000
            try await TestCluster.with(nodes: 3, timing: timing) { cluster in
                let (leader, _) = try await cluster.waitForLeader()
                let id = try await cluster.submit(JobSubmission(name: "outlives-sigterm", task: .sleep(1.5)), to: leader)
                let running = try await eventually("job \(id) running") { () -> Attempt? in
                    let attempts = try await cluster.attempts(of: id, on: leader)
                    return attempts.first { $0.state == "running" && $0.executor != nil }
                }
                let executor = try #require(running.executor)
                try #require(executor != leader, "the attempt was dispatched to the leader")
                try await cluster.kill(executor, SIGTERM)
                try await eventually("node \(executor) exited", timeout: .seconds(20)) { cluster.isRunning(executor) ? nil : true }
                #expect(cluster.exitStatus(executor) == 0, "\(executor) exited \(cluster.exitStatus(executor).map(String.init) ?? "?")")
                let job = try await cluster.waitForJob(id, on: leader, state: "succeeded")
                #expect(job.runs.count == 1, "\(job.runs)")
                #expect(job.runs.first?.executor == executor)
            }
        }

        @Test("SIGTERM the leader: it hands leadership over and exits 0; the cluster keeps its term's successor and takes writes")
        func leaderTransfersOnSIGTERM() async throws {
            var timing = TestCluster.Timing()
            timing.shutdownGraceMs = 200
            try await TestCluster.with(nodes: 3, timing: timing) { cluster in
                let (leader, term) = try await cluster.waitForLeader()
                let before = try await cluster.submit(JobSubmission(name: "before-sigterm", task: .noop), to: leader)
                try await cluster.waitForJob(before, on: leader, state: "succeeded")
                try await cluster.kill(leader, SIGTERM)
                try await eventually("node \(leader) exited", timeout: .seconds(20)) { cluster.isRunning(leader) ? nil : true }
                #expect(cluster.exitStatus(leader) == 0)
                let others = cluster.others(than: leader)
                let (successor, newTerm) = try await cluster.waitForLeader(among: others)
                #expect(successor != leader)
                // A transfer is one election (TimeoutNow): the next term, no split vote first.
                #expect(newTerm == term + 1, "term \(term) → \(newTerm)")
                let after = try await cluster.submit(JobSubmission(name: "after-sigterm", task: .noop), to: others[0])
                try await cluster.waitForJob(after, on: successor, state: "succeeded")
                #expect(try await cluster.job(before, on: successor).state == "succeeded")
            }
        }
    }
}
