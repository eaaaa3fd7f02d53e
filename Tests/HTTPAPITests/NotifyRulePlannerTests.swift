import Foundation
import HTTPAPI
import SchedulerCore
import Testing

@Suite("notify rules on submissions: decoding and 422s naming the field")
struct NotifyRulePlannerTests {
    private func plan(_ json: String, prefix: String = "") throws -> [NotificationRule] {
        let bodies = try JSONDecoder().decode([NotifyRuleBody].self, from: Data(json.utf8))
        return try NotifyRulePlanner.rules(bodies, fieldPrefix: prefix)
    }

    private func problem(_ json: String, prefix: String = "") -> APIError? {
        do {
            _ = try plan(json, prefix: prefix)
            return nil
        } catch let error as APIError {
            return error
        } catch {
            Issue.record("not an APIError: \(error)")
            return nil
        }
    }

    @Test("the issue's example becomes two rules; repeats are dropped and recipients sorted")
    func example() throws {
        let rules = try plan(#"[{"on":["dead","dag_failed","dead"],"webhook":"https://hooks.example.com/q"},"#
                             + #"{"on":["dead"],"email":["z@example.com","ops@example.com"]}]"#)
        #expect(rules == [NotificationRule(on: [.dead, .dagFailed], webhook: "https://hooks.example.com/q"),
                          NotificationRule(on: [.dead], email: ["ops@example.com", "z@example.com"])])
        #expect(try NotifyRulePlanner.rules(nil).isEmpty)
    }

    @Test("a bad value is a 422 naming the field", arguments: [
        (#"[{"on":["dead","exploded"],"webhook":"https://h/x"}]"#, "jobs[2].notify[0].on[1]"),
        (#"[{"webhook":"https://h/x"}]"#, "jobs[2].notify[0].on"),
        (#"[{"on":[],"webhook":"https://h/x"}]"#, "jobs[2].notify[0].on"),
        (#"[{"on":["dead"]}]"#, "jobs[2].notify[0]"),
        (#"[{"on":["dead"],"webhook":"ftp://h/x"}]"#, "jobs[2].notify[0].webhook"),
        (#"[{"on":["dead"],"webhook":"https://h/a b"}]"#, "jobs[2].notify[0].webhook"),
        (#"[{"on":["dead"],"email":["ok@x.org","Ops <o@x.org>"]}]"#, "jobs[2].notify[0].email[1]"),
    ])
    func invalid(_ json: String, _ field: String) {
        let error = problem(json, prefix: "jobs[2]")
        #expect(error?.code == .invalid)
        #expect(error?.field == field, "\(String(describing: error))")
    }

    @Test("limits: at most 10 rules and 20 recipients per rule")
    func limits() {
        let rule = #"{"on":["dead"],"webhook":"https://h/x"}"#
        #expect(problem("[" + Array(repeating: rule, count: 11).joined(separator: ",") + "]")?.field == "notify")
        let many = (0..<21).map { "\"a\($0)@x.org\"" }.joined(separator: ",")
        #expect(problem(#"[{"on":["dead"],"email":["# + many + "]}]")?.field == "notify[0].email")
        let long = "https://h/" + String(repeating: "a", count: 2_048)
        #expect(problem(#"[{"on":["dead"],"webhook":""# + long + #""}]"#)?.field == "notify[0].webhook")
    }

    @Test("an unknown key in a rule is refused at decoding")
    func unknownKey() {
        #expect(throws: (any Error).self) { try plan(#"[{"on":["dead"],"webhook":"https://h/x","url":"x"}]"#) }
    }

    @Test("a job submission's notify lands in the planned spec; a bad one is a 422 under its item's prefix")
    func submission() throws {
        let body = #"{"name":"etl","notify":[{"on":["dead"],"webhook":"https://h.example.com/x"}]}"#
        let submission = try JSONDecoder().decode(JobSubmission.self, from: Data(body.utf8))
        let planned = try SubmissionPlanner.planJob(submission, now: Timestamp(milliseconds: 1_000))
        #expect(planned.spec.notify == [NotificationRule(on: [.dead], webhook: "https://h.example.com/x")])
        let bad = try JSONDecoder().decode(JobSubmission.self, from: Data(#"{"name":"etl","notify":[{"on":["dead"]}]}"#.utf8))
        #expect(throws: APIError.invalid(field: "jobs[1].notify[0]", "names no destination: give a webhook URL, email recipients, or both")) {
            try SubmissionPlanner.planJob(bad, now: Timestamp(milliseconds: 1_000), fieldPrefix: "jobs[1]")
        }
    }
}

@Suite("notify rules in job resources")
struct NotifyRuleResourceTests {
    @Test("a stored rule shows as submitted (normalised); a job without rules has no notify key")
    func resource() throws {
        let rule = NotificationRule(on: [.dead, .timedOut], webhook: "https://h.example.com/x", email: ["b@x.org", "a@x.org"])
        let body = NotifyRuleBody(rule: rule)
        #expect(body == NotifyRuleBody(on: ["dead", "timed_out"], webhook: "https://h.example.com/x", email: ["a@x.org", "b@x.org"]))
        #expect(try NotifyRulePlanner.rules([body]) == [rule])
        var state = SchedulerState()
        _ = state.apply(.submitJob(SubmitJob(jobID: "j", spec: JobSpec(name: "j", notify: [rule]), runID: "r")), at: Timestamp(milliseconds: 5))
        _ = state.apply(.submitJob(SubmitJob(jobID: "k", spec: JobSpec(name: "k"), runID: "s")), at: Timestamp(milliseconds: 5))
        let withRules = ResourceMapper.job(try #require(state.job("j")), in: state)
        let without = ResourceMapper.job(try #require(state.job("k")), in: state)
        #expect(withRules.notify == [body])
        let json = String(decoding: try JSONEncoder().encode(without), as: UTF8.self)
        #expect(!json.contains("\"notify\""))
    }
}

@Suite("notify rules in PATCH /api/jobs/{id}")
struct NotifyRulePatchTests {
    @Test("a patch without notify keeps the rules; notify replaces them whole; [] removes them; a bad one is a 422")
    func patch() throws {
        let rule = NotificationRule(on: [.dead], webhook: "https://h.example.com/x")
        var state = SchedulerState()
        _ = state.apply(.submitJob(SubmitJob(jobID: "j", spec: JobSpec(name: "j", notify: [rule]), runID: "r")), at: Timestamp(milliseconds: 5))
        let job = try #require(state.job("j"))
        let now = Timestamp(milliseconds: 10)
        #expect(try EditPlanner.plan(JobPatch(priority: .integer(3)), job: job, now: now).edit.spec.notify == [rule])
        let replaced = try EditPlanner.plan(JobPatch(notify: [NotifyRuleBody(on: ["succeeded"], email: ["a@x.org"])]), job: job, now: now)
        #expect(replaced.edit.spec.notify == [NotificationRule(on: [.succeeded], email: ["a@x.org"])])
        #expect(try EditPlanner.plan(JobPatch(notify: []), job: job, now: now).edit.spec.notify.isEmpty)
        #expect(throws: APIError.self) { try EditPlanner.plan(JobPatch(notify: [NotifyRuleBody(on: ["nope"], webhook: "https://h/x")]), job: job, now: now) }
    }
}

@Suite("notify rules on DAG submissions")
struct NotifyRuleDAGTests {
    @Test("a scheduled DAG's cron job carries the rules; a one-off DAG run carries its own; a bad rule names notify[i]")
    func dag() throws {
        let rules = [NotifyRuleBody(on: ["dag_failed"], webhook: "https://h.example.com/x")]
        let tasks = [DAGTaskBody(id: "a")]
        let now = Timestamp(milliseconds: 1_000)
        let scheduled = try SubmissionPlanner.planDAG(DAGSubmission(name: "etl", schedule: "0 * * * *", tasks: tasks, notify: rules), now: now)
        guard case .cronJob(let job) = scheduled else {
            Issue.record("not a cron job: \(scheduled)")
            return
        }
        #expect(job.spec.notify == [NotificationRule(on: [.dagFailed], webhook: "https://h.example.com/x")])
        let oneOff = try SubmissionPlanner.planDAG(DAGSubmission(name: "etl", tasks: tasks, notify: rules), now: now)
        guard case .run(_, _, let notify) = oneOff else {
            Issue.record("not a DAG run: \(oneOff)")
            return
        }
        #expect(notify == [NotificationRule(on: [.dagFailed], webhook: "https://h.example.com/x")])
        let cases: [([NotifyRuleBody], String)] = [
            ([NotifyRuleBody(on: ["dag_exploded"], webhook: "https://h.example.com/x")], "notify[0].on[0]"),
            ([NotifyRuleBody(on: ["dead"], webhook: "https://h.example.com/x"), NotifyRuleBody(on: ["dead"], webhook: "ftp://h/x")],
             "notify[1].webhook"),
            ([NotifyRuleBody(on: ["dag_failed"], email: ["not-an-address"])], "notify[0].email[0]"),
        ]
        for (bad, field) in cases {
            do {
                _ = try SubmissionPlanner.planDAG(DAGSubmission(name: "etl", tasks: tasks, notify: bad), now: now)
                Issue.record("accepted \(bad)")
            } catch {
                #expect(error.field == field, "\(error)")
            }
        }
    }
}
