import NodeCore
import SchedulerCore
import Testing

@Suite("FinishOutbox: an executor's finish reports go a round at a time, as one entry")
struct FinishOutboxTests {
    func finish(_ run: String, attempt: Int = 1, tail: String = "") -> Command {
        .finishAttempt(FinishAttempt(runID: RunID(run), attempt: attempt, report: AttemptReport(outcome: .succeeded, outputTail: tail)))
    }

    func report(_ ticket: UInt64, _ command: Command) -> FinishOutbox.Report {
        FinishOutbox.Report(ticket: ticket, command: command)
    }

    @Test("the finishes that end while a round is in flight become one proposal, a .batch in the order they ended")
    func finishesOfARoundBecomeOneProposal() throws {
        var outbox = FinishOutbox(maxBytes: 1 << 20)
        let claimed = outbox.add(report(0, finish("r0")))
        #expect(claimed)  // nothing in flight: this report starts the rounds
        let taken = outbox.takeRound()
        let first = try #require(taken)
        #expect(first.proposal == finish("r0"))  // alone, a report is the entry it always was
        let claims = [outbox.add(report(1, finish("r1"))), outbox.add(report(2, finish("r2"))),
                      outbox.add(report(3, .expireAttempt(ExpireAttempt(runID: "r3", attempt: 2, reason: .executorLost))))]
        #expect(claims == [false, false, false])  // a round is in flight: they wait for the next
        let next = outbox.takeRound()
        let second = try #require(next)
        #expect(second.reports.map(\.ticket) == [1, 2, 3])
        #expect(second.proposal == .batch([finish("r1"), finish("r2"),
                                           .expireAttempt(ExpireAttempt(runID: "r3", attempt: 2, reason: .executorLost))]))
        let none = outbox.takeRound()
        #expect(none == nil)
        #expect(!outbox.inFlight)
        let claimedAgain = outbox.add(report(4, finish("r4")))
        #expect(claimedAgain)  // idle again: the next report starts a round
    }

    @Test("a round holds at most maxReports reports and about maxBytes; the rest go in the next, and one large report still goes alone")
    func roundsAreBounded() {
        var outbox = FinishOutbox(maxReports: 2, maxBytes: 1 << 20)
        _ = outbox.add(report(0, finish("r0")))
        _ = outbox.add(report(1, finish("r1")))
        _ = outbox.add(report(2, finish("r2")))
        #expect(Self.tickets(of: &outbox) == [[0, 1], [2]])

        var small = FinishOutbox(maxBytes: 3_000)
        let large = String(repeating: "x", count: 4_000)
        _ = small.add(report(0, finish("r0", tail: large)))
        _ = small.add(report(1, finish("r1", tail: String(repeating: "y", count: 1_000))))
        _ = small.add(report(2, finish("r2", tail: String(repeating: "z", count: 1_000))))
        #expect(Self.tickets(of: &small) == [[0], [1, 2]])
    }

    /// The tickets of every round the outbox gives until it is idle.
    static func tickets(of outbox: inout FinishOutbox) -> [[UInt64]] {
        var rounds: [[UInt64]] = []
        while let round = outbox.takeRound() { rounds.append(round.reports.map(\.ticket)) }
        return rounds
    }
}
