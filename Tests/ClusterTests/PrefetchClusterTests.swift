import Foundation
import Testing

extension RealClusterTests {
    /// `[executor] prefetch` on three real nodes: held assignments run one at a time per slot and
    /// every job succeeds once.
    @Suite("Held assignments on a real cluster ([executor] prefetch)")
    struct PrefetchClusterTests {
        @Test("with 1 slot and prefetch 1, nodes hold an assignment each; no node runs two tasks at once; all succeed once")
        func heldAssignmentsRunOneAtATime() async throws {
            var timing = TestCluster.Timing()
            timing.slots = 1
            timing.prefetch = 1
            try await TestCluster.with(nodes: 3, timing: timing) { cluster in
                let (leader, _) = try await cluster.waitForLeader()
                let marks = "\(cluster.directory)/marks"
                try FileManager.default.createDirectory(atPath: marks, withIntermediateDirectories: true)
                // Each task appends its start and end (ns) to its own file, so the test sees when
                // the task itself ran, not when the state says its attempt began.
                let count = 12
                let jobs = (0..<count).map { index in
                    JobSubmission(name: "held-\(index)",
                                  task: .shell(["/bin/sh", "-c", "date +%s%N > \"$M\"; sleep 0.4; date +%s%N >> \"$M\""],
                                               env: ["M": "\(marks)/\(index)"]))
                }
                let ids = try await cluster.api(leader).post("/api/jobs/batch", json: JobBatch(jobs: jobs))
                    .expect(201, as: BatchCreated.self).ids
                // Six in flight on three 1-slot nodes: three run, three are held.
                _ = try await eventually("a node holding an assignment") {
                    for node in cluster.ids where try await Self.held(cluster, on: node) > 0 { return node }
                    return nil
                }
                for id in ids { try await cluster.waitForJob(id, on: leader, state: "succeeded", timeout: .seconds(60)) }
                var intervals: [String: [(start: Int64, end: Int64)]] = [:]
                for (index, id) in ids.enumerated() {
                    let attempts = try await cluster.attempts(of: id, on: leader)
                    #expect(attempts.count == 1, "\(id) ran \(attempts.count) attempts")
                    let executor = try #require(attempts.last?.executor)
                    let lines = try String(contentsOfFile: "\(marks)/\(index)", encoding: .utf8).split(separator: "\n")
                    let times = lines.compactMap { Int64($0) }
                    try #require(times.count == 2, "task \(index) wrote \(lines)")
                    intervals[executor, default: []].append((times[0], times[1]))
                }
                for (executor, list) in intervals {
                    let sorted = list.sorted { $0.start < $1.start }
                    for (a, b) in zip(sorted, sorted.dropFirst()) {
                        #expect(b.start >= a.end, "\(executor) ran two tasks at once with 1 slot")
                    }
                }
                for node in cluster.ids { #expect(try await Self.held(cluster, on: node) == 0) }
            }
        }

        /// `quorum_executor_held` on node `id`.
        static func held(_ cluster: TestCluster, on id: String) async throws -> Double {
            try await cluster.api(id).metric("quorum_executor_held") ?? -1
        }
    }
}
