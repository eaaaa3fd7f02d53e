import Executor
import Logging
import NodeCore
@testable import NodeRuntime
import SchedulerCore
import Testing

@Suite("ExecutorHost: assignments held beyond the slots ([executor] prefetch)")
struct ExecutorHostPrefetchTests {
    let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    func host(slots: Int = 1, killGraceMs: Int64 = 0, _ log: ReportLog) -> ExecutorHost {
        ExecutorHost(slots: slots, runner: AttemptRunner(logger: logger), clock: .system(), logger: logger,
                     killGraceMs: killGraceMs, holdsAssignments: true) { log.report($0) }
    }

    func changes(starts: [AttemptOrder] = [], stops: [AttemptKey] = []) -> AppliedChanges {
        AppliedChanges(throughIndex: .zero, isReplay: false, events: [], starts: starts, stops: stops)
    }

    func order(_ run: String, _ task: TaskSpec, deadline: Timestamp? = nil) -> AttemptOrder {
        AttemptOrder(runID: RunID(run), attempt: 1, task: task, timeoutMs: 60_000, deadline: deadline)
    }

    func outcomes(_ log: ReportLog) -> [String: AttemptOutcome] {
        Dictionary(log.reports.map { ($0.runID.rawValue, $0.report.outcome) }, uniquingKeysWith: { first, _ in first })
    }

    @Test("beyond the slots an assignment is held, and starts when the slot frees — before the finish ahead of it is applied")
    func heldStartsWhenTheSlotFrees() async throws {
        let proposals = HeldProposals()
        let host = ExecutorHost(slots: 1, runner: AttemptRunner(logger: logger), clock: .system(), logger: logger,
                                holdsAssignments: true) {
            await proposals.propose($0)
        }
        host.accept(changes(starts: [order("first", .sleep(milliseconds: 50)), order("second", .noop)]))
        #expect(host.held == 1)
        #expect(host.executing == 1)
        #expect(host.attemptsNotRunningHere([AttemptKey(runID: "second", attempt: 1)]).isEmpty)
        // No proposal is answered (a slow leader), yet the held attempt ran and reported: it is
        // in the round in flight (both ended before the round was taken) or waits for the next.
        try await waitUntil("the held attempt to run and report") {
            Set(proposals.all.flatMap(ExecutorHostTests.finishedRuns)).contains("second") || host.reportsAwaitingRound == 1
        }
        #expect(host.held == 0)
        proposals.release()
        try await waitUntil("both reports applied") { host.busy == 0 }
        #expect(Set(proposals.all.flatMap(ExecutorHostTests.finishedRuns)) == ["first", "second"])
    }

    @Test("held attempts start in the order they were assigned as slots free, never more at once than the slots")
    func fifoWithinSlots() async throws {
        let log = ReportLog()
        let host = host(slots: 2, log)
        // Hour-long sleeps: each ends only when the test stops it, so the order is the test's.
        host.accept(changes(starts: (1...5).map { order("r\($0)", .sleep(milliseconds: 3_600_000)) }))
        #expect(host.executing == 2)
        #expect(host.held == 3)
        #expect(host.runningKeys == [AttemptKey(runID: "r1", attempt: 1), AttemptKey(runID: "r2", attempt: 1)])
        for (stopped, next) in [("r1", "r3"), ("r2", "r4"), ("r3", "r5")] {
            host.accept(changes(stops: [AttemptKey(runID: RunID(stopped), attempt: 1)]))
            try await waitUntil("\(next) to start in \(stopped)'s slot") {
                host.runningKeys.contains(AttemptKey(runID: RunID(next), attempt: 1))
            }
            #expect(host.executing <= 2)
        }
        #expect(host.held == 0)
        host.fence(reason: "cleanup")
        try await waitUntil("the rest to stop") { host.busy == 0 }
        #expect(host.executing == 0)
    }

    @Test("a held attempt stopped before it starts is dropped: never run, never reported")
    func stopHeld() async throws {
        let log = ReportLog()
        let host = host(log)
        host.accept(changes(starts: [order("running", .sleep(milliseconds: 50)), order("held", .sleep(milliseconds: 3_600_000))]))
        host.accept(changes(stops: [AttemptKey(runID: "held", attempt: 1)]))
        #expect(host.held == 0)
        try await waitUntil("the running attempt's report") { log.reports.count == 1 && host.busy == 0 }
        #expect(outcomes(log) == ["running": .succeeded])
        #expect(host.executing == 0)
    }

