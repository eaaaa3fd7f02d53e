import Chaos
import Testing

/// The at-most-once side of cancels, and the report's measurements (per-node write refusals,
/// scheduler time behind real time), on planted histories. CPU only.
@Suite("Chaos checker: cancels, per-node write refusals, scheduler lag")
struct CancelAndMeasureTests {
    /// Boot-time seconds at the history's time zero in these histories.
    private let origin = 5_000.0

    private func submit(_ op: Int, _ id: String, key: String, at: Double) -> Operation {
        Operation(op: op, kind: .submitJob, invokedAt: at, completedAt: at + 0.1, completion: .ok, key: key, id: id)
    }

    private func cancel(_ op: Int, _ id: String, from: Double, to: Double, _ completion: Completion = .ok) -> Operation {
        Operation(op: op, kind: .cancel, node: "n2", invokedAt: from, completedAt: to, completion: completion, id: id)
    }

    private let cancelled = JobObservation(state: "cancelled", attempts: ["cancelled"])
    /// A job whose attempt the acknowledged cancel did not stop.
    private let notStopped = JobObservation(state: "cancelled", attempts: ["succeeded"])

    @Test("an execution that started after its job's cancel was acknowledged, and was not stopped by it, is an order violation")
    func executionAfterAcknowledgedCancel() {
        let history = [submit(1, "j1", key: "k1", at: 10), cancel(2, "j1", from: 10.3, to: 10.5)]
        let result = ChaosChecker.check(history, FinalObservations(
            jobs: ["j1": notStopped], ledger: ["k1 \(origin + 10.9)"], tags: ["j1": "k1"], ledgerClockOrigin: origin))
        #expect(result.verdict.orderViolations == 1, "\(result.verdict.findings)")
        #expect(result.verdict.duplicates == 0, "a timed line counts under its tag: one execution, one attempt")
        let finding = result.verdict.findings.first ?? ""
        #expect(finding.hasPrefix("order: cancelled job j1 started an execution (ledger k1) at 10.9s"), "\(finding)")
        #expect(finding.contains("0.4s after its cancel op 2 on n2 was acknowledged at 10.5s"), "\(finding)")
    }

    @Test("an execution that started before the acknowledgement, within the clock slack, or before an unknown-outcome cancel is not")
    func executionsThatMayRun() {
        let history = [submit(1, "j1", key: "k1", at: 10), cancel(2, "j1", from: 10.3, to: 10.5),
                       submit(3, "j2", key: "k2", at: 20), cancel(4, "j2", from: 20.3, to: 24.3, .info),
                       submit(5, "j3", key: "k3", at: 30), cancel(6, "j3", from: 30.3, to: 30.5)]
        let result = ChaosChecker.check(history, FinalObservations(
            jobs: ["j1": cancelled, "j2": cancelled, "j3": cancelled],
            ledger: ["k1 \(origin + 10.4)", "k2 \(origin + 25)", "k3 \(origin + 30.54)"],
            tags: ["j1": "k1", "j2": "k2", "j3": "k3"], ledgerClockOrigin: origin))
        #expect(result.verdict.passed, "\(result.verdict.findings)")
        // Without the clock origin nothing can be compared.
        let late = ChaosChecker.check(history, FinalObservations(jobs: ["j1": cancelled, "j2": cancelled, "j3": cancelled],
                                                                 ledger: ["k1 \(origin + 99)"], tags: ["j1": "k1"]))
        #expect(late.verdict.passed, "\(late.verdict.findings)")
    }

