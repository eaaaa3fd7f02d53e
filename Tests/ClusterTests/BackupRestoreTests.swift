import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension RealClusterTests {
    /// docs/operations.md: a backup restored into a new cluster, and a survivor forced into a new
    /// one-node cluster.
    @Suite("backup, restore and force-new-cluster")
    struct BackupRestoreTests {
        /// The state of every job of `ids` on `node` (a linearizable read each).
        static func states(_ ids: [String], on node: String, of cluster: TestCluster) async throws -> [String: String] {
            var states: [String: String] = [:]
            for id in ids { states[id] = try await cluster.job(id, on: node).state }
            return states
        }

        static func run(_ arguments: [String], in directory: String) throws -> QuorumBinary.Result {
            try QuorumBinary.runToCompletion(QuorumBinary.path, arguments, in: directory)
        }

        @Test("a loaded cluster's backup restored into a new 3-node cluster serves every job with its state; the new cluster refuses an old node")
        func backupAndRestore() async throws {
            try await TestCluster.with(nodes: 3) { old in
                let (leader, _) = try await old.waitForLeader()
                let follower = try #require(old.others(than: leader).first)
                let succeeded = try await old.submit(JobSubmission(name: "done", task: .noop), to: follower)
                let dead = try await old.submit(JobSubmission(
                    name: "dead", task: .shell(["/bin/false"]),
                    retry: RetrySpec(maxAttempts: 1, initialBackoffMs: 100, multiplier: 1, maxBackoffMs: 100, jitter: false)), to: leader)
                let cron = try await old.submit(JobSubmission(name: "yearly", type: "cron", schedule: "0 0 1 1 *", task: .noop), to: leader)
                let paused = try await old.submit(JobSubmission(name: "paused", type: "cron", schedule: "0 0 1 1 *", task: .noop), to: leader)
                #expect(try await old.api(leader).post("/api/jobs/\(paused)/pause").status == 200)
                let cancelled = try await old.submit(JobSubmission(name: "cancelled", task: .sleep(300)), to: leader)
                let running = try await old.submit(JobSubmission(name: "running", task: .sleep(300)), to: leader)
                let dag = DAGSubmission(name: "chain", tasks: [.init(id: "a", task: .noop), .init(id: "b", task: .noop, dependsOn: ["a"])])
                let dagID = try await old.api(leader).post("/api/dags", json: dag).expect(201, as: Created.self).id
                try await old.waitForJob(succeeded, on: leader, state: "succeeded")
                try await old.waitForJob(dead, on: leader, state: "dead")
                try await old.waitForJob(cancelled, on: leader, state: "running")
                #expect(try await old.api(leader).delete("/api/jobs/\(cancelled)").status == 200)
                try await old.waitForJob(cancelled, on: leader, state: "cancelled")
                try await old.waitForJob(running, on: leader, state: "running")
                try await eventually("DAG \(dagID) succeeded") { () -> Bool? in
                    try await old.api(leader).get("/api/dags/\(dagID)").expect(200, as: DAGRun.self).state == "succeeded" ? true : nil
                }
                let settled = [succeeded, dead, cron, paused, cancelled]
                let before = try await Self.states(settled, on: leader, of: old)

                // The backup, through a follower (it reads through the leader).
                let file = old.directory + "/backup.qbak"
                let api = try old.addresses(of: follower).api
                let save = try Self.run(["snapshot", "save", "--server", "http://\(api)", file], in: old.directory)
                #expect(save.exitCode == 0, "\(save.output)")
                let inspect = try Self.run(["snapshot", "inspect", file], in: old.directory)
                #expect(inspect.exitCode == 0, "\(inspect.output)")
                #expect(inspect.output.contains("jobs: 6"), "\(inspect.output)")
                #expect(inspect.output.contains("DAG runs: 1") && inspect.output.contains("DLQ: 1"), "\(inspect.output)")
                // One flipped byte in the middle of the file: exit 1, naming the offset.
                var damaged = try Data(contentsOf: URL(fileURLWithPath: file))
                damaged[damaged.count / 2] ^= 0x20
                try damaged.write(to: URL(fileURLWithPath: old.directory + "/damaged.qbak"))
                let refused = try Self.run(["snapshot", "inspect", "damaged.qbak"], in: old.directory)
                #expect(refused.exitCode == 1, "\(refused.output)")
                #expect(refused.output.contains("byte offset"), "\(refused.output)")

                // The new cluster on the old one's machines: the old nodes stopped, the same CA and
                // Raft addresses (the case the cluster id answers), new API ports and directories.
                for id in old.ids { try await old.kill(id, SIGKILL) }
                try await TestCluster.with(nodes: 3, beforeStart: { new in
                    let certs = new.directory + "/certs"
                    try FileManager.default.removeItem(atPath: certs)
                    try FileManager.default.copyItem(atPath: old.directory + "/certs", toPath: certs)
                    for file in ["c.toml", "join.toml"] {
                        var text = try String(contentsOfFile: new.directory + "/" + file, encoding: .utf8)
                        for id in new.ids {
                            text = text.replacingOccurrences(of: "raft = \"\(try new.addresses(of: id).raft)\"",
                                                             with: "raft = \"\(try old.addresses(of: id).raft)\"")
                        }
                        try text.write(toFile: new.directory + "/" + file, atomically: true, encoding: .utf8)
                    }
                    for id in new.ids {
                        let restore = try Self.run(["snapshot", "restore", file, "--config", "c.toml", "--id", id], in: new.directory)
                        guard restore.exitCode == 0 else { throw ClusterError("restore \(id): \(restore.output)") }
                    }
                }) { new in
                    let (newLeader, _) = try await new.waitForLeader()
                    for node in new.ids {
                        let after = try await Self.states(settled, on: node, of: new)
                        #expect(after == before, "on \(node)")
                    }
                    let restoredDAG = try await new.api(newLeader).get("/api/dags/\(dagID)").expect(200, as: DAGRun.self)
                    #expect(restoredDAG.state == "succeeded")
                    let dlq = try await new.api(newLeader).get("/api/dlq").expect(200, as: Items<DeadLetter>.self).items
                    #expect(dlq.map(\.jobId) == [dead])
                    // The attempt running in the old cluster has no process here: its executor
                    // reports it lost and it is retried (docs/operations.md).
                    let retried = try await eventually("the restored running attempt lost and retried", timeout: .seconds(20)) {
                        () -> [Attempt]? in
                        let attempts = try await new.attempts(of: running, on: newLeader)
                        return attempts.first?.outcome == "lost" && attempts.count >= 2 ? attempts : nil
                    }
                    #expect(retried[1].attempt == 2)
                    let fresh = try await new.submitRetrying(JobSubmission(name: "after-restore", task: .noop), to: newLeader, key: "after")
                    try await new.waitForJob(fresh, on: newLeader, state: "succeeded")

                    // The old n3, started again in place of the new one, reaches the new n1 and n2 at
                    // the addresses its log records: they refuse it (cluster id), and go on without it.
                    try await new.kill("n3", SIGKILL)
                    try old.restart("n3")
                    try await eventually("a new node refuses the old n3", timeout: .seconds(20)) { () -> Bool? in
                        for node in ["n1", "n2"] {
                            let dropped = try await new.api(node).metric(#"quorum_transport_dropped_frames_total{reason="foreign_cluster"}"#)
                            if let dropped, dropped > 0 { return true }
                        }
                        return nil
                    }
                    #expect(new.logTail("n1", lines: 400).contains("refusing peer n3") || new.logTail("n2", lines: 400).contains("refusing peer n3"))
                    let (leaderWithoutN3, _) = try await new.waitForLeader(among: ["n1", "n2"])
                    let last = try await new.submitRetrying(JobSubmission(name: "old-n3-refused", task: .noop), to: leaderWithoutN3, key: "last")
                    try await new.waitForJob(last, on: leaderWithoutN3, state: "succeeded")
                }
            }
        }

        @Test("force-new-cluster: one survivor of three (two SIGKILLed, directories deleted) serves reads and writes alone")
        func forceNewCluster() async throws {
            try await TestCluster.with(nodes: 3) { cluster in
                let (leader, _) = try await cluster.waitForLeader()
                var jobs: [String] = []
                for index in 0..<3 {
                    jobs.append(try await cluster.submit(JobSubmission(name: "before-\(index)", task: .noop), to: leader))
                }
                let survivor = try #require(cluster.others(than: leader).first)
                for id in jobs { try await cluster.waitForJob(id, on: survivor, state: "succeeded", stale: true) }
                for id in cluster.ids where id != survivor {
                    try await cluster.kill(id, SIGKILL)
                    try FileManager.default.removeItem(atPath: cluster.directory + "/data/\(id)")
                }
                try await cluster.kill(survivor, SIGKILL)
                let forced = NodeProcess(id: survivor, directory: cluster.directory, configFile: "c.toml",
                                         extraArguments: ["--force-new-cluster"])
                try forced.start()
                defer { forced.send(SIGKILL) }
                try await eventually("\(survivor) leads alone", timeout: .seconds(20)) { () -> Bool? in
                    await cluster.clusterInfo(survivor)?.leader == survivor ? true : nil
                }
                for id in jobs { #expect(try await cluster.job(id, on: survivor).state == "succeeded") }
                let after = try await cluster.submitRetrying(JobSubmission(name: "after-force", task: .noop), to: survivor, key: "after-force")
                try await cluster.waitForJob(after, on: survivor, state: "succeeded")
                let info = try #require(await cluster.clusterInfo(survivor))
                #expect(info.nodes.filter { $0.voter != false }.map(\.id) == [survivor], "\(info.nodes)")
                // Every line this start logged carries the warning.
                let log = forced.logTail(lines: 400)
                let started = try #require(log.range(of: "=== test harness: starting \(survivor)", options: .backwards))
                let lines = log[started.upperBound...].split(separator: "\n").dropFirst().filter { !$0.isEmpty }
                #expect(!lines.isEmpty)
                for line in lines { #expect(line.contains("FORCE_NEW_CLUSTER"), "\(line)") }
            }
        }
    }
}
