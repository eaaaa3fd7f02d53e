import Notify
@testable import quorum
import SchedulerCore
import Testing

/// What the leader records after one try (`NodeNotificationSender.outcome`): the retry schedule
/// seeded by the `event_id`, so every leader computes the same `next_attempt_at`.
@Suite("NodeNotificationSender: a try's outcome as the leader records it")
struct NodeNotificationOutcomeTests {
    private static let now = Timestamp(1_800_000_000_000)
    private static let schedule = RetrySchedule(base: .seconds(10))

    private static func record(tries: Int) -> NotificationRecord {
        var record = NotificationRecord(key: NotificationKey(event: 7_000_000, destination: 1), trigger: .dead,
                                        destination: .webhook("https://h.example.com"), at: now, jobID: "j")
        record.tries = tries
        return record
    }

    @Test("delivered and permanent settle with the try counted; a retryable one is due again on the seeded schedule")
    func outcomes() throws {
        let fresh = Self.record(tries: 0)
        #expect(NodeNotificationSender.outcome(of: .delivered, record: fresh, now: Self.now, schedule: Self.schedule)
            == .delivered(fresh.key, tries: 1))
        #expect(NodeNotificationSender.outcome(of: .permanent(reason: "HTTP 404"), record: fresh, now: Self.now, schedule: Self.schedule)
            == .failed(fresh.key, tries: 1, error: "HTTP 404"))
        let retried = NodeNotificationSender.outcome(of: .retryable(reason: "HTTP 503", retryAfter: nil), record: fresh,
                                                     now: Self.now, schedule: Self.schedule)
        let wait = try #require(Self.schedule.delay(afterTries: 1, seed: RetrySchedule.seed(eventID: fresh.eventID)))
        let waitMs = wait.components.seconds * 1_000 + wait.components.attoseconds / 1_000_000_000_000_000
        #expect(retried == .retry(fresh.key, tries: 1, nextAttemptAt: Self.now.adding(milliseconds: waitMs), error: "HTTP 503"))
        #expect((5_000...10_000).contains(waitMs))
    }

    @Test("the last try of the budget fails the notification; a long error is cut to 512 bytes")
    func budgetAndCut() {
        let last = Self.record(tries: Self.schedule.maxTries - 1)
        let outcome = NodeNotificationSender.outcome(of: .retryable(reason: String(repeating: "é", count: 600), retryAfter: nil),
                                                     record: last, now: Self.now, schedule: Self.schedule)
        guard case .failed(_, let tries, let error) = outcome else {
            Issue.record("not failed: \(outcome)")
            return
        }
        #expect(tries == Self.schedule.maxTries)
        #expect(error.hasPrefix("gave up after \(Self.schedule.maxTries) tries"))
        #expect(error.utf8.count <= NodeNotificationSender.errorLimit)
    }
}
