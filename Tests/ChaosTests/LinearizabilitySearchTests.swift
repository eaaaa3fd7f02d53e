import Chaos
import Testing

/// The Wing–Gong search on planted single-job histories: concurrent operations that only a
/// reordering explains pass, anomalies that no order explains (including ones no pairwise
/// "read after read" check sees) fail, and a search that runs out of its bound says unknown.
@Suite("Linearizability search")
struct LinearizabilitySearchTests {
    private typealias Entry = LinearizabilitySearch.Entry

    private func submit(_ op: Int, _ from: Double, _ to: Double?) -> Entry { Entry(op: op, step: .submit, invokedAt: from, completedAt: to) }
    private func cancel(_ op: Int, _ from: Double, _ to: Double?) -> Entry { Entry(op: op, step: .cancel, invokedAt: from, completedAt: to) }
    private func read(_ op: Int, _ state: String, _ attempt: Int = 1, _ from: Double, _ to: Double) -> Entry {
        Entry(op: op, step: .read(state == "missing" ? .missing : .at(state: state, attempt: attempt)), invokedAt: from, completedAt: to)
    }

    private func linearizable(_ entries: [Entry]) -> Bool {
        if case .linearizable = LinearizabilitySearch.check(entries) { return true }
        return false
    }

    @Test("overlapping reads that saw a later and an earlier state linearize in the other order")
    func overlappingReads() {
        let history = [submit(1, 0, 0.1), read(2, "succeeded", 1, 1, 3), read(3, "running", 1, 2, 4)]
        #expect(LinearizabilitySearch.check(history) == .linearizable([1, 3, 2]))
    }

    @Test("a read overlapping a cancel may see the job before or after it, and a third overlapping read settles the order")
    func readsAroundACancel() {
        let history = [submit(1, 0, 0.1), cancel(2, 1, 3), read(3, "cancelled", 1, 1.5, 2.5), read(4, "running", 1, 2, 4),
                       read(5, "cancelled", 1, 3.5, 5)]
        #expect(linearizable(history))
        // The running read completes before the cancelled one starts, yet both overlap the cancel: fine.
        #expect(linearizable([submit(1, 0, 0.1), cancel(2, 1, 3), read(3, "running", 1, 1.1, 1.5), read(4, "cancelled", 1, 2, 2.5)]))
        // The cancelled read completes before the running one starts: no order puts running after cancelled.
        #expect(!linearizable([submit(1, 0, 0.1), cancel(2, 1, 3), read(3, "cancelled", 1, 1.1, 1.5), read(4, "running", 1, 2, 2.5)]))
    }

