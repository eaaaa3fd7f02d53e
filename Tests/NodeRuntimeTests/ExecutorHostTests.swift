import Executor
import Logging
import NodeCore
@testable import NodeRuntime
import SchedulerCore
import Synchronization
import Testing

/// Records finish reports (an `executorLost` expiry as outcome `lost`); can refuse the first
/// few (as if no leader were known).
final class ReportLog: Sendable {
    private let state = Mutex<(reports: [FinishAttempt], refusals: Int)>(([], 0))
    init(refuseFirst: Int = 0) { state.withLock { $0.refusals = refuseFirst } }
    func report(_ command: Command) -> Bool {
        state.withLock { state in
            if state.refusals > 0 {
                state.refusals -= 1
                return false
            }
            Self.record(command, in: &state.reports)
            return true
        }
    }
    /// A round of several reports arrives as one `.batch`.
    private static func record(_ command: Command, in reports: inout [FinishAttempt]) {
        switch command {
        case .finishAttempt(let finish): reports.append(finish)
        case .expireAttempt(let expire):
            reports.append(FinishAttempt(runID: expire.runID, attempt: expire.attempt,
                                         report: AttemptReport(outcome: .lost)))
        case .batch(let round):
            for inner in round { record(inner, in: &reports) }
        default: Issue.record("unexpected report \(command)")
        }
    }
    var reports: [FinishAttempt] { state.withLock { $0.reports } }
    /// How many more reports will be refused.
    var refusalsLeft: Int { state.withLock { $0.refusals } }
}

func waitUntil(_ what: String, within limit: Duration = .seconds(30), _ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + limit
    while !condition() {
        guard ContinuousClock.now < deadline else {
            Issue.record("timed out waiting for \(what)")
            throw CancellationError()
        }
        try await Task.sleep(for: .milliseconds(5))
    }
}

@Suite("ExecutorHost: attempts assigned here start, finish, stop and fence")
struct ExecutorHostTests {
    let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    func host(_ log: ReportLog) -> ExecutorHost {
        ExecutorHost(slots: 2, runner: AttemptRunner(logger: logger), clock: .system(), logger: logger) { log.report($0) }
    }

    func changes(starts: [AttemptOrder] = [], stops: [AttemptKey] = []) -> AppliedChanges {
        AppliedChanges(throughIndex: .zero, isReplay: false, events: [], starts: starts, stops: stops)
    }

    func order(_ run: String, _ task: TaskSpec, attempt: Int = 1) -> AttemptOrder {
        AttemptOrder(runID: RunID(run), attempt: attempt, task: task, timeoutMs: 60_000)
    }

    @Test("a started attempt is running at once and its result is reported, retried until a leader takes it")
    func startAndReport() async throws {
        let log = ReportLog(refuseFirst: 2)
        let host = host(log)
        host.accept(changes(starts: [order("r1", .noop)]))
        #expect(host.attemptsNotRunningHere([AttemptKey(runID: "r1", attempt: 1)]).isEmpty || !log.reports.isEmpty)
        try await waitUntil("the report") { !log.reports.isEmpty && host.busy == 0 }
        #expect(log.reports.map(\.runID) == ["r1"])
        #expect(log.reports.first?.report.outcome == .succeeded)
    }

    @Test("the same assignment applied twice starts one attempt")
    func duplicateStart() async throws {
        let log = ReportLog()
        let host = host(log)
        let sleep = order("r1", .sleep(milliseconds: 100))
        host.accept(changes(starts: [sleep]))
        host.accept(changes(starts: [sleep]))
        #expect(host.busy == 1)
        try await waitUntil("the report") { host.busy == 0 }
        #expect(log.reports.count == 1)
    }

    @Test("a stop order cancels the attempt and reports it cancelled")
    func stop() async throws {
        let log = ReportLog()
        let host = host(log)
        host.accept(changes(starts: [order("r1", .sleep(milliseconds: 3_600_000))]))
        host.accept(changes(stops: [AttemptKey(runID: "r1", attempt: 1)]))
        try await waitUntil("the report") { host.busy == 0 }
        #expect(log.reports.first?.report.outcome == .cancelled)
    }

    @Test("self-fencing stops running attempts without reporting them (the leader expires them)")
    func fence() async throws {
        let log = ReportLog()
        let host = host(log)
        host.accept(changes(starts: [order("r1", .sleep(milliseconds: 3_600_000)), order("r2", .sleep(milliseconds: 3_600_000))]))
        #expect(host.busy == 2)
        host.fence(reason: "test")
        try await waitUntil("the attempts to stop") { host.busy == 0 }
        #expect(log.reports.isEmpty)
    }

    @Test("attempts the state assigns here but this process does not run are the lost ones")
    func reconciliation() async throws {
        let log = ReportLog()
        let host = host(log)
        host.accept(changes(starts: [order("r1", .sleep(milliseconds: 3_600_000))]))
        let assigned = [AttemptKey(runID: "r1", attempt: 1), AttemptKey(runID: "r0", attempt: 3)]
        #expect(host.attemptsNotRunningHere(assigned) == [AttemptKey(runID: "r0", attempt: 3)])
        host.fence(reason: "cleanup")
        try await waitUntil("the attempt to stop") { host.busy == 0 }
    }

