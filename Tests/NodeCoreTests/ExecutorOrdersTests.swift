import NodeCore
import SchedulerCore
import Testing

@Suite("ExecutorOrders: which starts a node carries out")
struct ExecutorOrdersTests {
    let t0 = Timestamp(1_800_000_000_000)

    /// A state with run `r-a` assigned to n2 at `t0` (deadline `t0` + 20 s), and its start order.
    func assigned() -> (SchedulerState, AttemptOrder) {
        var state = SchedulerState()
        var events: [SchedulerEvent] = []
        state.apply(.submitJob(SubmitJob(jobID: "a", spec: JobSpec(name: "a", timeoutMs: 10_000), runID: "r-a")), at: t0, into: &events)
        state.apply(.assignAttempt(AssignAttempt(runID: "r-a", executor: "n2", attempt: 1, deadline: t0.adding(milliseconds: 20_000))),
                    at: t0, into: &events)
        return (state, AttemptOrder(runID: "r-a", attempt: 1, task: .noop, timeoutMs: 10_000))
    }

    @Test("a fenced node starts nothing")
    func fencedStartsNothing() {
        let (state, order) = assigned()
        #expect(ExecutorOrders.admitted([order], in: state, fenced: true, proven: true, startedAt: t0, now: t0, killGraceMs: 1_000).isEmpty)
    }

    /// A node that lost its log replays old assignments live; the leader is about to expire them.
    @Test("until the lease is proven, assignments made before this process started are not started")
    func staleAssignmentsWaitForAProvenLease() {
        let (state, order) = assigned()
        let restartedLater = t0.adding(milliseconds: 5_000)
        #expect(ExecutorOrders.admitted([order], in: state, fenced: false, proven: false, startedAt: restartedLater, now: nil,
                                        killGraceMs: 1_000).isEmpty)
        #expect(ExecutorOrders.admitted([order], in: state, fenced: false, proven: true, startedAt: restartedLater, now: nil,
                                        killGraceMs: 1_000) == [order])
        #expect(ExecutorOrders.admitted([order], in: state, fenced: false, proven: false, startedAt: t0, now: nil,
                                        killGraceMs: 1_000) == [order])
    }

    /// A node cut off from the log (or paused) past its lease applies an old assignment only after
    /// its lease came back; the leader may have expired it as lost and retried it meanwhile.
    @Test("nothing assigned more than a second before the lease last came back after running out starts")
    func nothingAssignedBeforeALapse() {
        let (state, order) = assigned()
        func admitted(lapseEnded: Timestamp?) -> [AttemptOrder] {
            ExecutorOrders.admitted([order], in: state, fenced: false, proven: true, startedAt: t0, now: nil,
                                    killGraceMs: 1_000, lapseEnded: lapseEnded)
        }
        #expect(admitted(lapseEnded: t0.adding(milliseconds: 3_000)).isEmpty)
        #expect(admitted(lapseEnded: t0.adding(milliseconds: 1_001)).isEmpty)
        #expect(admitted(lapseEnded: t0.adding(milliseconds: 500)) == [order], "within the second for clock differences")
        #expect(admitted(lapseEnded: t0.adding(milliseconds: -1_000)) == [order])
        #expect(admitted(lapseEnded: nil) == [order])
    }

    /// A node that applies its assignment late would run the task past the leader's deadline,
    /// next to the retry the leader starts elsewhere.
    @Test("a late start is time-boxed to end, killed, before the leader's deadline; one with no time left is not started")
    func timeBoxedToTheDeadline() throws {
        let (state, order) = assigned()
        let late = try #require(ExecutorOrders.admitted([order], in: state, fenced: false, proven: true, startedAt: t0,
                                                        now: t0.adding(milliseconds: 15_000), killGraceMs: 1_000).first)
        #expect(late.timeoutMs == 3_000)  // 20 s deadline − 15 s − 1 s kill grace − 1 s clock slack
        let onTime = try #require(ExecutorOrders.admitted([order], in: state, fenced: false, proven: true, startedAt: t0,
                                                          now: t0, killGraceMs: 1_000).first)
        #expect(onTime.timeoutMs == 10_000)
        #expect(ExecutorOrders.admitted([order], in: state, fenced: false, proven: true, startedAt: t0,
                                        now: t0.adding(milliseconds: 18_500), killGraceMs: 1_000).isEmpty)
    }
}
