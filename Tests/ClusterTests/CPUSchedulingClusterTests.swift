import Foundation
import Testing

extension RealClusterTests {
    /// `[cluster] cpu_scheduling` on a real node process: every thread it runs — those created
    /// at start and those the event loops, the task pool and the log writer created later — is
    /// under `SCHED_BATCH` by default, and so is a program a shell task starts; `inherit` leaves
    /// the normal policy.
    @Suite("CPU scheduling of a node's threads")
    struct CPUSchedulingClusterTests {
        @Test("batch by default: every thread of the node and a shell task's process run as SCHED_BATCH", arguments: [
            (nil, 3), ("inherit", 0),
        ] as [(String?, Int)])
        func threadsRunUnderThePolicy(setting: String?, expectedPolicy: Int) async throws {
            var timing = TestCluster.Timing()
            timing.cpuScheduling = setting
            try await TestCluster.with(nodes: 1, timing: timing) { cluster in
                _ = try await cluster.waitForLeader()
                // A job run end to end: the writer, the applier and the executor have all run.
                let id = try await cluster.submit(
                    JobSubmission(name: "policy", task: .shell(["/bin/sh", "-c", "cut -d' ' -f41 /proc/self/stat"])), to: "n1")
                try await cluster.waitForJob(id, on: "n1", state: "succeeded")
                let attempt = try #require(try await cluster.attempts(of: id, on: "n1").first)
                #expect(attempt.outputTail?.trimmingCharacters(in: .whitespacesAndNewlines) == "\(expectedPolicy)",
                        "the shell task's policy: \(attempt.outputTail ?? "no output")")
                let pid = try #require(cluster.pid("n1"))
                let policies = try Self.threadPolicies(of: pid)
                #expect(policies.count >= 4, "\(policies)")
                #expect(policies.values.allSatisfy { $0 == expectedPolicy }, "thread → policy: \(policies)")
            }
        }

        /// Each thread's scheduling policy: field 41 of `/proc/PID/task/TID/stat`, counted after
        /// the command name's closing parenthesis (the name may hold spaces).
        static func threadPolicies(of pid: Int32) throws -> [String: Int] {
            var policies: [String: Int] = [:]
            for thread in try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task") {
                guard let stat = try? String(contentsOfFile: "/proc/\(pid)/task/\(thread)/stat", encoding: .utf8),
                      let close = stat.lastIndex(of: ")")
                else { continue }  // the thread exited meanwhile
                // After ")" come fields 3, 4, …: field 41 is the 39th.
                let fields = stat[stat.index(after: close)...].split(separator: " ")
                if fields.count >= 39, let policy = Int(fields[38]) { policies[thread] = policy }
            }
            return policies
        }
    }
}
