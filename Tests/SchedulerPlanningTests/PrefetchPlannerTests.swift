@testable import SchedulerPlanning
import SchedulerCore
import Testing

@Suite("DutyPlanner: prefetch — assignments an executor holds beyond its slots")
struct PrefetchPlannerTests {
    let t0 = Timestamp(1_800_000_000_000)
    let slackMs: Int64 = 10_000
    let graceMs: Int64 = 5_000

    func submit(_ id: String, timeoutMs: Int64 = 1_000, into state: inout SchedulerState) {
        let spec = JobSpec(name: id, timeoutMs: timeoutMs)
        _ = state.apply(.submitJob(SubmitJob(jobID: JobID(id), spec: spec, runID: RunID("r-" + id))), at: t0)
    }

    func queued(_ count: Int, timeoutMs: Int64 = 1_000) -> SchedulerState {
        var state = SchedulerState()
        for i in 0..<count { submit("j\(i)", timeoutMs: timeoutMs, into: &state) }
        return state
    }

    func executor(_ id: String, slots: Int, prefetch: Int, leader: Bool = false) -> ExecutorCapacity {
        ExecutorCapacity(id: ExecutorID(id), slots: slots, isLeader: leader, isReachable: true, prefetch: prefetch)
    }

    func assignments(_ state: SchedulerState, _ executors: [ExecutorCapacity], max: Int = 100) -> [AssignAttempt] {
        DutyPlanner.plan(state: state, now: t0, executors: executors, lost: [], maxAssignments: max,
                         deadlineSlackMs: slackMs, killGraceMs: graceMs) { RunID("fire") }
            .compactMap { if case .assignAttempt(let a) = $0 { a } else { nil } }
    }

    @Test("every free slot, the leader's included, is filled before any executor is asked to hold")
    func freeSlotsFirst() {
        let plan = assignments(queued(10), [executor("n1", slots: 2, prefetch: 2, leader: true),
                                            executor("n2", slots: 2, prefetch: 2), executor("n3", slots: 2, prefetch: 2)])
        #expect(plan.count == 10)
        let normal = t0.adding(milliseconds: 1_000 + slackMs)
        let first = plan.prefix(6)
        #expect(first.allSatisfy { $0.deadline == normal })
        #expect(first.filter { $0.executor == "n1" }.count == 2)
        // Then held places: followers' before the leader's.
        let held = plan.dropFirst(6)
        #expect(held.allSatisfy { $0.executor != "n1" && $0.deadline > normal })
        #expect(held.filter { $0.executor == "n2" }.count == 2)
        #expect(held.filter { $0.executor == "n3" }.count == 2)
    }

    @Test("without prefetch an executor gets no more than its free slots")
    func off() {
        let plan = assignments(queued(10), [executor("n2", slots: 2, prefetch: 0), executor("n3", slots: 2, prefetch: 0)])
        #expect(plan.count == 4)
    }

    @Test("at most one held assignment per slot, whatever prefetch says; a full executor gets nothing")
    func cappedPerSlot() {
        #expect(DutyPlanner.maxHeldPerSlot == 1)
        #expect(assignments(queued(20), [executor("n2", slots: 2, prefetch: 99)]).count == 2 + 2)
        var state = queued(6)
        for id in ["r-j0", "r-j1", "r-j2", "r-j3"] {
            _ = state.apply(.assignAttempt(AssignAttempt(runID: RunID(id), executor: "n2", attempt: 1,
                                                         deadline: t0.adding(milliseconds: 60_000))), at: t0)
        }
        #expect(assignments(state, [executor("n2", slots: 2, prefetch: 2)]).isEmpty)
    }

    @Test("a held assignment waits one round of the slots per slots' worth of held ones ahead of it")
    func deeperHeldWaitLonger() {
        let plan = assignments(queued(7), [executor("n2", slots: 2, prefetch: 2)])
        #expect(plan.count == 4)
        let round = 1_000 + graceMs
        let waits = plan.map { $0.deadline.milliseconds(since: t0) - 1_000 - slackMs }
        #expect(waits == [0, 0, round, round])  // 2 in the slots, then held places 1–2: one round
        #expect(DutyPlanner.heldWait(position: 3, slots: 2, longestTimeoutMs: 1_000, killGraceMs: graceMs) == 2 * round)
        #expect(DutyPlanner.heldWait(position: 5, slots: 2, longestTimeoutMs: 1_000, killGraceMs: graceMs) == 3 * round)
    }

    @Test("the held wait saturates instead of trapping")
    func heldWaitSaturates() {
        #expect(DutyPlanner.heldWait(position: 8, slots: 2, longestTimeoutMs: .max, killGraceMs: 5_000) == .max)
        #expect(DutyPlanner.heldWait(position: .max, slots: 1, longestTimeoutMs: .max / 2, killGraceMs: 0) == .max)
        #expect(DutyPlanner.heldWait(position: 0, slots: 0, longestTimeoutMs: 10, killGraceMs: 5) == 15)
    }

    @Test("a held assignment's deadline allows for the longest timeout ahead of it plus the kill grace")
    func heldDeadlineWaitsForTheLongest() {
        var state = SchedulerState()
        submit("long", timeoutMs: 60_000, into: &state)
        submit("short", timeoutMs: 1_000, into: &state)
        _ = state.apply(.assignAttempt(AssignAttempt(runID: "r-long", executor: "n2", attempt: 1,
                                                     deadline: t0.adding(milliseconds: 70_000))), at: t0)
        let plan = assignments(state, [executor("n2", slots: 1, prefetch: 1)])
        #expect(plan.map(\.runID) == ["r-short"])
        #expect(plan.first?.deadline == t0.adding(milliseconds: 1_000 + slackMs + 60_000 + graceMs))
    }

    @Test("held deadlines come from timeouts, not earlier deadlines: a stream of them never drifts out")
    func noRatchet() {
        var state = queued(2)
        // An attempt whose own deadline is far out (it was held, or stamped by a slow leader).
        _ = state.apply(.assignAttempt(AssignAttempt(runID: "r-j0", executor: "n2", attempt: 1,
                                                     deadline: t0.adding(milliseconds: 3_600_000))), at: t0)
        let plan = assignments(state, [executor("n2", slots: 1, prefetch: 1)])
        #expect(plan.first?.deadline == t0.adding(milliseconds: 1_000 + slackMs + 1_000 + graceMs))
    }

    @Test("the wait counts the round's own earlier assignments to the executor")
    func roundAssignmentsCount() {
        var state = SchedulerState()
        submit("long", timeoutMs: 30_000, into: &state)
        submit("short", timeoutMs: 1_000, into: &state)
        let plan = assignments(state, [executor("n2", slots: 1, prefetch: 1)])
        #expect(plan.map(\.runID) == ["r-long", "r-short"])
        #expect(plan.last?.deadline == t0.adding(milliseconds: 1_000 + slackMs + 30_000 + graceMs))
    }

    @Test("a huge timeout saturates the held deadline instead of trapping")
    func saturates() {
        #expect(DutyPlanner.heldDeadline(now: t0, timeoutMs: .max, slackMs: slackMs, waitMs: .max) == Timestamp(.max))
    }
}
