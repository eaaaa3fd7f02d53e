import HTTPAPI
import Synchronization
import Testing

/// The list reads' CPU budget (issue #12, `[api] max_read_cpu_percent`): a token bucket in CPU
/// time that the gate consults before each list read.
@Suite("Read CPU budget: list reads use at most their share of a core")
struct ReadCPUBudgetTests {
    @Test("starts full; a read that overdraws it makes the next one wait exactly as long as the share needs to repay it")
    func overdraftIsRepaidAtTheShare() {
        var budget = ReadCPUBudget(percentOfCore: 25, burst: .milliseconds(100), perRead: .zero)
        #expect(budget.wait(now: .zero, spent: .zero) == nil)
        // A read used 150 ms of CPU at once: 50 ms over the burst, repaid at 0.25 s/s in 200 ms.
        #expect(budget.wait(now: .zero, spent: .milliseconds(150)) == .milliseconds(200))
        #expect(budget.wait(now: .milliseconds(100), spent: .milliseconds(150)) == .milliseconds(100))
        #expect(budget.wait(now: .milliseconds(200), spent: .milliseconds(150)) == nil)
    }

    @Test("idle time refills it up to the burst, never beyond")
    func refillStopsAtTheBurst() {
        var budget = ReadCPUBudget(percentOfCore: 50, burst: .milliseconds(100), perRead: .zero)
        #expect(budget.wait(now: .zero, spent: .zero) == nil)
        // An hour idle then 120 ms of reads in an instant: the hour bought 100 ms, not 30 minutes.
        #expect(budget.wait(now: .seconds(3600), spent: .zero) == nil)
        #expect(budget.wait(now: .seconds(3600), spent: .milliseconds(120)) == .milliseconds(40))
    }

    @Test("a long read that used its share while it ran owes nothing: refill and charge are netted before the cap")
    func longReadsAtTheShareOweNothing() {
        var budget = ReadCPUBudget(percentOfCore: 100, burst: .milliseconds(100), perRead: .zero)
        #expect(budget.wait(now: .zero, spent: .zero) == nil)
        // One read ran 1 s on a full core: at 100 % that is exactly the budget.
        #expect(budget.wait(now: .seconds(1), spent: .seconds(1)) == nil)
        // At 25 %, a read of 1 s wall and 1 s CPU owes 0.75 s less the burst, repaid in 2.6 s — capped at 1 s.
        var quarter = ReadCPUBudget(percentOfCore: 25, burst: .milliseconds(100), perRead: .zero)
        #expect(quarter.wait(now: .zero, spent: .zero) == nil)
        #expect(quarter.wait(now: .seconds(1), spent: .seconds(1)) == .seconds(1))
    }

