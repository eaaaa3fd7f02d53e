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
        #expect(outbox.add(report(0, finish("r0"))))  // nothing in flight: this report starts the rounds
        let first = try #require(outbox.takeRound())
        #expect(first.proposal == finish("r0"))  // alone, a report is the entry it always was
        #expect(!outbox.add(report(1, finish("r1"))))
        #expect(!outbox.add(report(2, finish("r2"))))
        #expect(!outbox.add(report(3, .expireAttempt(ExpireAttempt(runID: "r3", attempt: 2, reason: .executorLost)))))
        let second = try #require(outbox.takeRound())
        #expect(second.reports.map(\.ticket) == [1, 2, 3])
        #expect(second.proposal == .batch([finish("r1"), finish("r2"),
                                           .expireAttempt(ExpireAttempt(runID: "r3", attempt: 2, reason: .executorLost))]))
        #expect(outbox.takeRound() == nil)
        #expect(!outbox.inFlight)
        #expect(outbox.add(report(4, finish("r4"))))  // idle again: the next report starts a round
    }

    @Test("a round holds at most maxReports reports and about maxBytes; the rest go in the next, and one large report still goes alone")
    func roundsAreBounded() throws {
        var outbox = FinishOutbox(maxReports: 2, maxBytes: 1 << 20)
        _ = outbox.add(report(0, finish("r0")))
        _ = outbox.add(report(1, finish("r1")))
        _ = outbox.add(report(2, finish("r2")))
        #expect(try #require(outbox.takeRound()).reports.map(\.ticket) == [0, 1])
        #expect(try #require(outbox.takeRound()).reports.map(\.ticket) == [2])

        var small = FinishOutbox(maxBytes: 3_000)
        let large = String(repeating: "x", count: 4_000)
        _ = small.add(report(0, finish("r0", tail: large)))
        _ = small.add(report(1, finish("r1", tail: String(repeating: "y", count: 1_000))))
        _ = small.add(report(2, finish("r2", tail: String(repeating: "z", count: 1_000))))
        #expect(try #require(small.takeRound()).reports.map(\.ticket) == [0])
        #expect(try #require(small.takeRound()).reports.map(\.ticket) == [1, 2])
        #expect(small.takeRound() == nil)
    }
}
