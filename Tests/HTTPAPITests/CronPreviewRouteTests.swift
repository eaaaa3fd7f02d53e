import Foundation
import HTTPAPI
import Hummingbird
import HummingbirdTesting
import Testing

/// `GET /api/cron/next`: the dashboard's cron preview, the same times `quorum cron next` prints.
@Suite("Cron preview route")
struct CronPreviewRouteTests {
    @Test("the next fire times in the zone, from a given instant, five by default")
    func nextTimes() async throws {
        try await withAPI(makeLocalService()) { client in
            let response = try await client.send(.get, "/api/cron/next?expr=30%209%20*%20*%201-5&tz=Europe/Berlin&from=2026-03-27T12:00:00Z")
            #expect(response.status == .ok)
            let preview = try response.decoded(CronPreviewResource.self)
            // Across the switch to summer time on 29 March 2026: +01:00, then +02:00.
            #expect(preview.times == ["2026-03-30T09:30:00+02:00", "2026-03-31T09:30:00+02:00", "2026-04-01T09:30:00+02:00",
                                      "2026-04-02T09:30:00+02:00", "2026-04-03T09:30:00+02:00"])
            #expect(preview.tz == "Europe/Berlin")
            let three = try await client.send(.get, "/api/cron/next?expr=@hourly&count=3&from=2026-01-01T00:00:00Z")
            #expect(try three.decoded(CronPreviewResource.self).times == ["2026-01-01T01:00:00+00:00", "2026-01-01T02:00:00+00:00", "2026-01-01T03:00:00+00:00"])
            // Spaces form-encoded as "+" (HTML forms, URLSearchParams) read as spaces.
            let plus = try await client.send(.get, "/api/cron/next?expr=0+12+*+*+*&count=1&from=2026-01-01T00:00:00Z")
            #expect(try plus.decoded(CronPreviewResource.self).times == ["2026-01-01T12:00:00+00:00"])
            let hundred = try await client.send(.get, "/api/cron/next?expr=*%20*%20*%20*%20*&count=100")
            #expect(try hundred.decoded(CronPreviewResource.self).times.count == 100)
        }
    }

    @Test("bad input is a 422 naming the field")
    func badInput() async throws {
        try await withAPI(makeLocalService()) { client in
            for (uri, field) in [("/api/cron/next", "expr"), ("/api/cron/next?expr=", "expr"),
                                 ("/api/cron/next?expr=61%20*%20*%20*%20*", "expr"), ("/api/cron/next?expr=0%200%2030%202%20*", "expr"),
                                 ("/api/cron/next?expr=@daily&tz=Mars/Olympus", "tz"), ("/api/cron/next?expr=@daily&count=0", "count"),
                                 ("/api/cron/next?expr=@daily&count=101", "count"), ("/api/cron/next?expr=@daily&count=x", "count"),
                                 ("/api/cron/next?expr=@daily&from=yesterday", "from")] {
                let response = try await client.send(.get, uri)
                #expect(response.status == .unprocessableContent, "\(uri)")
                #expect(response.apiError?.field == field, "\(uri): \(response.text)")
            }
        }
    }
}