    @Test("a read of an earlier state that started after a later state was read is not linearizable")
    func staleRead() {
        #expect(LinearizabilitySearch.check([submit(1, 0, 0.1), read(2, "succeeded", 1, 1, 1.2), read(3, "running", 1, 1.5, 1.6)])
            == .notLinearizable)
        #expect(!linearizable([submit(1, 0, 0.1), read(2, "running", 2, 1, 1.1), read(3, "pending", 1, 2, 2.1), read(4, "queued", 0, 3, 3.1)]))
    }

    @Test("a read after an acknowledged submit must find the job; one before or during it may not")
    func submitVisibility() {
        #expect(linearizable([read(1, "missing", 0, 0, 0.5), submit(2, 0.2, 1), read(3, "missing", 0, 0.6, 0.8), read(4, "pending", 0, 2, 2.1)]))
        #expect(!linearizable([submit(1, 0, 0.1), read(2, "missing", 0, 0.5, 0.6)]))
    }

    @Test("a job seen and then gone again, with only an unknown-outcome submit before: no pairwise check sees it")
    func reappearingMissing() {
        // Op 1 timed out (unknown), op 4 is the acknowledged retry under the same key.
        let history = [submit(1, 0, nil), read(2, "pending", 0, 1, 2), read(3, "missing", 0, 3, 4), submit(4, 4.5, 5)]
        #expect(LinearizabilitySearch.check(history) == .notLinearizable)
        // Without the later missing read the unknown submit explains the pending one.
        #expect(LinearizabilitySearch.check([submit(1, 0, nil), read(2, "pending", 0, 1, 2), submit(4, 4.5, 5)]) == .linearizable([1, 2, 4]))
    }

    @Test("cancelled is reached only through a cancel, and never before the cancel was invoked")
    func cancelledNeedsACancel() {
        #expect(!linearizable([submit(1, 0, 0.1), read(2, "cancelled", 1, 1, 1.1)]))
        #expect(!linearizable([submit(1, 0, 0.1), read(2, "cancelled", 1, 1, 1.4), cancel(3, 1.5, 2)]))
        // An unknown-outcome cancel may have taken effect, even after its client gave up.
        #expect(linearizable([submit(1, 0, 0.1), cancel(2, 1, nil), read(3, "running", 1, 5, 5.1), read(4, "cancelled", 1, 6, 6.1)]))
        // An acknowledged cancel of a finished job changes nothing.
        #expect(linearizable([submit(1, 0, 0.1), read(2, "succeeded", 1, 1, 1.1), cancel(3, 2, 2.1), read(4, "succeeded", 1, 3, 3.1)]))
    }

    @Test("a search that runs out of its bound answers unknown")
    func bound() {
        let history = [submit(1, 0, 0.1)] + (0..<12).map { read(2 + $0, "running", 1, 1, 2) } + [read(20, "cancelled", 1, 1, 2)]
        #expect(LinearizabilitySearch.check(history, bound: 5) == .unknown)
        #expect(LinearizabilitySearch.check(history) == .notLinearizable)
    }

    @Test("random histories generated from a legal sequential run always linearize", arguments: [UInt64(1), 7, 2026, 424_242])
    func randomLegalHistories(seed: UInt64) {
        var random = TestRandom(seed)
        for round in 0..<50 {
            let history = legalHistory(&random)
            let outcome = LinearizabilitySearch.check(history)
            if case .linearizable = outcome { continue }
            Issue.record("seed \(seed) round \(round): \(outcome) for \(history)")
            return
        }
    }

    /// A sequential run of the model (submit, the cluster's unobserved advances, reads, maybe a
    /// cancel), each operation's point widened into a random interval around it; unknown outcomes
    /// are sprinkled in for submits and cancels.
    private func legalHistory(_ random: inout TestRandom) -> [Entry] {
        var entries: [Entry] = []
        var state = JobModel.State.missing
        var time = 0.0
        var op = 0
        let lifecycle: [(String, Int)] = [("queued", 0), ("running", 1), ("pending", 1), ("running", 2), ("succeeded", 2)]
        var stage = -1
        for _ in 0..<(4 + random.below(14)) {
            time += Double(random.below(100)) / 100
            op += 1
            let point = time
            let from = point - Double(random.below(150)) / 100
            let to = point + Double(random.below(150)) / 100
            let roll = random.below(10)
            if state == .missing, roll < 3 {
                entries.append(submit(op, from, random.below(4) == 0 ? nil : to))
                state = .at(state: "pending", attempt: 0)
                stage = -1
            } else if case .at(let current, _) = state, roll == 3, !StatusOrder.terminal.contains(current) {
                entries.append(cancel(op, from, random.below(4) == 0 ? nil : to))
                state = JobModel.apply(.cancel, to: state) ?? state
            } else if case .at(let current, _) = state, roll < 6, !StatusOrder.terminal.contains(current), stage + 1 < lifecycle.count {
                stage += 1
                state = .at(state: lifecycle[stage].0, attempt: lifecycle[stage].1)
                op -= 1
            } else {
                entries.append(Entry(op: op, step: .read(state), invokedAt: from, completedAt: to))
            }
        }
        return entries
    }
}

/// SplitMix64, enough for the generator (the test target does not depend on DeterministicRandom).
private struct TestRandom {
    private var state: UInt64

    init(_ seed: UInt64) { state = seed }

    mutating func below(_ bound: Int) -> Int {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return Int((z ^ (z >> 31)) % UInt64(bound))
    }
}
