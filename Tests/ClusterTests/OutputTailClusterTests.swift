import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `GET /api/jobs/{id}/runs/{run_id}/output` (the parts these tests read), from docs/api.md.
struct AttemptOutput: Decodable, Sendable {
    var runId: String
    var attempt: Int
    var executor: String
    var outputTail: String
    var complete: Bool
    var source: String
}

extension RealClusterTests {
    @Suite("output tails: short in the replicated state, full on the executor node")
    struct OutputTailClusterTests {
        /// 400 lines of 51 bytes: 20,400 bytes, more than the replicated 4 KiB.
        static let script = #"i=0; while [ $i -lt 400 ]; do printf 'line %04d 0123456789012345678901234567890123456789\n' $i; i=$((i+1)); done"#
        static var expected: String {
            (0..<400).map { String(format: "line %04d 0123456789012345678901234567890123456789\n", $0) }.joined()
        }

        @Test("20 KiB of output: 4 KiB replicated, the full tail read through another node, the short tail once the executor is down")
        func fullTailProxiedAndFallback() async throws {
            try await TestCluster.with(nodes: 3) { cluster in
                let (leader, _) = try await cluster.waitForLeader()
                let id = try await cluster.submit(JobSubmission(name: "talkative", task: .shell(["/bin/sh", "-c", Self.script])), to: leader)
                _ = try await cluster.waitForJob(id, on: leader, state: "succeeded")
                let attempt = try #require(try await cluster.attempts(of: id, on: leader).first)
                let executor = try #require(attempt.executor)
                let expected = Self.expected
                #expect(expected.utf8.count == 20_400)

                // The replicated state holds the last 4 KiB only.
                let replicated = try #require(attempt.outputTail)
                #expect(replicated.utf8.count <= 4096 && replicated.utf8.count > 4000, "\(replicated.utf8.count) bytes replicated")
                #expect(expected.hasSuffix(replicated))

                let path = "/api/jobs/\(id)/runs/\(attempt.runId)/output?attempt=\(attempt.attempt)"
                // On the executor node: its own store.
                let local = try await cluster.api(executor).get(path).expect(200, as: AttemptOutput.self)
                #expect(local.source == "local" && local.complete)
                #expect(local.outputTail == expected)
                // Through another node: proxied to the executor.
                let other = try #require(cluster.ids.first { $0 != executor })
                let proxied = try await cluster.api(other).get(path).expect(200, as: AttemptOutput.self)
                #expect(proxied.source == "executor" && proxied.complete, "\(proxied.source)")
                #expect(proxied.outputTail == expected)
                #expect(proxied.executor == executor)
                // Counted on the node that proxied (and only there).
                func proxyRequests(_ node: String, _ outcome: String) async throws -> Int? {
                    try await cluster.api(node).metric(#"quorum_output_proxy_requests_total{outcome="\#(outcome)"}"#)
                        .map { Int($0) }
                }
                #expect(try await proxyRequests(other, "ok") == 1)
                #expect(try await proxyRequests(other, "failed") == 0)
                #expect(try await proxyRequests(executor, "ok") == 0)

                // The executor node is down: the short replicated tail, marked incomplete, never a 500.
                try await cluster.kill(executor, SIGKILL)
                let survivors = cluster.ids.filter { $0 != executor }
                _ = try await cluster.waitForLeader(among: survivors)
                let fallback = try await eventually("the output through \(other) with \(executor) down") { () -> AttemptOutput? in
                    guard let response = try? await cluster.api(other).get(path, timeout: .seconds(10)), response.status == 200 else { return nil }
                    return try response.decode(AttemptOutput.self)
                }
                #expect(fallback.source == "replicated" && !fallback.complete)
                #expect(fallback.outputTail == replicated)
                #expect((try await proxyRequests(other, "failed") ?? 0) >= 1)
            }
        }
    }
}
