@testable import NodeRuntime
import SchedulerCore
import Testing

/// The leader's wake-up for the state's next due instant (``LeaderDuties``): armed only when it
/// comes before the next periodic round.
@Suite("leader duties: the due-instant wake-up")
struct DueWakeTests {
    let now = Timestamp(1_800_000_000_000)
    let period = Duration.milliseconds(50)

    @Test("a due instant inside the period is waited for exactly; past, equal to now, at or after the period, or none: not armed")
    func delays() {
        #expect(LeaderDuties.dueWakeDelay(due: now.adding(milliseconds: 12), now: now, period: period) == .milliseconds(12))
        #expect(LeaderDuties.dueWakeDelay(due: now.adding(milliseconds: 1), now: now, period: period) == .milliseconds(1))
        #expect(LeaderDuties.dueWakeDelay(due: now.adding(milliseconds: 49), now: now, period: period) == .milliseconds(49))
        #expect(LeaderDuties.dueWakeDelay(due: now.adding(milliseconds: 50), now: now, period: period) == nil)
        #expect(LeaderDuties.dueWakeDelay(due: now, now: now, period: period) == nil)
        #expect(LeaderDuties.dueWakeDelay(due: now.adding(milliseconds: -5), now: now, period: period) == nil)
        #expect(LeaderDuties.dueWakeDelay(due: nil, now: now, period: period) == nil)
    }

    @Test("extreme instants never overflow")
    func extremes() {
        #expect(LeaderDuties.dueWakeDelay(due: Timestamp(Int64.max), now: Timestamp(Int64.min), period: period) == nil)
        #expect(LeaderDuties.dueWakeDelay(due: Timestamp(Int64.max), now: now, period: period) == nil)
        #expect(LeaderDuties.dueWakeDelay(due: Timestamp(Int64.min + 1), now: Timestamp(Int64.min), period: period) == .milliseconds(1))
    }
}
