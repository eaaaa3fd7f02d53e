import SchedulerCore
import Testing

@Suite("DAGs: validation, progress, skip propagation, reopen")
struct DAGTests {
    /// extract → transform → load, extract → audit
    static func etl(maxAttempts: Int = 1) throws -> DAGSpec {
        let retry = RetryPolicy(maxAttempts: maxAttempts, jitter: false)
        return try DAGSpec.validated(name: "etl", tasks: [
            DAGTaskSpec(id: "extract", retry: retry),
            DAGTaskSpec(id: "transform", dependsOn: ["extract"], retry: retry),
            DAGTaskSpec(id: "load", dependsOn: ["transform"], retry: retry),
            DAGTaskSpec(id: "audit", dependsOn: ["extract"], retry: retry),
        ])
    }

    @Test("an unknown dependency names the field")
    func unknownDependency() {
        #expect {
            try DAGSpec.validated(name: "d", tasks: [
                DAGTaskSpec(id: "a"), DAGTaskSpec(id: "b", dependsOn: ["a"]), DAGTaskSpec(id: "c", dependsOn: ["zzz"]),
            ])
        } throws: { error in
            let e = error as? DAGValidationError
            return e?.field == "tasks[2].depends_on" && e?.kind == .invalid && (e?.message.contains("zzz") ?? false)
        }
    }

    @Test("a cycle is named in the message")
    func cycle() {
        do {
            _ = try DAGSpec.validated(name: "d", tasks: [
                DAGTaskSpec(id: "a", dependsOn: ["c"]), DAGTaskSpec(id: "b", dependsOn: ["a"]),
                DAGTaskSpec(id: "c", dependsOn: ["b"]), DAGTaskSpec(id: "x"),
            ])
            Issue.record("expected a cycle error")
        } catch {
            #expect(error.kind == .cycle)
            #expect(error.message.contains("a -> b -> c -> a"))
        }
        do {
            _ = try DAGSpec.validated(name: "d", tasks: [DAGTaskSpec(id: "a", dependsOn: ["b"]), DAGTaskSpec(id: "b", dependsOn: ["a"])])
            Issue.record("expected a cycle error")
        } catch {
            #expect(error.message.contains("a -> b -> a"))
        }
    }

    @Test("duplicate and empty ids are rejected")
    func duplicates() {
        #expect(throws: DAGValidationError.self) {
            try DAGSpec.validated(name: "d", tasks: [DAGTaskSpec(id: "a"), DAGTaskSpec(id: "a")])
        }
        #expect(throws: DAGValidationError.self) { try DAGSpec.validated(name: "d", tasks: []) }
        do {
            _ = try DAGSpec.validated(name: "d", tasks: [DAGTaskSpec(id: "a"), DAGTaskSpec(id: "a")])
        } catch {
            #expect(error.field == "tasks[1].id")
        }
    }

    @Test("tasks are queued when all dependencies succeeded; the DAG succeeds at the end")
    func happyPath() throws {
        var h = Harness()
        h.apply(.submitDAG(SubmitDAG(dagRunID: "d1", spec: try Self.etl())))
        #expect(h.runState("d1.extract") == .queued)
        #expect(h.runState("d1.transform") == .pending)
        #expect(h.state.runsToAssign(limit: 10).map(\.runID) == ["d1.extract"])
        h.assign("d1.extract")
        h.finish("d1.extract")
        #expect(h.runState("d1.transform") == .queued)
        #expect(h.runState("d1.audit") == .queued)
        #expect(h.runState("d1.load") == .pending)
        for task in ["transform", "audit", "load"] {
            h.assign("d1." + task)
            h.finish("d1." + task)
        }
        #expect(h.state.dagRun("d1")?.state == .succeeded)
        #expect(h.lastEvents.contains(.dagChanged("d1", .succeeded)))
        let tasks = try #require(h.state.dagTasks("d1"))
        #expect(tasks.map(\.state) == [.succeeded, .succeeded, .succeeded, .succeeded])
        #expect(tasks[2].dependsOn == ["transform"])
    }

    @Test("a dead task skips its downstream tasks transitively; the DAG fails when all are terminal")
    func skipPropagation() throws {
        var h = Harness()
        h.apply(.submitDAG(SubmitDAG(dagRunID: "d1", spec: try Self.etl())))
        h.assign("d1.extract")
        h.finish("d1.extract")
        h.assign("d1.transform")
        h.fail("d1.transform")
        #expect(h.runState("d1.transform") == .dead)
        #expect(h.runState("d1.load") == .skipped)
        #expect(h.runState("d1.audit") == .queued)
        #expect(h.state.dagRun("d1")?.state == .running)
        h.assign("d1.audit")
        h.finish("d1.audit")
        #expect(h.state.dagRun("d1")?.state == .failed)
        let dlq = h.state.listDLQ(limit: 10).items
        #expect(dlq.map(\.runID) == ["d1.transform"])
        #expect(dlq.first?.taskID == "transform")
        #expect(dlq.first?.dagRunID == "d1")
    }

    @Test("requeue of a dead task reopens the DAG: skipped dependents return to pending")
    func requeueReopens() throws {
        var h = Harness()
        h.apply(.submitDAG(SubmitDAG(dagRunID: "d1", spec: try Self.etl())))
        h.assign("d1.extract")
        h.finish("d1.extract")
        h.assign("d1.audit")
        h.finish("d1.audit")
        h.assign("d1.transform")
        h.fail("d1.transform")
        #expect(h.state.dagRun("d1")?.state == .failed)
        let events = h.apply(.requeue("d1.transform"))
        #expect(events.contains(.dagChanged("d1", .running)))
        #expect(h.runState("d1.transform") == .queued)
        #expect(h.runState("d1.load") == .pending)
        #expect(h.state.dagRun("d1")?.state == .running)
        h.assign("d1.transform")
        #expect(h.state.run("d1.transform")?.attempt == 2)
        h.finish("d1.transform")
        #expect(h.runState("d1.load") == .queued)
        h.assign("d1.load")
        h.finish("d1.load")
        #expect(h.state.dagRun("d1")?.state == .succeeded)
    }

    @Test("a skipped task with another dead dependency stays skipped after a requeue")
    func partialReopen() throws {
        var h = Harness()
        let retry = RetryPolicy(maxAttempts: 1, jitter: false)
        let spec = try DAGSpec.validated(name: "d", tasks: [
            DAGTaskSpec(id: "a", retry: retry), DAGTaskSpec(id: "b", retry: retry),
            DAGTaskSpec(id: "c", dependsOn: ["a", "b"], retry: retry),
        ])
        h.apply(.submitDAG(SubmitDAG(dagRunID: "d", spec: spec)))
        h.assign("d.a")
        h.fail("d.a")
        h.assign("d.b")
        h.fail("d.b")
        #expect(h.runState("d.c") == .skipped)
        h.apply(.requeue("d.a"))
        #expect(h.runState("d.c") == .skipped)
        h.apply(.requeue("d.b"))
        #expect(h.runState("d.c") == .pending)
    }

    @Test("cancel a DAG run: running tasks are stopped, the rest cancelled")
    func cancelDAG() throws {
        var h = Harness()
        h.apply(.submitDAG(SubmitDAG(dagRunID: "d1", spec: try Self.etl())))
        h.assign("d1.extract")
        let events = h.apply(.cancelDAG("d1"))
        #expect(events.contains(.stopAttempt(runID: "d1.extract", attempt: 1, executor: "n2")))
        #expect(h.state.dagRun("d1")?.state == .cancelled)
        #expect(try #require(h.state.dagTasks("d1")).allSatisfy { $0.state == .cancelled })
        h.apply(.cancelDAG("d1"))
        #expect(h.rejections.first?.code == .conflict)
        h.finish("d1.extract", attempt: 1)
        #expect(h.state.counters.staleReports == 1)
    }

    @Test("a cron-scheduled DAG starts a new DAG run per fire; its runs carry the job")
    func cronDAG() throws {
        var h = Harness()
        h.submitCron("nightly", firstFireAt: h.clock, concurrency: .forbid, dag: try Self.etl())
        h.apply(.fireCron(FireCron(jobID: "nightly", scheduledAt: h.clock, nextFireAt: h.clock + 86_400_000, runID: "n-1")))
        #expect(h.state.dagRun("n-1")?.jobID == "nightly")
        #expect(h.state.run("n-1.extract")?.jobID == "nightly")
        #expect(h.state.job("nightly")?.activeRuns == ["n-1"])
        h.assign("n-1.extract")
        #expect(h.state.attempts(ofJob: "nightly").first?.dagRunID == "n-1")
        // forbid: the DAG run is still active
        h.apply(.trigger(TriggerJob(jobID: "nightly", runID: "n-2")))
        #expect(h.rejections.first?.code == .conflict)
        h.finish("n-1.extract")
        for task in ["transform", "audit", "load"] {
            h.assign("n-1." + task)
            h.finish("n-1." + task)
        }
        #expect(h.state.dagRun("n-1")?.state == .succeeded)
        #expect(h.state.job("nightly")?.activeRuns == [])
        #expect(h.state.job("nightly")?.lastRun?.state == .succeeded)
    }

    @Test("a DAG id that exists is a conflict")
    func duplicateDAG() throws {
        var h = Harness()
        h.apply(.submitDAG(SubmitDAG(dagRunID: "d1", spec: try Self.etl())))
        h.apply(.submitDAG(SubmitDAG(dagRunID: "d1", spec: try Self.etl())))
        #expect(h.rejections.first?.code == .conflict)
    }
}

