import Executor
import SchedulerCore
import Testing

@Suite("noop and sleep tasks")
struct NoopAndSleepTests {
    private func executor(clock: any Clock<Duration> = ContinuousClock()) -> AttemptRunner {
        AttemptRunner(clock: clock, logger: silentLogger)
    }

    @Test("noop succeeds at once")
    func noop() async {
        let result = await executor().run(ExecutionRequest(runID: "r1", attempt: 1, task: .noop, timeout: .seconds(1)))
        #expect(result.report.outcome == .succeeded)
        #expect(result.report.error == nil)
        #expect(result.report.exitCode == nil && result.report.httpStatus == nil && result.report.outputTail.isEmpty)
    }

    @Test("sleep waits on the given clock, and its duration is the clock's")
    func sleepSucceeds() async throws {
        let clock = ManualClock()
        let executor = executor(clock: clock)
        let attempt = Task {
            await executor.run(ExecutionRequest(runID: "r1", attempt: 1, task: .sleep(milliseconds: 30_000), timeout: .seconds(60)))
        }
        // The attempt's deadline timer and the sleep itself.
        try await waitUntil("the sleep to start") { clock.sleeperCount == 2 }
        clock.advance(by: .seconds(29))
        #expect(clock.sleeperCount == 2)
        clock.advance(by: .seconds(1))
        let result = try await value(of: attempt)
        #expect(result.report.outcome == .succeeded)
        #expect(result.duration == .seconds(30))
        #expect(result.durationMilliseconds == 30_000)
    }

    @Test("a sleep longer than the timeout times out")
    func sleepTimesOut() async throws {
        let clock = ManualClock()
        let executor = executor(clock: clock)
        let attempt = Task {
            await executor.run(ExecutionRequest(runID: "r1", attempt: 1, task: .sleep(milliseconds: 3_600_000), timeout: .seconds(10)))
        }
        try await waitUntil("the sleep to start") { clock.sleeperCount == 2 }
        clock.advance(by: .seconds(10))
        let result = try await value(of: attempt)
        #expect(result.report.outcome == .timedOut)
        #expect(result.report.error == "still sleeping at timeout 10s")
    }

    @Test("cancelling the caller stops a sleep and reports cancelled")
    func sleepCancelled() async throws {
        let clock = ManualClock()
        let executor = executor(clock: clock)
        let attempt = Task {
            await executor.run(ExecutionRequest(runID: "r1", attempt: 1, task: .sleep(milliseconds: 3_600_000), timeout: .seconds(7200)))
        }
        try await waitUntil("the sleep to start") { clock.sleeperCount == 2 }
        attempt.cancel()
        let result = try await value(of: attempt)
        #expect(result.report.outcome == .cancelled)
        #expect(clock.sleeperCount == 0)
    }

    @Test("a sleep on the real clock is cancellable too")
    func realClockSleepCancelled() async throws {
        let executor = executor()
        let attempt = Task {
            await executor.run(ExecutionRequest(runID: "r1", attempt: 1, task: .sleep(milliseconds: 3_600_000), timeout: .seconds(7200)))
        }
        attempt.cancel()
        let result = try await value(of: attempt, within: .seconds(5))
        #expect(result.report.outcome == .cancelled)
    }

    @Test("an attempt whose caller is already cancelled starts nothing")
    func cancelledBeforeStart() async throws {
        let executor = executor()
        let attempt = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return await executor.run(ExecutionRequest(runID: "r1", attempt: 1, task: .noop, timeout: .seconds(1)))
        }
        let result = try await value(of: attempt)
        #expect(result.report.outcome == .cancelled)
        #expect(result.report.error == "cancelled before it started")
    }

    @Test("invalid sleeps and timeouts fail with a message", arguments: [
        (TaskSpec.sleep(milliseconds: -1), Duration.seconds(1), "sleep must not be negative, got -1 ms: give seconds ≥ 0"),
        (.sleep(milliseconds: .min), .seconds(1), "sleep must not be negative, got \(Int64.min) ms: give seconds ≥ 0"),
        (.noop, .zero, "timeout must be positive, got 0s: set timeout_seconds to at least 1"),
    ])
    func invalidInput(task: TaskSpec, timeout: Duration, message: String) async {
        let result = await executor().run(ExecutionRequest(runID: "r1", attempt: 1, task: task, timeout: timeout))
        #expect(result.report.outcome == .failed)
        #expect(result.report.error == message)
    }
}
