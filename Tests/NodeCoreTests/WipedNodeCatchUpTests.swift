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

    /// Entries 1–2: job `a` submitted and its attempt 1 assigned to n2 at `wall` (60 s timeout,
    /// so a late start is not cut by the deadline); entry 3: that attempt succeeded 2 s later.
    func history(at wall: Timestamp) -> [(index: Raft.LogIndex, command: StampedCommand)] {
        let submit = Command.submitJob(SubmitJob(jobID: "a", spec: JobSpec(name: "a", timeoutMs: 60_000), runID: "r-a"))
        let assign = Command.assignAttempt(AssignAttempt(runID: "r-a", executor: "n2", attempt: 1,
                                                         deadline: wall.adding(milliseconds: 60_000)))
        let finish = Command.finishAttempt(FinishAttempt(runID: "r-a", attempt: 1, report: .success))
        return [(Raft.LogIndex(1), stamped(submit, at: wall)), (Raft.LogIndex(2), stamped(assign, at: wall)),
                (Raft.LogIndex(3), stamped(finish, at: wall.adding(milliseconds: 2_000)))]
    }

    /// Node n2 started at `restartedWall` with entries through `replayThrough` on disk, its lease
    /// proven by a round trip with leader n1.
    func provenNode(replayThrough: Raft.LogIndex) throws -> NodeCore {
        var node = NodeCore(id: "n2", settings: settings, started: started, startedWall: restartedWall,
                            replayThrough: replayThrough)
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

    /// The gap the fix leaves (found by the scheduler simulator with catch-ups applied in batches
    /// of 8 and an "an attempt runs at most once" invariant, seed 82): the cut-off allows a
    /// second for clock differences, and a leader's stamp may lead true time by up to ~1.15 s, so
    /// an assignment the previous incarnation started less than about a second before it was
    /// wiped and restarted looks fresh — and it is started again if it is still running in the
    /// state (the leader has not yet expired it). Closing it needs a rule that does not lean on
    /// clocks (for instance the leader expiring a member's attempts when it sees its incarnation
    /// change); see docs/chaos.md, the `wipe` finding.
    @Test("an attempt assigned within a second before a quick wipe and restart is not started",
          .disabled("known gap (issue #15 wipe): the stale cut-off allows a second of clock difference"))
    func assignmentJustBeforeAQuickWipe() throws {
        let assigned = restartedWall.adding(milliseconds: -700)  // restarted 0.7 s after the assignment
        var node = try provenNode(replayThrough: .zero)
        let entries = history(at: assigned)
        let first = node.apply(Array(entries[0 ..< 2]), clock: (started, restartedWall.adding(milliseconds: 200)))
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
