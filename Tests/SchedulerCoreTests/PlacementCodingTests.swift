import BinaryCoding
import SchedulerCore
import Testing

@Suite("Placement in the log: command format 9 (tag 23), snapshot version 7, old bytes unchanged")
struct PlacementCodingTests {
    let gpu = Placement(constraints: [KeyValue("zone", "a"), KeyValue("gpu", "true")], maxPerNode: 2)

    func graph(_ placement: Placement) throws -> DAGSpec {
        try DAGSpec.validated(name: "d", tasks: [DAGTaskSpec(id: "a"), DAGTaskSpec(id: "b", dependsOn: ["a"], placement: placement)],
                              priority: 0, labels: [])
    }

    @Test("job submits, DAG submits and edits with a placement need format 9, round-trip and keep their placement")
    func commands() throws {
        let job = Command.submitJob(SubmitJob(jobID: "j", spec: JobSpec(name: "j", historyLimit: 3, placement: gpu), runID: "r"))
        let dag = Command.submitDAG(SubmitDAG(dagRunID: "d", spec: try graph(gpu), retentionMs: 60_000))
        let cronDAG = Command.submitJob(SubmitJob(jobID: "c", spec: JobSpec(name: "c", schedule: CronSchedule(expression: "* * * * *"),
                                                                           dag: try graph(gpu)), runID: "r2"))
        let edit = Command.editJob(EditJob(jobID: "j", spec: JobSpec(name: "j", placement: gpu), expectedVersion: 1))
        for command in [job, dag, cronDAG, edit, .batch([.tick, job])] {
            #expect(command.minimumFormatVersion == CommandCodec.placement)
            let bytes = CommandCodec.encode(command, at: Timestamp(5))
            #expect(try CommandCodec.decode(bytes).command == command)
            if case .batch = command {} else { #expect(bytes[2] == 23) }
            // No downgrade: an older member would run the job anywhere, so the gate refuses it.
            #expect(command.compatible(withFormat: CommandCodec.placement - 1).minimumFormatVersion == CommandCodec.placement)
        }
        guard case .submitJob(let decoded) = try CommandCodec.decode(CommandCodec.encode(job, at: Timestamp(5))).command else {
            Issue.record("not a submit")
            return
        }
        #expect(decoded.spec.placement.constraints.map(\.key) == ["gpu", "zone"])
        #expect(decoded.spec.placement.maxPerNode == 2)
        #expect(decoded.spec.historyLimit == 3)
    }

    @Test("a command without a placement keeps its old bytes and format")
    func unchangedWithout() throws {
        let job = Command.submitJob(SubmitJob(jobID: "j", spec: JobSpec(name: "j"), runID: "r"))
        #expect(job.minimumFormatVersion == CommandCodec.baselineFormatVersion)
        let bytes = CommandCodec.encode(job, at: Timestamp(5))
        #expect(bytes[2] == 1, "the submit tag directly after the version and the stamp, no wrapper")
        #expect(try CommandCodec.decode(bytes).command == job)
    }

    @Test("tag 23 around anything but a submit or an edit is malformed, never a trap")
    func malformed() {
        var bad = CommandCodec.encode(.tick, at: Timestamp(5))
        bad.insert(23, at: bad.count - 1)
        #expect(throws: DecodeError.self) { try CommandCodec.decode(bad) }
        let job = Command.submitJob(SubmitJob(jobID: "j", spec: JobSpec(name: "j", placement: gpu), runID: "r"))
        let bytes = CommandCodec.encode(job, at: Timestamp(5))
        for cut in stride(from: 1, to: bytes.count, by: 3) {
            #expect(throws: DecodeError.self) { try CommandCodec.decode(Array(bytes.prefix(cut))) }
        }
    }

    @Test("a state with a placement snapshots as version 7 and restores it; without one the version is unchanged")
    func snapshot() throws {
        var state = SchedulerState()
        _ = state.apply(.submitJob(SubmitJob(jobID: "plain", spec: JobSpec(name: "plain"), runID: "r0")), at: Timestamp(5))
        let plain = state.snapshot()
        #expect(plain[4] < SchedulerSnapshot.versionWithEdits)
        _ = state.apply(.submitJob(SubmitJob(jobID: "j", spec: JobSpec(name: "j", placement: gpu), runID: "r")), at: Timestamp(5))
        _ = state.apply(.submitDAG(SubmitDAG(dagRunID: "d", spec: try graph(gpu), retentionMs: 60_000)), at: Timestamp(5))
        let bytes = state.snapshot()
        #expect(bytes[4] == SchedulerSnapshot.versionWithPlacement)
        let restored = try SchedulerState(snapshot: bytes)
        #expect(restored.job("j")?.spec.placement == gpu)
        #expect(restored.dagRun("d")?.spec.tasks[1].placement == gpu)
        #expect(restored.snapshot() == bytes)
        var six = bytes
        six[4] = 6
        #expect(throws: DecodeError.self) { try SchedulerState(snapshot: six) }
    }
}
