import NodeCore
import RaftCore
import SchedulerCore
import Testing

/// Issue #15's `wipe` finding: a node whose data directory was wiped catches up from entry 1 in
/// several applied batches, every entry live (nothing is on its disk to replay), and its lease is
/// proven by the first round trip — long before it has caught up. An assignment its previous
/// incarnation ran and finished used to be started again when the batch that applied it ended
/// before the entry that finished it: the ledger counted two executions of one attempt.
@Suite("NodeCore: a node that lost its log never starts attempts assigned before it started")
struct WipedNodeCatchUpTests {
    let started = MonotonicTime(.seconds(100))
    /// When the previous incarnation was assigned the attempt (the leader's stamp).
    let assignedWall = Timestamp(1_800_000_000_000)
    /// When the wiped node's new process started: 30 s later.
    var restartedWall: Timestamp { assignedWall.adding(milliseconds: 30_000) }

    var settings: NodeCore.Settings {
        NodeCore.Settings(lease: .seconds(4), leaseMargin: .seconds(1), voters: ["n1", "n2", "n3"],
                          slots: ["n1": 2, "n2": 2, "n3": 2])
    }

    func stamped(_ command: Command, at wall: Timestamp) -> StampedCommand { StampedCommand(at: wall, command: command) }

    /// The wiped node's previous data directory's incarnation, and its new one.
    let oldIncarnation: UInt64 = 0x1111
    let newIncarnation: UInt64 = 0x2222

    /// Entries 1–2: job `a` submitted and its attempt 1 assigned to n2 at `wall` (60 s timeout,
    /// so a late start is not cut by the deadline), naming `incarnation` (0: none, an older
    /// leader); entry 3: that attempt succeeded 2 s later.
    func history(at wall: Timestamp, naming incarnation: UInt64 = 0) -> [(index: Raft.LogIndex, command: StampedCommand)] {
        let submit = Command.submitJob(SubmitJob(jobID: "a", spec: JobSpec(name: "a", timeoutMs: 60_000), runID: "r-a"))
        let assign = Command.assignAttempt(AssignAttempt(runID: "r-a", executor: "n2", attempt: 1,
                                                         deadline: wall.adding(milliseconds: 60_000),
                                                         executorIncarnation: incarnation))
        let finish = Command.finishAttempt(FinishAttempt(runID: "r-a", attempt: 1, report: .success))
        return [(Raft.LogIndex(1), stamped(submit, at: wall)), (Raft.LogIndex(2), stamped(assign, at: wall)),
                (Raft.LogIndex(3), stamped(finish, at: wall.adding(milliseconds: 2_000)))]
    }

    /// Node n2 started at `restartedWall` with entries through `replayThrough` on disk (data
    /// directory `incarnation`; 0: unknown), its lease proven by a round trip with leader n1.
    func provenNode(replayThrough: Raft.LogIndex, incarnation: UInt64 = 0) throws -> NodeCore {
        var node = NodeCore(id: "n2", settings: settings, started: started, startedWall: restartedWall,
                            replayThrough: replayThrough, incarnation: incarnation)
        let directives = node.executorTick(at: started, wallClock: restartedWall, leader: "n1")
        guard case .sendProbe(_, let probe, _)? = directives.first else {
            Issue.record("expected a probe, got \(directives)")
            throw CancellationError()
        }
        node.echoReceived(LeaseEcho.answering(probe, echoID: 1, features: .thisBuild), from: "n1", at: started)
        #expect(node.executorLease.isProven(at: started))
        return node
    }

    func starts(_ directives: [NodeCore.Directive]) -> [AttemptOrder] {
        directives.compactMap { if case .start(let order) = $0 { order } else { nil } }
    }

    @Test("catching up in two batches, the first ending between an old assignment and its finish, starts nothing")
    func oldAssignmentSplitFromItsFinishIsNotStarted() throws {
        var node = try provenNode(replayThrough: .zero)
        let entries = history(at: assignedWall)
        let now = (started, restartedWall.adding(milliseconds: 1_000))
        let first = node.apply(Array(entries[0 ..< 2]), clock: now)
        #expect(starts(first.directives).isEmpty, "the old assignment was started again: \(first.directives)")
        let second = node.apply(Array(entries[2...]), clock: now)
        #expect(second.directives.isEmpty)
        #expect(node.state.run("r-a")?.state == .succeeded)
    }