@Suite("DAG id collisions")
struct DAGCollisionTests {
    @Test("a DAG whose derived task run id is taken is rejected, not a crash")
    func derivedIDCollision() throws {
        var h = Harness()
        h.apply(.submitJob(SubmitJob(jobID: "j", spec: JobSpec(name: "j"), runID: "x.a")))
        let spec = try DAGSpec.validated(name: "d", tasks: [DAGTaskSpec(id: "a")])
        h.apply(.submitDAG(SubmitDAG(dagRunID: "x", spec: spec)))
        #expect(h.rejections.first?.code == .conflict)
        #expect(h.state.dagRun("x") == nil)
        h.submitCron("c", firstFireAt: h.clock, dag: spec)
        h.apply(.fireCron(FireCron(jobID: "c", scheduledAt: h.clock, nextFireAt: nil, runID: "x")))
        #expect(h.rejections.first?.code == .conflict)
    }

    @Test("a long chain validates without deep recursion; ready tasks are found in order")
    func longChain() throws {
        let n = 20_000
        let tasks = (0..<n).map { i in DAGTaskSpec(id: "t\(i)", dependsOn: i == 0 ? [] : ["t\(i - 1)"]) }
        let spec = try DAGSpec.validated(name: "chain", tasks: tasks)
        #expect(spec.topologicalOrder.prefix(3) == [0, 1, 2])
        var cyclic = tasks
        cyclic[0].dependsOn = ["t\(n - 1)"]
        #expect(throws: DAGValidationError.self) { try DAGSpec.validated(name: "ring", tasks: cyclic) }
    }

    @Test("a wide DAG validates quickly; the topological order prefers lower indices")
    func wide() throws {
        let tasks = (0..<20_000).map { DAGTaskSpec(id: "t\($0)", dependsOn: $0 < 2 ? [] : ["t\($0 % 2)"]) }
        let spec = try DAGSpec.validated(name: "wide", tasks: tasks)
        #expect(spec.topologicalOrder.prefix(4) == [0, 1, 2, 3])
        #expect(spec.dependents[0].count == 9_999)
    }
}