    @Test("under a steady overload the reads get the share, per-read charge included")
    func steadyStateIsTheShare() {
        for (percent, perRead) in [(25, Duration.zero), (25, .microseconds(500)), (100, .zero), (10, .milliseconds(1))] {
            var budget = ReadCPUBudget(percentOfCore: percent, burst: .milliseconds(100), perRead: perRead)
            var now = Duration.zero
            var spent = Duration.zero
            var charged = Duration.zero
            // Each read costs 2 ms of CPU and 1 ms of wall time; reads run back to back when allowed.
            for _ in 0..<20_000 {
                if let wait = budget.wait(now: now, spent: spent) {
                    now += wait
                    continue
                }
                spent += .milliseconds(2)
                charged += .milliseconds(2) + perRead
                now += .milliseconds(1)
            }
            let share = Self.seconds(charged) / Self.seconds(now)
            #expect(abs(share - Double(percent) / 100) < 0.02 * Double(percent) / 100 + 0.005,
                    "at \(percent) % with \(perRead) per read, reads were charged \(share) of a core")
        }
    }

    @Test("one very expensive read delays the next by at most maxWait")
    func overdraftIsCapped() {
        var budget = ReadCPUBudget(percentOfCore: 1, burst: .milliseconds(100), perRead: .zero, maxWait: .seconds(1))
        #expect(budget.wait(now: .zero, spent: .zero) == nil)
        // 30 s of CPU at 1 % would be 50 minutes of waiting.
        #expect(budget.wait(now: .zero, spent: .seconds(30)) == .seconds(1))
        #expect(budget.wait(now: .seconds(1), spent: .seconds(30)) == nil)
    }

    @Test("a clock or counter that goes backwards refills and charges nothing, and is not a new baseline")
    func backwardsInputsAreIgnored() {
        var budget = ReadCPUBudget(percentOfCore: 100, burst: .milliseconds(10), perRead: .zero)
        #expect(budget.wait(now: .seconds(5), spent: .milliseconds(50)) == nil)
        // A counter read as zero (its clock failed) then back: nothing charged either way.
        #expect(budget.wait(now: .seconds(5), spent: .zero) == nil)
        #expect(budget.wait(now: .seconds(5), spent: .milliseconds(50)) == nil)
        // A clock going back: no refill; 20 ms of reads then owe 10 ms.
        #expect(budget.wait(now: .seconds(4), spent: .milliseconds(70)) == .milliseconds(10))
    }

    @Test("percentages out of 1–100 are clamped (the config refuses them; the type never traps)")
    func sharesAreClamped() {
        #expect(ReadCPUBudget(percentOfCore: 0).share == 0.01)
        #expect(ReadCPUBudget(percentOfCore: -5).share == 0.01)
        #expect(ReadCPUBudget(percentOfCore: 6_400).share == 1)
        #expect(ReadCPUBudget(percentOfCore: 25).share == 0.25)
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

/// Fake time for the gate: `sleep` advances `now` at once and records each wait.
private final class FakeTime: Sendable {
    let now = Mutex(Duration.zero)
    let spent = Mutex(Duration.zero)
    let sleeps = Mutex<[Duration]>([])
    let waited = Mutex<[Duration]>([])

    func budget(percent: Int, burst: Duration) -> ReadAdmission.Budget {
        ReadAdmission.Budget(bucket: ReadCPUBudget(percentOfCore: percent, burst: burst, perRead: .zero),
                             spent: { self.spent.withLock { $0 } }, now: { self.now.withLock { $0 } },
                             sleep: { duration in
                                 try Task.checkCancellation()
                                 self.sleeps.withLock { $0.append(duration) }
                                 self.now.withLock { $0 += duration }
                             })
    }
}

@Suite("Read admission with a CPU budget")
struct ReadAdmissionBudgetTests {
    @Test("a read after one that overdrew the budget waits, holding its place, then runs; the time waited is reported")
    func overBudgetReadsWait() async throws {
        let time = FakeTime()
        let gate = ReadAdmission(maxInFlight: 1, maxQueued: 4, budget: time.budget(percent: 50, burst: .milliseconds(100)),
                                 onBudgetWait: { wait in time.waited.withLock { $0.append(wait) } })
        // The first read costs 300 ms of CPU: 200 ms over, repaid at 0.5 in 400 ms.
        try await gate.run { time.spent.withLock { $0 += .milliseconds(300) } }
        #expect(time.sleeps.withLock { $0 }.isEmpty && time.waited.withLock { $0 }.isEmpty)
        let ran = try await gate.run { true }
        #expect(ran)
        #expect(time.sleeps.withLock { $0 } == [.milliseconds(400)])
        #expect(time.waited.withLock { $0 } == [.milliseconds(400)])
        #expect(gate.counts == ReadAdmission.Counts(inFlight: 0, queued: 0, rejected: 0))
    }

    @Test("a read cancelled while it waits for the budget gives its place back and does not run")
    func cancelledWhileWaitingForBudget() async throws {
        let spent = Mutex(Duration.zero)
        // The first read's 1 s of CPU is repaid at 1 % in (at most) 60 s; the gate's wait here
        // ends only when the read is cancelled.
        let gate = ReadAdmission(maxInFlight: 1, maxQueued: 4, budget: ReadAdmission.Budget(
            bucket: ReadCPUBudget(percentOfCore: 1, burst: .zero, maxWait: .seconds(60)), spent: { spent.withLock { $0 } },
            now: { .zero }, sleep: { _ in
                // A stream nothing is sent on: iterating it ends when the task is cancelled.
                let (stream, continuation) = AsyncStream<Void>.makeStream()
                for await _ in stream {}
                withExtendedLifetime(continuation) {}
                try Task.checkCancellation()
            }))
        try await gate.run { spent.withLock { $0 += .seconds(1) } }
        let waiting = Task { try await gate.run { Issue.record("a cancelled read ran") } }
        try await eventually("the read holds its place while it waits for the budget") { gate.counts.inFlight == 1 }
        waiting.cancel()
        await #expect(throws: CancellationError.self) { try await waiting.value }
        #expect(gate.counts == ReadAdmission.Counts(inFlight: 0, queued: 0, rejected: 0))
    }
}
