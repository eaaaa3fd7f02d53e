import Foundation
import HTTPAPI
import QuorumTestServer
import SchedulerCore
import Testing

/// Issue #12 end to end: a dead DAG task is requeued and purged by the CLI, with a new URL-safe
/// run id and with an old one holding `/` (the CLI percent-encodes it, the server decodes it).
@Suite("quorum dlq with DAG task runs", .serialized)
struct DLQDAGTaskCommandTests {
    static let twoTasks = DAGSubmission(name: "etl", tasks: [
        DAGTaskBody(id: "a", retry: RetryBody(maxAttempts: 1)), DAGTaskBody(id: "b", dependsOn: ["a"], retry: RetryBody(maxAttempts: 1)),
    ])

    @Test("a DAG whose task died is requeued by `quorum dlq requeue` and continues; `purge` removes it")
    func requeueNewID() async throws {
        let service = TestAPIServer.makeService()
        guard case .run(let run) = try await service.submitDAG(Self.twoTasks, idempotency: nil).value else {
            Issue.record("a DAG without a schedule must start a run")
            return
        }
        let taskA = try #require(run.tasks.first?.runId)
        #expect(taskA == run.id + ".a")
        try await TestAPIServer.killAttempt(attempt: 1, ofRun: taskA, in: service)
        try await TestAPIServer.withServer(service) { url in
            let listed = try await QuorumBinary.runAsync(["dlq", "--server", url])
            #expect(listed.standardOutput.contains(taskA), "\(listed.standardOutput)")

            let requeue = try await QuorumBinary.runAsync(["dlq", "requeue", taskA, "--server", url])
            #expect(requeue.exitCode == 0, "\(requeue.standardError)")
            #expect(requeue.standardOutput.contains("requeued run \(taskA)"), "\(requeue.standardOutput)")
            try await TestAPIServer.succeedAttempt(attempt: 2, ofRun: taskA, in: service)
            let dag = try await service.dagRun(run.id, consistency: .linearizable)
            #expect(dag.state == "running")
            #expect(dag.tasks.map(\.state) == ["succeeded", "queued"])

            let status = try await QuorumBinary.runAsync(["dags", "show", run.id, "--server", url])
            #expect(status.exitCode == 0, "\(status.standardError)")

            let taskB = try #require(dag.tasks.last?.runId)
            try await TestAPIServer.killAttempt(attempt: 1, ofRun: taskB, in: service)
            let purge = try await QuorumBinary.runAsync(["dlq", "purge", taskB, "--server", url])
            #expect(purge.exitCode == 0, "\(purge.standardError)")
            #expect(try await service.listDeadLetters(PageQuery(), consistency: .linearizable).items.isEmpty)
        }
    }

    @Test("an old task run id with '/' (dn2-mxaoqw02-5/a) is requeued and purged by the CLI")
    func requeueLegacyID() async throws {
        let service = TestAPIServer.makeService()
        let spec = try DAGSpec.validated(name: "etl", tasks: [
            DAGTaskSpec(id: "a", retry: RetryPolicy(maxAttempts: 1)), DAGTaskSpec(id: "b", dependsOn: ["a"]),
        ])
        try await service.propose(.submitDAG(SubmitDAG(dagRunID: "dn2-mxaoqw02-5", spec: spec, taskRunIDStyle: .slash)))
        try await TestAPIServer.killAttempt(attempt: 1, ofRun: "dn2-mxaoqw02-5/a", in: service)
        try await TestAPIServer.withServer(service) { url in
            let requeue = try await QuorumBinary.runAsync(["dlq", "requeue", "dn2-mxaoqw02-5/a", "--server", url])
            #expect(requeue.exitCode == 0, "\(requeue.standardError)")
            #expect(try await service.dagRun("dn2-mxaoqw02-5", consistency: .linearizable).state == "running")

            try await TestAPIServer.killAttempt(attempt: 2, ofRun: "dn2-mxaoqw02-5/a", in: service)
            let purge = try await QuorumBinary.runAsync(["dlq", "purge", "dn2-mxaoqw02-5/a", "--server", url])
            #expect(purge.exitCode == 0, "\(purge.standardError)")
            #expect(purge.standardOutput.contains("purged run dn2-mxaoqw02-5/a"))
            let again = try await QuorumBinary.runAsync(["dlq", "purge", "dn2-mxaoqw02-5/a", "--server", url])
            #expect(again.exitCode == 1, "\(again.standardError)")
            #expect(again.standardError.contains("not in the dead-letter queue") || again.standardError.contains("404"), "\(again.standardError)")
        }
    }
}
