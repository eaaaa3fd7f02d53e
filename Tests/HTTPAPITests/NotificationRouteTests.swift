import Foundation
import HTTPAPI
import Hummingbird
import HummingbirdTesting
import SchedulerCore
import Testing

/// `GET /api/notifications`: the replicated table through the API (the in-memory twin derives
/// notifications as a node does), filtered by state and job; a bad state is a 422 naming it.
@Suite("GET /api/notifications")
struct NotificationRouteTests {
    @Test("a forbidden cron fire with a rule shows as one pending webhook notification; filters by state and job; bad state 422")
    func pendingOverlap() async throws {
        let clock = ManualClock(startOfTest)
        let service = makeLocalService(clock: clock)
        try await withAPI(service) { client in
            let body = #"{"name":"every-minute","schedule":"* * * * *","concurrency":"forbid","#
                + #""notify":[{"on":["overlap_skipped"],"webhook":"https://hooks.example.com/q"}]}"#
            let created = try await client.send(.post, "/api/jobs", json: body)
            #expect(created.status == .created, "\(created.text)")
            let id = try created.decoded(JobResource.self).id
            // First fire: a run that never starts here (no executor); the second one is skipped.
            clock.advance(byMilliseconds: 61_000)
            _ = try await client.send(.get, "/api/jobs/\(id)")
            clock.advance(byMilliseconds: 60_000)
            let pending = try await client.send(.get, "/api/notifications?state=pending")
            #expect(pending.status == .ok, "\(pending.text)")
            let page = try pending.decoded(ListPage<NotificationResource>.self)
            let item = try #require(page.items.first)
            #expect(page.items.count == 1)
            #expect(item.type == "overlap_skipped" && item.channel == "webhook" && item.webhook == "https://hooks.example.com/q")
            #expect(item.jobId == id && item.state == "pending" && item.tries == 0 && item.nextAttemptAt != nil && item.email == nil)
            #expect(item.eventId.hasPrefix("ev-"))
            #expect(pending.text.contains(#""last_error":null"#), "every key present, null where it does not apply")
            let delivered = try await client.send(.get, "/api/notifications?state=delivered")
            #expect(try delivered.decoded(ListPage<NotificationResource>.self).items.isEmpty)
            let otherJob = try await client.send(.get, "/api/notifications?job=nope")
            #expect(try otherJob.decoded(ListPage<NotificationResource>.self).items.isEmpty)
            let bad = try await client.send(.get, "/api/notifications?state=sent")
            #expect(bad.status == .unprocessableContent)
            #expect(bad.text.contains(#""field":"state""#), "\(bad.text)")
        }
    }
}
