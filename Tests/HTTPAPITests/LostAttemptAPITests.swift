import Foundation
@testable import HTTPAPI
import SchedulerCore
import Testing
import SchedulerPlanning

/// `retry.max_lost_attempts` is stamped by the node that takes the request, and jobs and runs
/// show `tries` and `lost_attempts` beside `attempt` (issue #12).
@Suite("Lost attempts in the API")
struct LostAttemptAPITests {
    func plan(_ json: String) throws -> SubmissionPlanner.PlannedJob {
        try SubmissionPlanner.planJob(try StrictJSON.decode(JobSubmission.self, from: Array(json.utf8)), now: startOfTest)
    }

    @Test("the default 5 is stamped into the spec, with or without a retry object; a given value is kept")
    func stampsDefault() throws {
        #expect(try plan(#"{"name":"a"}"#).spec.retry.maxLostAttempts == 5)
        #expect(try plan(#"{"name":"a","retry":{"max_attempts":2}}"#).spec.retry.maxLostAttempts == 5)
        #expect(try plan(#"{"name":"a","retry":{"max_lost_attempts":0}}"#).spec.retry.maxLostAttempts == 0)
        #expect(try plan(#"{"name":"a","retry":{"max_lost_attempts":1000}}"#).spec.retry.maxLostAttempts == 1000)
        let dag = try StrictJSON.decode(DAGSubmission.self, from: Array(
            #"{"name":"d","tasks":[{"id":"a"},{"id":"b","retry":{"max_lost_attempts":2}}]}"#.utf8))
        guard case .run(let spec, _, _) = try SubmissionPlanner.planDAG(dag, now: startOfTest) else {
            Issue.record("not a DAG run")
            return
        }
        #expect(spec.tasks.map(\.retry.maxLostAttempts) == [5, 2])
    }

    @Test("an out-of-range value is 422 naming retry.max_lost_attempts, under tasks[i] for a DAG task")
    func validates() async throws {
        try await withAPI(makeLocalService()) { client in
            let response = try await client.send(.post, "/api/jobs", json: #"{"name":"a","retry":{"max_lost_attempts":1001}}"#)
            #expect(response.status == .unprocessableContent)
            #expect(response.apiError?.field == "retry.max_lost_attempts")
            #expect(response.apiError?.message.contains("between 0 and 1000") == true)
            let dag = try await client.send(.post, "/api/dags", json: #"{"name":"d","tasks":[{"id":"a","retry":{"max_lost_attempts":-1}}]}"#)
            #expect(dag.status == .unprocessableContent)
            #expect(dag.apiError?.field == "tasks[0].retry.max_lost_attempts")
        }
    }

    @Test("job and run resources show tries and lost_attempts beside attempt; the policy shows the cap")
    func resources() throws {
        var state = SchedulerState()
        let planned = try plan(#"{"name":"a","retry":{"max_attempts":2,"initial_backoff_ms":0,"jitter":false}}"#)
        _ = state.apply(Command.submitJob(SubmitJob(jobID: "j", spec: planned.spec, runID: "r")).withDefaults(.builtIn), at: startOfTest)
        _ = state.apply(.assignAttempt(AssignAttempt(runID: "r", executor: "n2", attempt: 1, deadline: startOfTest.adding(milliseconds: 60_000))),
                        at: startOfTest)
        _ = state.apply(.expireAttempt(ExpireAttempt(runID: "r", attempt: 1, reason: .executorLost)), at: startOfTest)
        _ = state.apply(.tick, at: startOfTest)
        _ = state.apply(.assignAttempt(AssignAttempt(runID: "r", executor: "n3", attempt: 2, deadline: startOfTest.adding(milliseconds: 60_000))),
                        at: startOfTest)
        let job = try #require(state.job("j"))
        let resource = ResourceMapper.job(job, in: state)
        #expect(resource.attempt == 2)
        #expect(resource.tries == 1)  // the running attempt; the lost one did not count
        #expect(resource.lostAttempts == 1)
        #expect(resource.retry.maxLostAttempts == 5)
        #expect(resource.runs.map(\.attempt) == [2, 1])
        #expect(resource.runs.map(\.tries) == [1, nil])  // counts belong to the run's latest attempt
        #expect(resource.runs.map(\.lostAttempts) == [1, nil])
        #expect(resource.runs.last?.outcome == "lost")
        let status = ResourceMapper.status(job, in: state)
        #expect(status.attempt == 2)
        #expect(status.tries == 1)
        #expect(status.lostAttempts == 1)
        let json = String(decoding: try JSONEncoder().encode(resource), as: UTF8.self)
        #expect(json.contains(#""tries":1"#))
        #expect(json.contains(#""lost_attempts":1"#))
        #expect(json.contains(#""max_lost_attempts":5"#))
    }

    @Test("a job from an older command shows no cap, and its lost attempts as tries")
    func olderJob() throws {
        var state = SchedulerState()
        _ = state.apply(.submitJob(SubmitJob(jobID: "j", spec: JobSpec(name: "j", runAt: startOfTest), runID: "r")), at: startOfTest)
        _ = state.apply(.assignAttempt(AssignAttempt(runID: "r", executor: "n2", attempt: 1, deadline: startOfTest.adding(milliseconds: 60_000))),
                        at: startOfTest)
        _ = state.apply(.expireAttempt(ExpireAttempt(runID: "r", attempt: 1, reason: .executorLost)), at: startOfTest)
        let resource = ResourceMapper.job(try #require(state.job("j")), in: state)
        #expect(resource.tries == 1)
        #expect(resource.lostAttempts == 0)
        #expect(resource.retry.maxLostAttempts == nil)
        #expect(!String(decoding: try JSONEncoder().encode(resource.retry), as: UTF8.self).contains("max_lost_attempts"))
    }

    @Test("a DAG task and a dead-letter item show tries and lost_attempts too")
    func dagTasksAndDeadLetters() throws {
        var state = SchedulerState()
        let dag = try StrictJSON.decode(DAGSubmission.self, from: Array(
            #"{"name":"d","tasks":[{"id":"a","retry":{"max_attempts":1,"max_lost_attempts":3,"initial_backoff_ms":0,"jitter":false}}]}"#.utf8))
        guard case .run(let spec, _, _) = try SubmissionPlanner.planDAG(dag, now: startOfTest) else {
            Issue.record("not a DAG run")
            return
        }
        _ = state.apply(.submitDAG(SubmitDAG(dagRunID: "d1", spec: spec, taskRunIDStyle: .dot)), at: startOfTest)
        let run = RunID("d1.a")
        let deadline = startOfTest.adding(milliseconds: 60_000)
        _ = state.apply(.assignAttempt(AssignAttempt(runID: run, executor: "n2", attempt: 1, deadline: deadline)), at: startOfTest)
        _ = state.apply(.expireAttempt(ExpireAttempt(runID: run, attempt: 1, reason: .executorLost)), at: startOfTest)
        _ = state.apply(.tick, at: startOfTest)
        _ = state.apply(.assignAttempt(AssignAttempt(runID: run, executor: "n3", attempt: 2, deadline: deadline)), at: startOfTest)
        let dagRun = try #require(state.dagRun("d1"))
        let task = try #require(ResourceMapper.dagRun(dagRun, in: state).tasks.first)
        #expect(task.attempt == 2)
        #expect(task.tries == 1)
        #expect(task.lostAttempts == 1)
        // The one try fails: dead, in the DLQ with 2 attempts, 1 try and 1 lost.
        _ = state.apply(.finishAttempt(FinishAttempt(runID: run, attempt: 2, report: AttemptReport(outcome: .failed, error: "exit 1"))),
                        at: startOfTest)
        let letter = try ReplicatedSchedulerService<LocalReplica>.deadLetter(run.rawValue, in: state)
        #expect(letter.attempts == 2)
        #expect(letter.tries == 1)
        #expect(letter.lostAttempts == 1)
        let json = String(decoding: try JSONEncoder().encode(letter), as: UTF8.self)
        #expect(json.contains(#""tries":1"#) && json.contains(#""lost_attempts":1"#))
    }
}
