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

    @Test("the costliest previews stay cheap: 100 leap days in DST zones from year 1 and from year 9000, a zone that skipped a day, the end of the calendar")
    func pathologicalPreviewsAreBounded() async throws {
        try await withAPI(makeLocalService()) { client in
            for (query, fires) in [("expr=0%200%2029%202%20*&tz=America/New_York&from=0001-01-01T00:00:00Z", 100),
                                   ("expr=0%200%2029%202%20*&tz=America/Santiago&from=9000-01-01T00:00:00Z", 100),
                                   ("expr=30%202%20*%20*%20*&tz=Australia/Lord_Howe&from=1800-01-01T00:00:00Z", 100),
                                   ("expr=0%200%2030%2012%20*&tz=Pacific/Apia&from=2011-01-01T00:00:00Z", 100),
                                   // The search stops at the end of year 9999: 9992 and 9996 only, no trap.
                                   ("expr=0%200%2029%202%20*&tz=UTC&from=9990-01-01T00:00:00Z", 2)] {
                let response = try await client.send(.get, "/api/cron/next?\(query)&count=100")
                #expect(response.status == .ok, "\(query): \(response.text.prefix(200))")
                #expect(try response.decoded(CronPreviewResource.self).times.count == fires, "\(query)")
            }
            let beyond = try await client.send(.get, "/api/cron/next?expr=@daily&from=9999-12-31T23:59:00Z&count=5")
            #expect(try beyond.decoded(CronPreviewResource.self).times.isEmpty)
            // No time bound here: this suite shares the cooperative pool with the CPU-bound suites,
            // so a request can wait seconds for a thread (CI: 27 s for what takes 18 ms alone).
            // `quorum cron next --count 100` measures each of these at well under a second.
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