    @Test("a late start of an attempt assigned before the cancel, which the cancel stopped, is noted, not a violation")
    func lateStartStoppedByCancel() {
        let history = [submit(1, "j1", key: "k1", at: 10), cancel(2, "j1", from: 10.3, to: 10.5)]
        let result = ChaosChecker.check(history, FinalObservations(
            jobs: ["j1": cancelled], ledger: ["k1 \(origin + 10.9)"], tags: ["j1": "k1"], ledgerClockOrigin: origin))
        #expect(result.verdict.passed, "\(result.verdict.findings)")
        #expect(result.verdict.findings.contains { $0.hasPrefix("note: cancelled job j1 started an attempt assigned before its cancel") },
                "\(result.verdict.findings)")
    }

    @Test("the earliest acknowledged cancel of a job is the one that counts")
    func earliestCancel() {
        let history = [submit(1, "j1", key: "k1", at: 10), cancel(2, "j1", from: 12, to: 12.2), cancel(3, "j1", from: 10.3, to: 10.5)]
        let result = ChaosChecker.check(history, FinalObservations(
            jobs: ["j1": notStopped], ledger: ["k1 \(origin + 11)"], tags: ["j1": "k1"], ledgerClockOrigin: origin))
        #expect(result.verdict.orderViolations == 1)
        #expect(result.verdict.findings.first?.contains("cancel op 3") == true)
    }

    @Test("a ledger line is a tag, optionally followed by a start time")
    func ledgerLine() {
        #expect(LedgerLine("k1") == LedgerLine("k1"))
        #expect(LedgerLine("k1").startedAt == nil)
        #expect(LedgerLine("s1-c0-4 1234.56").tag == "s1-c0-4" && LedgerLine("s1-c0-4 1234.56").startedAt == 1234.56)
        #expect(LedgerLine("d1/a x").tag == "d1/a" && LedgerLine("d1/a x").startedAt == nil)
    }

    private func write(_ op: Int, node: String, from: Double, to: Double?, _ completion: Completion?,
                       kind: OperationKind = .submitJob) -> Operation {
        Operation(op: op, kind: kind, node: node, invokedAt: from, completedAt: to, completion: completion)
    }

    @Test("each node's longest window of refused or unknown writes, from the first not acknowledged to the next acknowledged")
    func writeRefusals() {
        let history = [
            write(1, node: "n1", from: 1, to: 1.1, .ok),
            write(2, node: "n1", from: 2, to: 2.1, .fail),
            write(3, node: "n1", from: 3, to: 7, .info),
            write(4, node: "n2", from: 3.5, to: 3.6, .ok),
            write(5, node: "n1", from: 8, to: 8.5, .ok),  // closes n1's window: 2 → 8.5
            write(6, node: "n1", from: 9, to: 9.1, .fail),
            write(7, node: "n1", from: 9.5, to: 9.6, .ok),  // a shorter one
            write(8, node: "n2", from: 4, to: 4.1, .fail, kind: .trigger),  // a 409 trigger is no refusal
            write(9, node: "n3", from: 50, to: nil, nil),  // never answered: open until the end
            write(10, node: "n3", from: 40, to: 40.2, .fail, kind: .cancel),
        ]
        let windows = WriteRefusals.longest(history, end: 60)
        #expect(windows["n1"] == WriteRefusals.Window(start: 2, end: 8.5, refused: 1, unknown: 1, open: false))
        #expect(windows["n2"] == nil)
        #expect(windows["n3"] == WriteRefusals.Window(start: 40, end: 60, refused: 1, unknown: 1, open: true))
        #expect(WriteRefusals.report(windows, nodes: ["n1", "n2", "n3"]) == [
            "n1: 6.5 s from 2.0 s (1 refused, 1 unknown)",
            "n2: none",
            "n3: 20.0 s from 40.0 s (1 refused, 1 unknown, still open at the end)",
        ])
    }

    @Test("scheduler lag: the tool's wall clock at an accepted trigger minus its run's first start stamp")
    func schedulerLag() {
        let wall: Int64 = 1_800_000_000_000
        let entries = [
            HistoryEntry(type: "ok", op: 1, process: 4, f: "trigger", node: "n1", time: 5, run: "r1", wallMs: wall),
            HistoryEntry(type: "ok", op: 2, process: 4, f: "trigger", node: "n2", time: 7, run: "r2", wallMs: wall + 2_000),
            HistoryEntry(type: "fail", op: 3, process: 4, f: "trigger", node: "n2", time: 8),
            HistoryEntry(type: "ok", op: 4, process: 4, f: "trigger", node: "n3", time: 9, run: "r9", wallMs: wall + 4_000),
        ]
        let runs = [
            RunObservation(runID: "r1", attempt: 1, outcome: "succeeded", startedAt: wall + 30, finishedAt: wall + 1_530),
            RunObservation(runID: "r2", attempt: 2, outcome: "succeeded", startedAt: wall + 9_000, finishedAt: nil),
            RunObservation(runID: "r2", attempt: 1, outcome: "lost", startedAt: wall - 3_000, finishedAt: wall - 3_000),
        ]
        let lag = SchedulerLag.worst(entries, runs: runs)
        #expect(lag.samples == 2)
        #expect(lag.worst == SchedulerLag.Sample(run: "r2", at: 7, seconds: 5))
        #expect(SchedulerLag.worst(entries, runs: []).worst == nil)
    }
}