    @Test("a snapshot that replaced the state drops the held attempts it does not have running here (their stops were never events)")
    func restoreDropsEndedHeld() async throws {
        let log = ReportLog()
        let host = host(log)
        let running = order("running", .sleep(milliseconds: 3_600_000))
        host.accept(changes(starts: [running, order("ended", .noop), order("kept", .noop)]))
        #expect(host.held == 2)
        host.accept(AppliedChanges(throughIndex: .zero, isReplay: false, events: [], starts: [], stops: [],
                                   restoredActiveHere: [running.key, AttemptKey(runID: "kept", attempt: 1)]))
        #expect(host.held == 1)
        host.accept(changes(stops: [running.key]))
        try await waitUntil("the running and the kept attempts' reports") { log.reports.count == 2 && host.busy == 0 }
        #expect(outcomes(log) == ["running": .cancelled, "kept": .succeeded])
    }

    @Test("self-fencing drops the held attempts unreported, with the running ones")
    func fenceDropsHeld() async throws {
        let log = ReportLog()
        let host = host(log)
        host.accept(changes(starts: [order("running", .sleep(milliseconds: 3_600_000)), order("held", .noop)]))
        host.fence(reason: "test")
        try await waitUntil("the running attempt to stop") { host.busy == 0 }
        #expect(host.held == 0)
        #expect(log.reports.isEmpty)
        // The held one never started (it would have succeeded and reported).
        #expect(host.attemptsNotRunningHere([AttemptKey(runID: "held", attempt: 1)]) == [AttemptKey(runID: "held", attempt: 1)])
    }

    @Test("draining reports held attempts lost at once (they retry elsewhere) and lets the running one finish")
    func drainGivesHeldBack() async throws {
        let log = ReportLog()
        let host = host(log)
        host.accept(changes(starts: [order("running", .sleep(milliseconds: 100)), order("held", .sleep(milliseconds: 3_600_000))]))
        await host.drain(grace: .seconds(30))
        try await waitUntil("both reports") { log.reports.count == 2 }
        #expect(outcomes(log) == ["running": .succeeded, "held": .lost])
    }

    @Test("a removed node gives its held attempts back lost at once")
    func removalGivesHeldBack() async throws {
        let log = ReportLog()
        let host = host(log)
        host.accept(changes(starts: [order("running", .sleep(milliseconds: 100)), order("held", .sleep(milliseconds: 3_600_000))]))
        host.stopTakingAttempts()
        try await waitUntil("both reports") { log.reports.count == 2 }
        #expect(outcomes(log) == ["running": .succeeded, "held": .lost])
    }

    @Test("a held attempt whose deadline leaves no time when its slot frees is reported lost, not run")
    func noTimeLeft() async throws {
        let log = ReportLog()
        let host = host(log)
        let soon = Timestamp(NodeClock.system().wall().milliseconds + 500)  // under the 1 s margin
        host.accept(changes(starts: [order("running", .sleep(milliseconds: 20)),
                                     order("late", .sleep(milliseconds: 3_600_000), deadline: soon)]))
        try await waitUntil("both reports") { log.reports.count == 2 }
        #expect(outcomes(log) == ["running": .succeeded, "late": .lost])
        #expect(host.executing == 0)
    }

    @Test("a held attempt that starts late is time-boxed to its deadline; cut short, it is reported lost, not timed out")
    func heldIsTimeBoxed() async throws {
        let log = ReportLog()
        let host = host(log)
        // Its own timeout is 60 s; the deadline leaves 2 s past the 1 s margin when it starts.
        let deadline = Timestamp(NodeClock.system().wall().milliseconds + 3_000)
        let started = ContinuousClock.now
        host.accept(changes(starts: [order("running", .sleep(milliseconds: 20)),
                                     order("boxed", .sleep(milliseconds: 3_600_000), deadline: deadline)]))
        try await waitUntil("both reports") { log.reports.count == 2 }
        #expect(ContinuousClock.now - started < .seconds(20), "the box did not cut the 60 s timeout")
        #expect(outcomes(log) == ["running": .succeeded, "boxed": .lost])
    }

    @Test("a held attempt whose deadline leaves its whole timeout runs it in full and times out as the task's own")
    func heldWithFullTimeout() async throws {
        let log = ReportLog()
        let host = host(log)
        let deadline = Timestamp(NodeClock.system().wall().milliseconds + 60_000)
        host.accept(changes(starts: [order("running", .sleep(milliseconds: 20)),
                                     AttemptOrder(runID: "full", attempt: 1, task: .sleep(milliseconds: 3_600_000), timeoutMs: 200,
                                                  deadline: deadline)]))
        try await waitUntil("both reports") { log.reports.count == 2 }
        #expect(outcomes(log) == ["running": .succeeded, "full": .timedOut])
    }
}
