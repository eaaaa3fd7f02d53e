import Clocks
import Executor
import Logging
import NodeCore
import NodeMetrics
@testable import NodeRuntime
import RaftCore
import SchedulerCore
import Synchronization
import Testing

/// A wall clock the test sets: it moves only when told, independently of the monotonic clock
/// (an NTP step, a VM restored from a snapshot).
final class ManualWallClock: Sendable {
    private let reading: Mutex<Timestamp>
    init(_ start: Timestamp) { reading = Mutex(start) }
    var now: Timestamp { reading.withLock { $0 } }
    func advance(milliseconds: Int64) { reading.withLock { $0 = Timestamp($0.milliseconds + milliseconds) } }
}

/// A node clock on a `TestClock` and a hand-set wall clock, both starting at `wallStart`.
private func testClocks(wallStart: Timestamp = Timestamp(1_800_000_000_000))
    -> (test: TestClock<Duration>, wall: ManualWallClock, node: NodeClock) {
    let test = TestClock<Duration>()
    let wall = ManualWallClock(wallStart)
    return (test, wall, NodeClock(test, wall: { wall.now }))
}

/// Moves both clocks forward together (time passing normally).
private func pass(_ milliseconds: Int64, _ test: TestClock<Duration>, _ wall: ManualWallClock) async {
    await test.advance(by: .milliseconds(milliseconds))
    wall.advance(milliseconds: milliseconds)
}

@Suite("NodeClock: runtime components on an injected TestClock, without real sleeping")
struct NodeClockTests {
    let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    @Test("a forward wall-clock jump on a leader that hears from no peer is bounded by its monotonic clock, counted once")
    func stampBoundedAfterWallClockJump() async throws {
        let start = Timestamp(1_800_000_000_000)
        let (test, wall, clock) = testClocks(wallStart: start)
        let metrics = QuorumMetrics()
        let link = try LinkPair().link("n1", voters: ["n1", "n2", "n3"], clock: clock)
        let stamps = StampClock(clock: clock, link: link, metrics: metrics, logger: logger)
        func jumps() -> Bool { metrics.exposition().contains("quorum_clock_jumps_total 1") }

        #expect(stamps.now() == start)
        await pass(10_000, test, wall)
        #expect(stamps.now() == Timestamp(start.milliseconds + 10_000), "clocks that agree stamp the wall clock")

        wall.advance(milliseconds: 3_600_000)  // an hour's NTP step; the monotonic clock does not move
        #expect(stamps.wall() == Timestamp(start.milliseconds + 3_610_000))
        #expect(stamps.now() == Timestamp(start.milliseconds + 11_000), "monotonic + trusted offset + 1 s tolerance")
        #expect(jumps())

        await pass(5_000, test, wall)
        #expect(stamps.now() == Timestamp(start.milliseconds + 16_000), "the bound follows the monotonic clock")
        #expect(jumps(), "one jump is counted once, not per stamp")
    }

    @Test("a backward wall-clock step on a leader that hears from no peer is bounded from below by its monotonic clock, counted once")
    func stampBoundedAfterBackwardStep() async throws {
        let start = Timestamp(1_800_000_000_000)
        let (test, wall, clock) = testClocks(wallStart: start)
        let metrics = QuorumMetrics()
        let link = try LinkPair().link("n1", voters: ["n1", "n2", "n3"], clock: clock)
        let stamps = StampClock(clock: clock, link: link, metrics: metrics, logger: logger)
        func behind() -> Bool { metrics.exposition().contains("quorum_clock_behind_total 1") }

        #expect(stamps.now() == start)
        await pass(10_000, test, wall)
        wall.advance(milliseconds: -300_000)  // five minutes back; the monotonic clock does not move
        #expect(stamps.now() == Timestamp(start.milliseconds + 9_000), "monotonic + trusted offset - 1 s tolerance")
        #expect(behind())
        #expect(!metrics.exposition().contains("quorum_clock_jumps_total 1"), "a clock behind is not counted as ahead")

        await pass(5_000, test, wall)
        #expect(stamps.now() == Timestamp(start.milliseconds + 14_000), "scheduler time moves on with the monotonic clock")
        #expect(behind(), "one episode is counted once, not per stamp")
    }