    /// The gap the clock cut-off left (found by the scheduler simulator with catch-ups applied in
    /// batches of 8 and an "an attempt runs at most once" invariant, seed 82): the cut-off allows
    /// a second for clock differences, and a leader's stamp may lead true time by up to ~1.15 s,
    /// so an assignment the previous incarnation started less than about a second before it was
    /// wiped and restarted looked fresh — and was started again while the state still had it
    /// running. Closed without clocks: the assignment names the incarnation the leader heard
    /// (the old directory's), and the new directory starts only what names its own.
    @Test("an attempt assigned within a second before a quick wipe and restart is not started")
    func assignmentJustBeforeAQuickWipe() throws {
        let assigned = restartedWall.adding(milliseconds: -700)  // restarted 0.7 s after the assignment
        var node = try provenNode(replayThrough: .zero, incarnation: newIncarnation)
        let entries = history(at: assigned, naming: oldIncarnation)
        let first = node.apply(Array(entries[0 ..< 2]), clock: (started, restartedWall.adding(milliseconds: 200)))
        #expect(starts(first.directives).isEmpty, "the predecessor's attempt was started again: \(first.directives)")
        // What the state still says runs here is what reconciliation reports lost.
        #expect(node.lostAttempts(runningHere: []) == [AttemptKey(runID: "r-a", attempt: 1)])
    }

    /// Without the incarnation the clock rule decides, and the gap is still there: kept as the
    /// record of what an older leader's unnamed assignment allows (docs/chaos.md).
    @Test("an unnamed assignment within a second before a quick wipe is still judged by the clock (the older leader's gap)")
    func unnamedAssignmentJustBeforeAQuickWipeKeepsTheClockRule() throws {
        let assigned = restartedWall.adding(milliseconds: -700)
        var node = try provenNode(replayThrough: .zero, incarnation: newIncarnation)
        let first = node.apply(Array(history(at: assigned)[0 ..< 2]), clock: (started, restartedWall.adding(milliseconds: 200)))
        #expect(starts(first.directives).map(\.runID) == ["r-a"])
    }

    @Test("an assignment naming this directory's incarnation is started, even stamped before the process started")
    func assignmentNamingOwnIncarnationIsStarted() throws {
        // The node's wall clock runs 5 s ahead of the leader's stamps: the clock rule would
        // refuse this assignment; the incarnation says it was given to this directory.
        var node = try provenNode(replayThrough: .zero, incarnation: newIncarnation)
        let entries = history(at: restartedWall.adding(milliseconds: -5_000), naming: newIncarnation)
        let first = node.apply(Array(entries[0 ..< 2]), clock: (started, restartedWall.adding(milliseconds: 200)))
        #expect(starts(first.directives).map(\.runID) == ["r-a"])
    }

    @Test("a node that kept its log never starts an assignment naming another incarnation of its id")
    func nodeWithItsLogRefusesAnotherIncarnation() throws {
        var node = try provenNode(replayThrough: Raft.LogIndex(1), incarnation: newIncarnation)
        let entries = history(at: restartedWall, naming: oldIncarnation)
        _ = node.apply(Array(entries[0 ..< 1]))  // its own disk: replay
        let first = node.apply(Array(entries[1 ..< 2]), clock: (started, restartedWall.adding(milliseconds: 200)))
        #expect(starts(first.directives).isEmpty)
    }

    @Test("an attempt assigned after a node without a log started is started")
    func freshAssignmentIsStarted() throws {
        var node = try provenNode(replayThrough: .zero)
        let entries = history(at: restartedWall.adding(milliseconds: 500))
        let first = node.apply(Array(entries[0 ..< 2]), clock: (started, restartedWall.adding(milliseconds: 1_000)))
        #expect(starts(first.directives).map(\.runID) == ["r-a"])
    }

    /// A restarted node that kept its log replays what its previous process ran (those entries
    /// are on its disk); an assignment past its log was never started by that process, and once a
    /// round trip proves the lease the leader counts on it: it is started (the rule before).
    @Test("a node that kept its log starts a proven assignment past its log, as before")
    func nodeWithItsLogKeepsTheProvenRule() throws {
        var node = try provenNode(replayThrough: Raft.LogIndex(1))
        let entries = history(at: assignedWall)
        let first = node.apply(Array(entries[0 ..< 2]), clock: (started, restartedWall.adding(milliseconds: 1_000)))
        #expect(starts(first.directives).map(\.runID) == ["r-a"])
    }
}