    @Test("draining stops what outlives the grace period and reports it lost, not cancelled (it retries)")
    func drainGraceOver() async throws {
        let log = ReportLog()
        let host = host(log)
        host.accept(changes(starts: [order("r1", .sleep(milliseconds: 3_600_000))]))
        await host.drain(grace: .milliseconds(50))
        try await waitUntil("the report") { log.reports.count == 1 }
        #expect(log.reports.first?.report.outcome == .lost)
    }

    @Test("draining lets a running attempt finish, and an assignment during the drain is reported lost")
    func drain() async throws {
        let log = ReportLog()
        let host = host(log)
        host.accept(changes(starts: [order("r1", .sleep(milliseconds: 50))]))
        let draining = Task { await host.drain(grace: .seconds(30)) }
        try await waitUntil("the drain to begin") { host.isDraining }
        host.accept(changes(starts: [order("r2", .noop)]))
        await draining.value
        try await waitUntil("both reports") { log.reports.count == 2 }
        let outcomes = Dictionary(uniqueKeysWithValues: log.reports.map { ($0.runID.rawValue, $0.report.outcome) })
        #expect(outcomes["r1"] == .succeeded)
        #expect(outcomes["r2"] == .lost)
    }

    @Test("a removed node stops taking attempts at once: a new assignment is reported lost unrun, a running one finishes")
    func stopTakingAttemptsOnRemoval() async throws {
        let log = ReportLog()
        let host = host(log)
        host.accept(changes(starts: [order("running", .sleep(milliseconds: 200))]))
        host.stopTakingAttempts()
        #expect(host.isRefusingNewAttempts)
        host.accept(changes(starts: [order("new", .sleep(milliseconds: 3_600_000))]))
        // Reported lost without being run: the hour-long sleep would never report otherwise.
        try await waitUntil("the new assignment's report") { log.reports.contains { $0.runID.rawValue == "new" } }
        try await waitUntil("the running attempt's report") { log.reports.count == 2 }
        let outcomes = Dictionary(uniqueKeysWithValues: log.reports.map { ($0.runID.rawValue, $0.report.outcome) })
        #expect(outcomes["new"] == .lost)
        #expect(outcomes["running"] == .succeeded)
        #expect(!host.isDraining)
    }

    @Test("a removal truncated before it committed gives the node its work back")
    func resumeTakingAttempts() async throws {
        let log = ReportLog()
        let host = host(log)
        host.stopTakingAttempts()
        host.resumeTakingAttempts()
        #expect(!host.isRefusingNewAttempts)
        host.accept(changes(starts: [order("r1", .noop)]))
        try await waitUntil("the report") { log.reports.count == 1 }
        #expect(log.reports.first?.report.outcome == .succeeded)
    }

    @Test("finishes that end while a round's proposal is in flight are proposed together, as one .batch entry")
    func finishesOfARoundGoAsOneProposal() async throws {
        let proposals = HeldProposals()
        let host = ExecutorHost(slots: 4, runner: AttemptRunner(logger: logger), clock: .system(), logger: logger) {
            await proposals.propose($0)
        }
        host.accept(changes(starts: [order("r1", .noop)]))
        try await waitUntil("the first round to be proposed") { proposals.count == 1 }
        host.accept(changes(starts: [order("r2", .noop), order("r3", .noop), order("r4", .noop)]))
        try await waitUntil("three reports to wait for the next round") { host.reportsAwaitingRound == 3 }
        proposals.release()
        try await waitUntil("every report applied") { host.busy == 0 }
        let sent = proposals.all
        #expect(sent.count == 2)
        #expect(sent.first.map(Self.finishedRuns) == ["r1"])  // alone: the plain finish, not a batch of one
        guard case .batch = sent.last else {
            Issue.record("the second round is not one batch: \(sent)")
            return
        }
        #expect(sent.last.map { Set(Self.finishedRuns($0)) } == ["r2", "r3", "r4"])
    }

    /// The runs a bare finish or a batch of finishes reports.
    static func finishedRuns(_ command: Command) -> [String] {
        switch command {
        case .finishAttempt(let finish): [finish.runID.rawValue]
        case .batch(let commands): commands.flatMap(finishedRuns)
        default: []
        }
    }
}

/// Records each proposal and holds it unanswered until ``release()`` (a slow leader), then
/// answers every one as applied.
final class HeldProposals: Sendable {
    private let state = Mutex<(proposals: [Command], released: Bool)>(([], false))
    func propose(_ command: Command) async -> Bool {
        state.withLock { $0.proposals.append(command) }
        try? await waitUntil("the proposal to be released") { state.withLock { $0.released } }
        return true
    }
    func release() { state.withLock { $0.released = true } }
    var count: Int { state.withLock { $0.proposals.count } }
    var all: [Command] { state.withLock { $0.proposals } }
}
