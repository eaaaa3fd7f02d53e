import HTTPAPI
import Synchronization
import Testing

/// The list reads' CPU budget (issue #12, `[api] max_read_cpu_percent`): a token bucket in CPU
/// time that the gate consults before each list read.
@Suite("Read CPU budget: list reads use at most their share of a core")
struct ReadCPUBudgetTests {
    @Test("starts full; a read that overdraws it makes the next one wait exactly as long as the share needs to repay it")
    func overdraftIsRepaidAtTheShare() {
        var budget = ReadCPUBudget(share: 0.25, burst: .milliseconds(100))
        #expect(budget.wait(now: .zero, spent: .zero) == nil)
        // A read used 150 ms of CPU: 50 ms over the burst, repaid at 0.25 s/s in 200 ms.
        #expect(budget.wait(now: .zero, spent: .milliseconds(150)) == .milliseconds(200))
        #expect(budget.wait(now: .milliseconds(100), spent: .milliseconds(150)) == .milliseconds(100))
        #expect(budget.wait(now: .milliseconds(200), spent: .milliseconds(150)) == nil)
    }

    @Test("idle time refills it up to the burst, never beyond")
    func refillStopsAtTheBurst() {
        var budget = ReadCPUBudget(share: 0.5, burst: .milliseconds(100))
        #expect(budget.wait(now: .zero, spent: .zero) == nil)
        // An hour idle buys 100 ms, not 30 minutes: 120 ms of reads then owe 20 ms, 40 ms at 0.5.
        #expect(budget.wait(now: .seconds(3600), spent: .milliseconds(120)) == .milliseconds(40))
    }

    @Test("under a steady overload the reads get the share: CPU served per second of wall time converges to it")
    func steadyStateIsTheShare() {
        var budget = ReadCPUBudget(share: 0.25, burst: .milliseconds(100))
        var now = Duration.zero
        var spent = Duration.zero
        // Each read costs 2 ms of CPU and 1 ms of wall time; reads run back to back when allowed.
        for _ in 0..<10_000 {
            if let wait = budget.wait(now: now, spent: spent) {
                now += wait
                continue
            }
            spent += .milliseconds(2)
            now += .milliseconds(1)
        }
        let share = Double(spent.components.seconds * 1_000 + spent.components.attoseconds / 1_000_000_000_000_000)
            / Double(now.components.seconds * 1_000 + now.components.attoseconds / 1_000_000_000_000_000)
        #expect(abs(share - 0.25) < 0.01, "reads used \(share) of a core")
    }

    @Test("a clock or counter that goes backwards refills and charges nothing")
    func backwardsInputsAreIgnored() {
        var budget = ReadCPUBudget(share: 1, burst: .milliseconds(10))
        #expect(budget.wait(now: .seconds(5), spent: .milliseconds(50)) == nil)
        #expect(budget.wait(now: .seconds(4), spent: .milliseconds(40)) == nil)
        #expect(budget.wait(now: .seconds(4), spent: .milliseconds(60)) == .milliseconds(10))
    }
}

/// Fake time for the gate: `sleep` advances `now` at once and records each wait.
private final class FakeTime: Sendable {
    let now = Mutex(Duration.zero)
    let spent = Mutex(Duration.zero)
    let sleeps = Mutex<[Duration]>([])
    let waited = Mutex<[Duration]>([])

    func budget(share: Double, burst: Duration) -> ReadAdmission.Budget {
        ReadAdmission.Budget(budget: ReadCPUBudget(share: share, burst: burst), spent: { self.spent.withLock { $0 } },
                             now: { self.now.withLock { $0 } },
                             sleep: { duration in
                                 try Task.checkCancellation()
                                 self.sleeps.withLock { $0.append(duration) }
                                 self.now.withLock { $0 += duration }
                             })
    }
}

@Suite("Read admission with a CPU budget")
struct ReadAdmissionBudgetTests {
    @Test("a read after one that overdrew the budget waits, holding its place, then runs; the wait is reported")
    func overBudgetReadsWait() async throws {
        let time = FakeTime()
        let gate = ReadAdmission(maxInFlight: 1, maxQueued: 4, budget: time.budget(share: 0.5, burst: .milliseconds(100)),
                                 onBudgetWait: { wait in time.waited.withLock { $0.append(wait) } })
        // The first read costs 300 ms of CPU: 200 ms over, repaid at 0.5 in 400 ms.
        try await gate.run { time.spent.withLock { $0 += .milliseconds(300) } }
        #expect(time.sleeps.withLock { $0 }.isEmpty)
        let ran = try await gate.run { true }
        #expect(ran)
        #expect(time.sleeps.withLock { $0 } == [.milliseconds(400)])
        #expect(time.waited.withLock { $0 } == [.milliseconds(400)])
        #expect(gate.counts == ReadAdmission.Counts(inFlight: 0, queued: 0, rejected: 0))
    }

    @Test("a read cancelled while it waits for the budget gives its place back and does not run")
    func cancelledWhileWaitingForBudget() async throws {
        let spent = Mutex(Duration.zero)
        // The real clock and sleep: the first read's 1 s of CPU takes 100 s to repay at 1 %.
        let gate = ReadAdmission(maxInFlight: 1, maxQueued: 4, budget: ReadAdmission.Budget(
            budget: ReadCPUBudget(share: 0.01, burst: .zero), spent: { spent.withLock { $0 } }))
        try await gate.run { spent.withLock { $0 += .seconds(1) } }
        let waiting = Task { try await gate.run { Issue.record("a cancelled read ran") } }
        try await eventually("the read holds its place while it waits for the budget") { gate.counts.inFlight == 1 }
        waiting.cancel()
        await #expect(throws: CancellationError.self) { try await waiting.value }
        #expect(gate.counts == ReadAdmission.Counts(inFlight: 0, queued: 0, rejected: 0))
    }
}
