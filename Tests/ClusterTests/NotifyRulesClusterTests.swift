import Foundation
import Testing

/// `notify` rules on real node processes: every member runs this build (command format 10), so
/// the leader's gate admits a submit with rules (entry tag 23), and every node stores them.
@Suite("notify rules on a real cluster")
struct NotifyRulesClusterTests {
    /// The fields of a job this test reads.
    struct JobWithRules: Decodable {
        struct Rule: Decodable, Equatable {
            var on: [String]
            var webhook: String?
            var email: [String]?
        }
        var notify: [Rule]?
    }

    @Test("a job submitted with notify through a follower shows its rules on every node; a bad rule is a 422 naming the field")
    func rulesReplicate() async throws {
        try await TestCluster.with(nodes: 3) { cluster in
            let (leader, _) = try await cluster.waitForLeader()
            let follower = try #require(cluster.others(than: leader).first)
            let body = #"{"name":"etl","delay_seconds":3600,"notify":[{"on":["dead","dead","timed_out"],"webhook":"https://hooks.example.com/q"},"#
                + #"{"on":["dead"],"email":["z@example.com","ops@example.com"]}]}"#
            let id = try await cluster.api(follower).post("/api/jobs", data: Data(body.utf8)).expect(201, as: Created.self).id
            let expected = [JobWithRules.Rule(on: ["dead", "timed_out"], webhook: "https://hooks.example.com/q", email: nil),
                            JobWithRules.Rule(on: ["dead"], webhook: nil, email: ["ops@example.com", "z@example.com"])]
            for node in cluster.ids {
                let rules = try await eventually("job \(id) with its rules on \(node)", timeout: .seconds(15), poll: .milliseconds(100)) {
                    () -> [JobWithRules.Rule]? in
                    let response = try await cluster.api(node).get("/api/jobs/\(id)")
                    guard response.status == 200 else { return nil }
                    return try response.decode(JobWithRules.self).notify
                }
                #expect(rules == expected, "on \(node)")
            }
            let bad = #"{"name":"etl","notify":[{"on":["dead","exploded"],"webhook":"https://hooks.example.com/q"}]}"#
            let refused = try await cluster.api(follower).post("/api/jobs", data: Data(bad.utf8))
            #expect(refused.status == 422, "\(refused.text)")
            #expect(refused.text.contains("notify[0].on[1]"), "\(refused.text)")
        }
    }
}
