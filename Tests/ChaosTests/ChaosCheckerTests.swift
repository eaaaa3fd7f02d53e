import Chaos
import Testing

/// The checker on planted histories: each kind of anomaly is reported (and counted once), and a
/// clean history passes. CPU only: no processes, no sockets.
@Suite("Chaos checker")
struct ChaosCheckerTests {
    /// An acknowledged submit of `id` under `key`, invoked at `at` and acknowledged 0.1 s later.
    private func submit(_ op: Int, _ id: String, key: String, at: Double = 0, kind: OperationKind = .submitJob) -> Operation {
        Operation(op: op, kind: kind, invokedAt: at, completedAt: at + 0.1, completion: .ok, key: key, id: id)
    }

    private func read(_ op: Int, _ id: String, _ state: String, attempt: Int = 1, from: Double, to: Double) -> Operation {
        Operation(op: op, kind: .read, invokedAt: from, completedAt: to, completion: .ok, id: id, state: state, attempt: attempt)
    }

    private let done = JobObservation(state: "succeeded", attempts: ["succeeded"])

    @Test("a clean history passes with zero counts and the exact verdict line")
    func clean() {
        let history = [submit(1, "j1", key: "k1"), read(2, "j1", "running", from: 1, to: 1.1), read(3, "j1", "succeeded", from: 2, to: 2.1)]
        let result = ChaosChecker.check(history, FinalObservations(jobs: ["j1": done], ledger: ["k1"],
                                                                   digests: ["n1": [7: "aa"], "n2": [7: "aa"]], tags: ["j1": "k1"]))
        #expect(result.verdict.passed, "\(result.verdict.findings)")
        #expect(result.verdict.line(jobs: result.ackedJobs, dags: result.ackedDAGs, faults: 3, seed: 42)
            == "chaos: 1 acked jobs, 0 DAGs, 3 faults; lost 0, duplicates 0, order violations 0, disagreements 0, non-linearizable 0, stuck 0, unknown 0 (seed 42)")
    }

    @Test("an acknowledged job missing after healing is lost")
    func lostJob() {
        let result = ChaosChecker.check([submit(1, "j1", key: "k1"), submit(2, "j2", key: "k2")],
                                        FinalObservations(jobs: ["j1": done, "j2": JobObservation(state: "missing", attempts: [])]))
        #expect(result.verdict.lost == 1)
        #expect(result.verdict.findings.contains { $0.hasPrefix("lost: job j2") })
        #expect(!result.verdict.passed)
    }

    @Test("a job completed twice, two jobs for one key, and an unexplained execution are duplicates")
    func duplicates() {
        let twice = JobObservation(state: "succeeded", attempts: ["lost", "succeeded", "succeeded"])
        let history = [submit(1, "j1", key: "k1"), submit(2, "j2", key: "k2"), submit(3, "j3", key: "k2"), submit(4, "j4", key: "k4")]
        let result = ChaosChecker.check(history, FinalObservations(
            jobs: ["j1": twice, "j2": done, "j3": done, "j4": done],
            ledger: ["k4", "k4"], tags: ["j4": "k4"]))
        #expect(result.verdict.duplicates == 3, "\(result.verdict.findings)")
        #expect(result.verdict.findings.contains { $0.contains("job j1") && $0.contains("completed 2 times") })
        #expect(result.verdict.findings.contains { $0.contains("key k2 created") })
        #expect(result.verdict.findings.contains { $0.contains("job j4") && $0.contains("ran 2 times") })
    }

    @Test("an execution explained by a lost attempt is at-least-once, not a duplicate")
    func retriedExecution() {
        let result = ChaosChecker.check([submit(1, "j1", key: "k1")], FinalObservations(
            jobs: ["j1": JobObservation(state: "succeeded", attempts: ["lost", "succeeded"])], ledger: ["k1", "k1"], tags: ["j1": "k1"]))
        #expect(result.verdict.passed, "\(result.verdict.findings)")
    }

    @Test("a stale read (an earlier state after a later one was seen) is non-linearizable")
    func staleRead() {
        let history = [submit(1, "j1", key: "k1"), read(2, "j1", "succeeded", from: 1, to: 1.2),
                       read(3, "j1", "running", from: 1.5, to: 1.6),
                       // Concurrent with op 2: may see the older state.
                       read(4, "j1", "running", from: 1.1, to: 1.3)]
        let result = ChaosChecker.check(history, FinalObservations(jobs: ["j1": done]))
        #expect(result.verdict.nonLinearizable == 1, "\(result.verdict.findings)")
        #expect(result.verdict.findings.contains { $0.contains("read op 3") })
    }

    @Test("a retry waiting with the same attempt number is not a step back; a lower attempt is")
    func retryOrder() {
        let history = [submit(1, "j1", key: "k1"), read(2, "j1", "running", attempt: 1, from: 1, to: 1.1),
                       read(3, "j1", "pending", attempt: 1, from: 2, to: 2.1), read(4, "j1", "running", attempt: 2, from: 3, to: 3.1),
                       read(5, "j1", "queued", attempt: 1, from: 4, to: 4.1)]
        let result = ChaosChecker.check(history, FinalObservations(jobs: ["j1": done]))
        #expect(result.verdict.nonLinearizable == 1, "\(result.verdict.findings)")
        #expect(result.verdict.findings.contains { $0.contains("read op 5") })
    }

    @Test("a read after an acknowledged submit that misses the job, or after an acknowledged cancel that shows it running")
    func readsAfterAcknowledgedWrites() {
        let cancel = Operation(op: 3, kind: .cancel, invokedAt: 1, completedAt: 1.2, completion: .ok, id: "j1")
        let history = [submit(1, "j1", key: "k1"), read(2, "j1", "missing", from: 0.5, to: 0.6), cancel,
                       read(4, "j1", "running", from: 1.5, to: 1.6)]
        let result = ChaosChecker.check(history, FinalObservations(jobs: ["j1": JobObservation(state: "cancelled", attempts: ["cancelled"])]))
        // One job without a linearization, counted once; the finding blames both reads.
        #expect(result.verdict.nonLinearizable == 1, "\(result.verdict.findings)")
        #expect(result.verdict.findings.contains { $0.contains("read op 2") && $0.contains("read op 4") })
    }

    @Test("the search sees what no pairwise check sees: a read showing a cancel before the cancel was invoked")
    func cancelledTooEarly() {
        let cancel = Operation(op: 3, kind: .cancel, invokedAt: 2, completedAt: 2.2, completion: .ok, id: "j1")
        let history = [submit(1, "j1", key: "k1"), read(2, "j1", "cancelled", from: 1, to: 1.5), cancel]
        let result = ChaosChecker.check(history, FinalObservations(jobs: ["j1": JobObservation(state: "cancelled", attempts: ["cancelled"])]))
        #expect(result.verdict.nonLinearizable == 1, "\(result.verdict.findings)")
        #expect(result.verdict.findings.contains { $0.contains("no order of its operations explains every read") })
    }

    @Test("an unknown-outcome submit under the job's key explains a read before the acknowledged retry")
    func unknownSubmitExplainsEarlyRead() {
        let timedOut = Operation(op: 1, kind: .submitJob, invokedAt: 0, completedAt: 4, completion: .info, key: "k1")
        let retry = Operation(op: 3, kind: .submitJob, invokedAt: 4.5, completedAt: 5, completion: .ok, key: "k1", id: "j1")
        let history = [timedOut, read(2, "j1", "pending", attempt: 0, from: 1, to: 2), retry]
        let result = ChaosChecker.check(history, FinalObservations(jobs: ["j1": done]))
        #expect(result.verdict.passed, "\(result.verdict.findings)")
    }

    @Test("a DAG task that started before its dependency finished, or ran first in the ledger, is an order violation")
    func dagOrder() {
        let tasks = [
            DAGTaskObservation(id: "a", state: "succeeded", dependsOn: [], attempt: 1, startedAt: 1_000, finishedAt: 2_000),
            DAGTaskObservation(id: "b", state: "succeeded", dependsOn: ["a"], attempt: 1, startedAt: 1_500, finishedAt: 2_500),
            DAGTaskObservation(id: "c", state: "succeeded", dependsOn: ["a"], attempt: 1, startedAt: 2_100, finishedAt: 2_600),
        ]
        let tags = ["d1/a": "k/a", "d1/b": "k/b", "d1/c": "k/c"]
        let result = ChaosChecker.check([submit(1, "d1", key: "k", kind: .submitDAG)], FinalObservations(
            dags: ["d1": DAGObservation(state: "succeeded", tasks: tasks)], ledger: ["k/c", "k/a", "k/b"], tags: tags))
        #expect(result.verdict.orderViolations == 2, "\(result.verdict.findings)")
        #expect(result.verdict.findings.contains { $0.contains("task b") && $0.contains("before a finished") })
        #expect(result.verdict.findings.contains { $0.contains("task c") && $0.contains("ledger") })
        #expect(result.ackedDAGs == 1)
    }

    @Test("replicas with different digests at one applied index disagree; a node never comparable is unknown")
    func digests() {
        let result = ChaosChecker.check([], FinalObservations(digests: [
            "n1": [10: "aa", 11: "bb"], "n2": [10: "aa"], "n3": [10: "ff"], "n4": [99: "cc"],
        ]))
        #expect(result.verdict.disagreements == 1, "\(result.verdict.findings)")
        #expect(result.verdict.findings.contains { $0.contains("[\"n3\"]") })
        #expect(result.verdict.unknown == 1)
    }

    @Test("a job not terminal after healing is stuck; an unreadable one, or an unresolved key's unlistable jobs, is unknown")
    func stuckAndUnknown() {
        let result = ChaosChecker.check([submit(1, "j1", key: "k1"), submit(2, "j2", key: "k2")], FinalObservations(
            jobs: ["j1": JobObservation(state: "running", attempts: ["running"]), "j2": JobObservation?.none],
            jobsByUnresolvedKey: ["k3": [String]?.none, "k4": ["j9"]]))
        #expect(result.verdict.stuck == 1)
        #expect(result.verdict.unknown == 2, "\(result.verdict.findings)")
        #expect(result.verdict.duplicates == 0)
    }

    @Test("two attempts of a forbid job running at once are an order violation; one after a lost attempt is not")
    func forbidOverlap() {
        let runs = [
            RunObservation(runID: "r3", attempt: 1, outcome: nil, startedAt: 9_000, finishedAt: nil),
            RunObservation(runID: "r2", attempt: 1, outcome: "succeeded", startedAt: 5_500, finishedAt: 7_000),
            RunObservation(runID: "r1", attempt: 1, outcome: "succeeded", startedAt: 4_000, finishedAt: 6_000),
            RunObservation(runID: "r0", attempt: 1, outcome: "lost", startedAt: 1_000, finishedAt: nil),
            RunObservation(runID: "r1", attempt: 0, outcome: nil, startedAt: nil, finishedAt: nil),
        ]
        let result = ChaosChecker.check([], FinalObservations(forbidRuns: ["c1": runs, "c2": [RunObservation]?.none]))
        #expect(result.verdict.orderViolations == 1, "\(result.verdict.findings)")
        #expect(result.verdict.findings.contains { $0.hasPrefix("forbid: job c1 run r2 attempt 1 started at 5500 while run r1") })
        #expect(result.verdict.unknown == 1)
        let clean = ChaosChecker.check([], FinalObservations(forbidRuns: ["c1": Array(runs.dropFirst(2))]))
        #expect(clean.verdict.passed, "\(clean.verdict.findings)")
    }

    @Test("attempts of a forbid job that share a start stamp overlap only if the first to finish ended after it")
    func forbidTiesOnTheStartStamp() {
        // Scheduler time stands still while a jumped leader stamps the majority's time: r1 ran
        // and ended within stamp 5000, then r2 started at 5000. Listed either way round.
        let touching = [
            RunObservation(runID: "r2", attempt: 1, outcome: "succeeded", startedAt: 5_000, finishedAt: 6_600),
            RunObservation(runID: "r1", attempt: 1, outcome: "failed", startedAt: 5_000, finishedAt: 5_000),
        ]
        for runs in [touching, touching.reversed()] {
            let result = ChaosChecker.check([], FinalObservations(forbidRuns: ["c1": runs]))
            #expect(result.verdict.passed, "\(result.verdict.findings)")
        }
        let overlapping = [
            RunObservation(runID: "r1", attempt: 1, outcome: "succeeded", startedAt: 5_000, finishedAt: 5_100),
            RunObservation(runID: "r2", attempt: 1, outcome: "succeeded", startedAt: 5_000, finishedAt: 6_600),
        ]
        let result = ChaosChecker.check([], FinalObservations(forbidRuns: ["c1": overlapping]))
        #expect(result.verdict.orderViolations == 1, "\(result.verdict.findings)")
        #expect(result.verdict.findings.first?.contains("outcomes succeeded then succeeded, the later finished at 6600") == true,
                "\(result.verdict.findings)")
    }

    @Test("stale reads are monotonic per node process: a step back on one node is reported, across nodes or a restart it is not")
    func staleReadSessions() {
        func stale(_ op: Int, _ node: String, _ state: String, attempt: Int = 1, at: Double) -> Operation {
            Operation(op: op, kind: .staleRead, node: node, invokedAt: at, completedAt: at + 0.1, completion: .ok, id: "j1",
                      state: state, attempt: attempt)
        }
        let history = [submit(1, "j1", key: "k1"),
                       stale(2, "n1", "succeeded", at: 1), stale(3, "n2", "running", at: 2), // another node may lag
                       stale(4, "n1", "running", at: 3), // n1 stepped back: reported
                       stale(5, "n3", "running", at: 4), stale(6, "n3", "missing", at: 6), // n3 was killed at 5: a new session
                       stale(7, "n2", "missing", at: 7)] // n2 lost the job it showed: reported
        let entries = [HistoryEntry(type: "invoke", op: 99, process: -1, f: "nemesis", node: "n3,n2", time: 5, detail: "start stop [n3,n2]"),
                       HistoryEntry(type: "invoke", op: 100, process: -1, f: "nemesis", node: "n3", time: 5, detail: "start kill [n3]")]
        let ends = Operation.processEnds(entries)
        #expect(ends == ["n3": [5]])
        let result = ChaosChecker.check(history, FinalObservations(jobs: ["j1": done]), processEnds: ends)
        #expect(result.verdict.nonLinearizable == 2, "\(result.verdict.findings)")
        #expect(result.verdict.findings.contains { $0.contains("op 4 of j1 on n1") })
        #expect(result.verdict.findings.contains { $0.contains("op 7 of j1 on n2") })
    }

    @Test("the history file's lines pair into operations; nemesis lines are skipped")
    func pairing() {
        let entries = [
            HistoryEntry(type: "invoke", op: 1, process: 0, f: "submit-job", node: "n1", time: 0.5, key: "k1"),
            HistoryEntry(type: "invoke", op: 2, process: -1, f: "nemesis", node: "n2", time: 0.6, detail: "start kill"),
            HistoryEntry(type: "ok", op: 1, process: 0, f: "submit-job", node: "n1", time: 0.9, id: "j1"),
            HistoryEntry(type: "invoke", op: 3, process: 1, f: "read", node: "n3", time: 1.0, id: "j1"),
        ]
        let operations = Operation.pair(entries)
        #expect(operations.count == 2)
        #expect(operations[0].id == "j1" && operations[0].completion == .ok && operations[0].completedAt == 0.9)
        #expect(operations[1].completion == nil)
    }
}
