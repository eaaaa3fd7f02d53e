import SchedulerCore
import Testing

@Suite("Idempotency, retention, backoff, pagination")
struct LifecycleTests {
    static let day: Int64 = 86_400_000

    @Test("a repeated idempotency key returns the first job and changes nothing; another body conflicts")
    func idempotency() {
        var h = Harness()
        let stamp = IdempotencyStamp(key: "k1", bodyDigest: 42)
        h.submitOnce("a", idempotency: stamp)
        let events = h.submitOnce("b", idempotency: stamp)
        #expect(events == [.duplicateSubmit(key: "k1", existingID: "a")])
        #expect(h.state.job("b") == nil)
        #expect(h.state.jobCount == 1)
        h.submitOnce("c", idempotency: IdempotencyStamp(key: "k1", bodyDigest: 43))
        #expect(h.rejections.first?.code == .conflict)
        #expect(h.state.job("c") == nil)
        h.advance(ms: Self.day - 1)
        h.submitOnce("d", idempotency: stamp)
        #expect(h.state.job("d") == nil)
        h.advance(ms: 1)
        h.submitOnce("e", idempotency: stamp)
        #expect(h.state.job("e") != nil)
    }

    @Test("idempotency keys work for DAG submits too")
    func dagIdempotency() throws {
        var h = Harness()
        let spec = try DAGSpec.validated(name: "d", tasks: [DAGTaskSpec(id: "a")])
        let stamp = IdempotencyStamp(key: "k", bodyDigest: 1)
        h.apply(.submitDAG(SubmitDAG(dagRunID: "d1", spec: spec, idempotency: stamp)))
        let events = h.apply(.submitDAG(SubmitDAG(dagRunID: "d2", spec: spec, idempotency: stamp)))
        #expect(events == [.duplicateSubmit(key: "k", existingID: "d1")])
        #expect(h.state.dagRun("d2") == nil)
    }

    @Test("finished once jobs are removed after retention; dead ones wait in the DLQ")
    func retention() {
        var h = Harness()
        h.submitOnce("ok")
        h.submitOnce("dead", retry: RetryPolicy(maxAttempts: 1, jitter: false))
        h.submitOnce("short", retentionMs: 1_000)
        h.assign("r-ok")
        h.finish("r-ok")
        h.assign("r-dead")
        h.fail("r-dead")
        h.apply(.cancelJob("short"))
        h.advance(ms: 1_000)
        #expect(h.state.job("short") == nil)
        #expect(h.lastEvents.contains(.removed(id: "short")))
        h.advance(ms: 7 * Self.day - 1_001)
        #expect(h.state.job("ok") != nil)
        h.advance(ms: 1)
        #expect(h.state.job("ok") == nil)
        #expect(h.state.run("r-ok") == nil)
        #expect(h.state.job("dead") != nil)
        h.apply(.requeue("r-dead"))
        h.assign("r-dead")
        h.finish("r-dead")
        h.advance(ms: 7 * Self.day)
        #expect(h.state.job("dead") == nil)
        #expect(h.state.jobCount == 0)
        #expect(h.state.runCount == 0)
    }

    @Test("finished DAG runs are removed after retention with their task runs")
    func dagRetention() throws {
        var h = Harness()
        let spec = try DAGSpec.validated(name: "d", tasks: [DAGTaskSpec(id: "a")])
        h.apply(.submitDAG(SubmitDAG(dagRunID: "d1", spec: spec, retentionMs: 10_000)))
        h.assign("d1.a")
        h.finish("d1.a")
        h.advance(ms: 9_999)
        #expect(h.state.dagRun("d1") != nil)
        h.advance(ms: 1)
        #expect(h.state.dagRun("d1") == nil)
        #expect(h.state.run("d1.a") == nil)
    }

