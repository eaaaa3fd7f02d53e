@testable import HTTPAPI
import SchedulerCore
import SchedulerPlanning
import Testing

@Suite("Submission planning")
struct SubmissionPlannerTests {
    func plan(_ json: String) throws -> SubmissionPlanner.PlannedJob {
        let submission = try StrictJSON.decode(JobSubmission.self, from: Array(json.utf8))
        return try SubmissionPlanner.planJob(submission, now: startOfTest)
    }

    func problem(_ json: String) -> APIError? {
        do {
            _ = try plan(json)
            return nil
        } catch let error as APIError {
            return error
        } catch {
            return APIError(.internal, "\(error)")
        }
    }

    @Test("the seed is a cron job whose first fire is the next hour")
    func seed() throws {
        let planned = try plan(#"{"name":"example-job","type":"cron","schedule":"0 * * * *","priority":1}"#)
        #expect(planned.spec.kind == .cron)
        #expect(planned.spec.priority == 1)
        #expect(planned.firstFireAt == startOfTest.adding(milliseconds: 3_600_000))
        #expect(planned.spec.schedule == CronSchedule(expression: "0 * * * *", timezone: "UTC"))
        #expect(planned.start == .firstFireAfterStamp)  // the leader computes the first fire from its own stamp
    }

    @Test("a once job's start is what the user said: relative to the leader's stamp unless run_at is given")
    func startIsRelative() throws {
        #expect(try plan(#"{"name":"a"}"#).start == .afterStamp(milliseconds: 0))
        #expect(try plan(#"{"name":"a","delay_seconds":30.5}"#).start == .afterStamp(milliseconds: 30_500))
        #expect(try plan(#"{"name":"a","run_at":"2026-12-02T00:00:00Z"}"#).start == .at(try #require(RFC3339.parse("2026-12-02T00:00:00Z"))))
    }

    @Test("once jobs: run_at, delay_seconds, defaults")
    func once() throws {
        #expect(try plan(#"{"name":"a"}"#).spec.runAt == startOfTest)
        #expect(try plan(#"{"name":"a","delay_seconds":30}"#).spec.runAt == startOfTest.adding(milliseconds: 30_000))
        #expect(try plan(#"{"name":"a","run_at":"2026-12-02T00:00:00Z"}"#).spec.runAt == RFC3339.parse("2026-12-02T00:00:00Z"))
        let spec = try plan(#"{"name":"a","priority":-5,"task":{"kind":"sleep","seconds":0.5},"timeout_seconds":2.5,"retry":{"max_attempts":1}}"#).spec
        #expect(spec.priority == -5)
        #expect(spec.task == .sleep(milliseconds: 500))
        #expect(spec.timeoutMs == 2500)
        #expect(spec.retry.maxAttempts == 1)
    }

    @Test("a cron schedule in a zone fires by that zone's clock")
    func zone() throws {
        // 09:00Z is 10:00 in Berlin; "30 10 * * *" next fires at 10:30 Berlin = 09:30Z.
        let planned = try plan(#"{"name":"a","schedule":"30 10 * * *","timezone":"Europe/Berlin"}"#)
        #expect(planned.firstFireAt == startOfTest.adding(milliseconds: 1_800_000))
    }

    @Test("bad values are 422 naming the field", arguments: [
        (#"{"type":"once"}"#, "name"),
        (#"{"name":""}"#, "name"),
        (#"{"name":"a","type":"weekly"}"#, "type"),
        (#"{"name":"a","type":"cron"}"#, "schedule"),
        (#"{"name":"a","type":"cron","schedule":"61 * * * *"}"#, "schedule"),
        (#"{"name":"a","type":"cron","schedule":"0 0 31 2 *"}"#, "schedule"),
        (#"{"name":"a","schedule":"0 * * * *","timezone":"Mars/Olympus"}"#, "timezone"),
        (#"{"name":"a","schedule":"0 * * * *","run_at":"2026-12-02T00:00:00Z"}"#, "run_at"),
        (#"{"name":"a","schedule":"0 * * * *","delay_seconds":3}"#, "delay_seconds"),
        (#"{"name":"a","schedule":"0 * * * *","concurrency":"sometimes"}"#, "concurrency"),
        (#"{"name":"a","schedule":"0 * * * *","misfire":"later"}"#, "misfire"),
        (#"{"name":"a","type":"once","schedule":"0 * * * *"}"#, "schedule"),
        (#"{"name":"a","timezone":"UTC"}"#, "timezone"),
        (#"{"name":"a","concurrency":"forbid"}"#, "concurrency"),
        (#"{"name":"a","misfire":"skip"}"#, "misfire"),
        (#"{"name":"a","run_at":"2026-12-02T00:00:00Z","delay_seconds":3}"#, "delay_seconds"),
        (#"{"name":"a","delay_seconds":-1}"#, "delay_seconds"),
        (#"{"name":"a","priority":2.5}"#, "priority"),
        (#"{"name":"a","retry":{"max_attempts":0}}"#, "retry.max_attempts"),
        (#"{"name":"a","retry":{"multiplier":0.5}}"#, "retry.multiplier"),
        (#"{"name":"a","retry":{"initial_backoff_ms":-1}}"#, "retry.initial_backoff_ms"),
        (#"{"name":"a","retry":{"max_backoff_ms":-1}}"#, "retry.max_backoff_ms"),
        (#"{"name":"a","retry":{"max_lost_attempts":-1}}"#, "retry.max_lost_attempts"),
        (#"{"name":"a","retry":{"max_lost_attempts":1001}}"#, "retry.max_lost_attempts"),
        (#"{"name":"a","timeout_seconds":0}"#, "timeout_seconds"),
        (#"{"name":"a","task":{"kind":"shell","command":[]}}"#, "task.command"),
        (#"{"name":"a","task":{"kind":"shell","command":[""]}}"#, "task.command"),
        (#"{"name":"a","task":{"kind":"shell","command":["ls"],"env":{"A=B":"c"}}}"#, "task.env"),
        (#"{"name":"a","task":{"kind":"http","url":"ftp://example.com/x"}}"#, "task.url"),
        (#"{"name":"a","task":{"kind":"http","url":"https://"}}"#, "task.url"),
        (#"{"name":"a","task":{"kind":"http","url":"http://x","method":"GE T"}}"#, "task.method"),
        (#"{"name":"a","task":{"kind":"sleep","seconds":-1}}"#, "task.seconds"),
        (#"{"name":"a","labels":{"a:b":"c"}}"#, "labels"),
    ])
    func invalid(json: String, field: String) throws {
        let error = try #require(problem(json))
        #expect(error.code == .invalid, "\(error)")
        #expect(error.field == field, "\(error)")
    }

    @Test("a bad cron expression carries the Cron parser's message")
    func cronMessage() throws {
        let error = try #require(problem(#"{"name":"a","schedule":"61 * * * *"}"#))
        #expect(error.message.contains("61"))
        #expect(error.message.contains("minute"))
    }

    @Test("batch items are named under jobs[i]")
    func batchPrefix() throws {
        let submission = try StrictJSON.decode(JobSubmission.self, from: Array(#"{"name":"a","schedule":"bad"}"#.utf8))
        do {
            _ = try SubmissionPlanner.planJob(submission, now: startOfTest, fieldPrefix: "jobs[7]")
            Issue.record("a bad schedule was accepted")
        } catch {
            #expect(error.field == "jobs[7].schedule")
            #expect(error.code == .invalid)
        }
    }
}
