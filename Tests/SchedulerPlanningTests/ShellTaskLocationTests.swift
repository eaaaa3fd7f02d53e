import SchedulerCore
import SchedulerPlanning
import Testing

/// Where a command holds shell tasks, named as the API names the fields: what the leader checks
/// against the executor policy before proposing (issue #13).
@Suite("Shell tasks in a command, by field")
struct ShellTaskLocationTests {
    let shell = ShellTask(argv: ["/bin/echo", "hi"], workingDirectory: "/tmp")

    @Test("a job's task, a DAG's tasks, a scheduled DAG's tasks, batch items and wrapped commands")
    func locations() throws {
        let job = Command.submitJob(SubmitJob(jobID: "j", spec: JobSpec(name: "j", task: .shell(shell)), runID: "r"))
        #expect(ShellTaskLocation.all(in: job) == [ShellTaskLocation(batchIndex: nil, field: "task", task: shell)])

        let dag = try DAGSpec.validated(name: "d", tasks: [DAGTaskSpec(id: "a"), DAGTaskSpec(id: "b", task: .shell(shell))])
        #expect(ShellTaskLocation.all(in: .submitDAG(SubmitDAG(dagRunID: "d1", spec: dag))).map(\.field) == ["tasks[1].task"])
        let scheduled = Command.submitJob(SubmitJob(jobID: "c", spec: JobSpec(name: "c", dag: dag), runID: "r"))
        #expect(ShellTaskLocation.all(in: scheduled).map(\.field) == ["tasks[1].task"])

        let noop = Command.submitJob(SubmitJob(jobID: "n", spec: JobSpec(name: "n"), runID: "rn"))
        let batch = Command.batch([noop, job, noop, job])
        #expect(ShellTaskLocation.all(in: batch).map(\.batchIndex) == [1, 3])
        #expect(ShellTaskLocation.all(in: .idempotent(IdempotencyStamp(key: "k", bodyDigest: 1), job)).count == 1)
        #expect(ShellTaskLocation.all(in: noop).isEmpty)
        #expect(ShellTaskLocation.all(in: .cancelJob("j")).isEmpty)
    }
}
