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

    @Test("a follower stopped, the leader killed and restarted: the new leader admits a rule submit (the stopped member counts as its recorded build)")
    func downMemberDoesNotBlockRules() async throws {
        try await TestCluster.with(nodes: 3) { cluster in
            let (leader, _) = try await cluster.waitForLeader()
            // The leader records every member's build once all reported (entry tag 29).
            try await eventually("the members' builds recorded", timeout: .seconds(30), poll: .milliseconds(100)) {
                cluster.logTail(leader, lines: 400).contains("recorded members' builds in the replicated state") ? true : nil
            }
            let others = cluster.others(than: leader)
            let stopped = try #require(others.first)
            let survivor = try #require(others.last)
            // The record must have reached the survivor before its leader goes: a rule submit
            // through it is applied there only after the record (one log).
            let first = #"{"name":"before","delay_seconds":3600,"notify":[{"on":["dead"],"webhook":"https://hooks.example.com/q"}]}"#
            _ = try await cluster.api(survivor).post("/api/jobs", data: Data(first.utf8)).expect(201, as: Created.self)
            try await cluster.kill(stopped, SIGSTOP)
            try await cluster.kill(leader, SIGKILL)
            try cluster.restart(leader)
            let (next, _) = try await cluster.waitForLeader(among: [leader, survivor], timeout: .seconds(60))
            let body = #"{"name":"after","delay_seconds":3600,"notify":[{"on":["dead"],"webhook":"https://hooks.example.com/q"}]}"#
            // Before the record a new leader answered 503 "upgrade in progress" until the stopped
            // member reported, i.e. for as long as it stayed down.
            let created = try await eventually("a rule submit admitted by \(next) with \(stopped) stopped", timeout: .seconds(30),
                                               poll: .milliseconds(200)) { () -> APIResponse? in
                let response = try await cluster.api(next).post("/api/jobs", data: Data(body.utf8))
                return response.status == 201 ? response : nil
            }
            #expect(created.status == 201)
            try await cluster.kill(stopped, SIGCONT)
        }
    }
}