    @Test("the executor lease runs out on the node clock: exactly after the lease without contact, renewed by leading")
    func executorLeaseExpiresOnTheNodeClock() async throws {
        let (test, wall, clock) = testClocks()
        let link = try LinkPair().link("n2", lease: .seconds(5), clock: clock)

        #expect(!link.executorLeaseProven(), "no round trip yet")
        #expect(!link.executorMustFence(leading: false), "a fresh start is contact")
        await pass(5_000, test, wall)
        #expect(!link.executorMustFence(leading: false), "exactly the lease: still held")
        await pass(1, test, wall)
        #expect(link.executorMustFence(leading: false), "past the lease without contact: fence")

        #expect(!link.executorMustFence(leading: true), "leading is contact")
        #expect(link.executorLeaseProven())
        await pass(5_001, test, wall)
        #expect(link.executorMustFence(leading: false))
        #expect(!link.executorLeaseProven())
    }

    @Test("a refused report is retried after 50 ms, then 100 ms, of node time")
    func reportRetriesBackOffOnTheNodeClock() async throws {
        let (test, _, clock) = testClocks()
        let log = ReportLog(refuseFirst: 2)
        let host = ExecutorHost(slots: 2, runner: AttemptRunner(clock: test, logger: logger), clock: clock,
                                logger: logger) { log.report($0) }
        host.accept(AppliedChanges(throughIndex: .zero, isReplay: false, events: [],
                                   starts: [AttemptOrder(runID: "r1", attempt: 1, task: .noop, timeoutMs: 60_000)], stops: []))

        for (refusalsLeft, backoff) in [(1, Int64(50)), (0, 100)] {
            try await waitUntil("report refusal, \(refusalsLeft) left") { log.refusalsLeft == refusalsLeft }
            try await waitForSleeper(on: test)
            await test.advance(by: .milliseconds(backoff - 1))
            #expect(log.refusalsLeft == refusalsLeft && log.reports.isEmpty, "no retry before \(backoff) ms")
            await test.advance(by: .milliseconds(1))
        }
        try await waitUntil("the report to be taken") { log.reports.count == 1 }
        #expect(log.reports.first?.report.outcome == .succeeded)
        try await waitUntil("the attempt to leave the host") { host.busy == 0 }
    }

    /// Waits (bounded, in real time) until something sleeps on `test`, so an advance reaches it.
    private func waitForSleeper(on test: TestClock<Duration>) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while (try? await test.checkSuspension()) != nil {
            guard ContinuousClock.now < deadline else {
                Issue.record("nothing slept on the test clock within 30 s")
                throw CancellationError()
            }
        }
    }

    @Test("draining gives running attempts their grace on the node clock, then reports them lost")
    func drainWaitsForTheGraceOnTheNodeClock() async throws {
        let (test, _, clock) = testClocks()
        let log = ReportLog()
        let host = ExecutorHost(slots: 2, runner: AttemptRunner(clock: test, logger: logger), clock: clock,
                                logger: logger) { log.report($0) }
        let key = AttemptKey(runID: "r1", attempt: 1)
        host.accept(AppliedChanges(throughIndex: .zero, isReplay: false, events: [],
                                   starts: [AttemptOrder(runID: "r1", attempt: 1, task: .sleep(milliseconds: 3_600_000),
                                                         timeoutMs: 60_000)],
                                   stops: []))
        let drained = Task { await host.drain(grace: .seconds(10)) }
        try await waitUntil("the drain to begin") { host.isDraining }

        for _ in 0..<495 { await test.advance(by: .milliseconds(20)) }  // 9.9 s of node time
        #expect(host.runningKeys == [key], "within the grace the attempt runs on")
        #expect(log.reports.isEmpty)

        // Past the grace: the drain stops the attempt and it is reported lost (it retries elsewhere).
        // Time moves only when the test moves it; the real-time bound only catches a hang.
        let realDeadline = ContinuousClock.now + .seconds(30)
        while log.reports.isEmpty, ContinuousClock.now < realDeadline {
            await test.advance(by: .milliseconds(20))
        }
        await drained.value
        #expect(log.reports.map(\.report.outcome) == [.lost])
        #expect(host.busy == 0)
    }
}