    @Test("backoff: exponential, capped, jitter deterministic in [0.5, 1.0)")
    func backoff() {
        let plain = RetryPolicy(initialBackoffMs: 1_000, multiplier: 2, maxBackoffMs: 10_000, jitter: false)
        #expect((1...6).map { Backoff.delayMs(policy: plain, runID: "r", attempt: $0) } == [1_000, 2_000, 4_000, 8_000, 10_000, 10_000])
        #expect(Backoff.delayMs(policy: plain, runID: "r", attempt: 10_000) == 10_000)
        let jittered = RetryPolicy(initialBackoffMs: 1_000, multiplier: 2, maxBackoffMs: 300_000, jitter: true)
        for attempt in 1...8 {
            let base = Backoff.delayMs(policy: RetryPolicy(initialBackoffMs: 1_000, multiplier: 2, maxBackoffMs: 300_000, jitter: false),
                                       runID: "run-7", attempt: attempt)
            let d = Backoff.delayMs(policy: jittered, runID: "run-7", attempt: attempt)
            #expect(d >= base / 2 && d < base)
            #expect(d == Backoff.delayMs(policy: jittered, runID: "run-7", attempt: attempt))
        }
        // Degenerate policies return at once instead of looping `attempt` times.
        #expect(Backoff.delayMs(policy: RetryPolicy(initialBackoffMs: 0, jitter: false), runID: "r", attempt: Int.max) == 0)
        #expect(Backoff.delayMs(policy: RetryPolicy(initialBackoffMs: 5, multiplier: 1, jitter: false), runID: "r", attempt: Int.max) == 5)
        // Pinned values: a change here breaks replicas of different versions.
        #expect(Backoff.fnv1a64("a") == 0xaf63dc4c8601ec8c)
        #expect(Backoff.delayMs(policy: jittered, runID: "r", attempt: 1) == Backoff.delayMs(policy: jittered, runID: "r", attempt: 1))
    }

    @Test("lists are newest first with a cursor, filtered by state and label")
    func pagination() {
        var h = Harness()
        for i in 0..<7 {
            h.submitOnce("j\(i)", labels: i.isMultiple(of: 2) ? [KeyValue("team", "data")] : [])
        }
        h.assign("r-j3")
        let first = h.state.listJobs(limit: 3)
        #expect(first.items.map(\.id.rawValue) == ["j6", "j5", "j4"])
        let second = h.state.listJobs(limit: 3, cursor: first.nextCursor)
        #expect(second.items.map(\.id.rawValue) == ["j3", "j2", "j1"])
        let third = h.state.listJobs(limit: 3, cursor: second.nextCursor)
        #expect(third.items.map(\.id.rawValue) == ["j0"])
        #expect(third.nextCursor == nil)
        #expect(h.state.listJobs(filter: JobFilter(state: "running"), limit: 10).items.map(\.id) == ["j3"])
        #expect(h.state.listJobs(filter: JobFilter(label: KeyValue("team", "data")), limit: 10).items.map(\.id)
            == ["j6", "j4", "j2", "j0"])
    }

    @Test("DAG lists filter by state")
    func dagList() throws {
        var h = Harness()
        let spec = try DAGSpec.validated(name: "d", tasks: [DAGTaskSpec(id: "a")])
        h.apply(.submitDAG(SubmitDAG(dagRunID: "d1", spec: spec)))
        h.apply(.submitDAG(SubmitDAG(dagRunID: "d2", spec: spec)))
        h.apply(.cancelDAG("d1"))
        #expect(h.state.listDAGRuns(limit: 10).items.map(\.id) == ["d2", "d1"])
        #expect(h.state.listDAGRuns(state: .cancelled, limit: 10).items.map(\.id) == ["d1"])
    }

    @Test("invalid specs are rejected with the field named")
    func invalidSpec() {
        var h = Harness()
        h.submitOnce("a", retry: RetryPolicy(maxAttempts: 0))
        #expect(h.rejections.first?.code == .invalid)
        #expect(h.rejections.first?.message.contains("retry.max_attempts") == true)
        h.submitOnce("b")
        h.submitOnce("b")
        #expect(h.rejections.first?.code == .conflict)
    }
}
