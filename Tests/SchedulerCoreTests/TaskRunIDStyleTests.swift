import SchedulerCore
import Testing

/// Task run ids come from the command, so old log entries replay to their old `/` ids on every
/// build while new commands make URL-safe `.` ids (issue #12).
@Suite("Task run id styles")
struct TaskRunIDStyleTests {
    static func spec() throws -> DAGSpec {
        try DAGSpec.validated(name: "d", tasks: [DAGTaskSpec(id: "a"), DAGTaskSpec(id: "b.c", dependsOn: ["a"])])
    }

    /// The command's tag byte (after the version byte and the one-byte timestamp varint of 0).
    static func tag(_ command: Command) -> UInt8 { CommandCodec.encode(command, at: .zero)[2] }

    @Test("old tags (2, 3, 11) decode as slash and replay to '<dag>/<task>'; new ones (16, 17, 18) to '<dag>.<task>'")
    func oldEntriesKeepOldIDs() throws {
        let spec = try Self.spec()
        let old = Command.submitDAG(SubmitDAG(dagRunID: "dn2-mxaoqw02-5", spec: spec, taskRunIDStyle: .slash))
        let new = Command.submitDAG(SubmitDAG(dagRunID: "dn2-mxaoqw02-6", spec: spec))
        #expect(Self.tag(old) == 2)
        #expect(Self.tag(new) == 16)
        #expect(Self.tag(.fireCron(FireCron(jobID: "c", scheduledAt: .zero, nextFireAt: nil, runID: "r", taskRunIDStyle: .slash))) == 3)
        #expect(Self.tag(.fireCron(FireCron(jobID: "c", scheduledAt: .zero, nextFireAt: nil, runID: "r"))) == 17)
        #expect(Self.tag(.trigger(TriggerJob(jobID: "c", runID: "r", taskRunIDStyle: .slash))) == 11)
        #expect(Self.tag(.trigger(TriggerJob(jobID: "c", runID: "r"))) == 18)

        var h = Harness()
        for command in [old, new] {
            let decoded = try CommandCodec.decode(CommandCodec.encode(command, at: h.clock))
            #expect(decoded.command == command)
            h.apply(decoded.command)
        }
        #expect(h.state.dagRun("dn2-mxaoqw02-5")?.taskRunIDs == ["dn2-mxaoqw02-5/a", "dn2-mxaoqw02-5/b.c"])
        #expect(h.state.dagRun("dn2-mxaoqw02-6")?.taskRunIDs == ["dn2-mxaoqw02-6.a", "dn2-mxaoqw02-6.b.c"])
        #expect(h.runState("dn2-mxaoqw02-5/a") == .queued)
        #expect(h.runState("dn2-mxaoqw02-6.a") == .queued)
    }

    @Test("a cron DAG fire and a trigger take the style from their command")
    func cronAndTrigger() throws {
        var h = Harness()
        h.submitCron("c", firstFireAt: h.clock, dag: try Self.spec())
        h.apply(.fireCron(FireCron(jobID: "c", scheduledAt: h.clock, nextFireAt: nil, runID: "rold", taskRunIDStyle: .slash)))
        h.apply(.trigger(TriggerJob(jobID: "c", runID: "rnew")))
        #expect(h.runState("rold/a") == .queued)
        #expect(h.runState("rnew.a") == .queued)
    }

    @Test("the style survives a snapshot; the requeue of an old id works after restore")
    func snapshotKeepsStyle() throws {
        var h = Harness()
        let spec = try DAGSpec.validated(name: "d", tasks: [DAGTaskSpec(id: "a", retry: RetryPolicy(maxAttempts: 1))])
        h.apply(.submitDAG(SubmitDAG(dagRunID: "old", spec: spec, taskRunIDStyle: .slash)))
        h.apply(.submitDAG(SubmitDAG(dagRunID: "new", spec: spec)))
        h.assign("old/a")
        h.fail("old/a")
        var restored = Harness()
        restored.state = try SchedulerState(snapshot: h.state.snapshot())
        restored.clock = h.clock
        #expect(restored.state.dagRun("old")?.taskRunIDStyle == .slash)
        #expect(restored.state.dagRun("new")?.taskRunIDStyle == .dot)
        #expect(restored.runState("old/a") == .dead)
        restored.apply(.requeue("old/a"))
        #expect(restored.runState("old/a") == .queued)
        #expect(restored.state.dagRun("old")?.state == .running)
    }
}
