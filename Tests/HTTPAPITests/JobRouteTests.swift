import HTTPAPI
import Hummingbird
import HummingbirdTesting
import SchedulerCore
import Testing

@Suite("Job routes")
struct JobRouteTests {
    let seed = #"{"name":"example-job","type":"cron","schedule":"0 * * * *","priority":1}"#

    @Test("the seed request works verbatim: 201 with the job")
    func seedRequest() async throws {
        try await withAPI(makeLocalService()) { client in
            let response = try await client.send(.post, "/api/jobs", json: seed)
            #expect(response.status == .created)
            #expect(response.headers[.contentType]?.hasPrefix("application/json") == true)
            let job = try response.decoded(JobResource.self)
            #expect(job.name == "example-job")
            #expect(job.type == "cron")
            #expect(job.schedule == "0 * * * *")
            #expect(job.timezone == "UTC")
            #expect(job.priority == 1)
            #expect(job.state == "scheduled")
            #expect(job.status == "Pending")
            #expect(job.nextRunAt?.description == "2026-12-01T10:00:00.000Z")
            #expect(job.createdAt.description == "2026-12-01T09:00:00.000Z")
            #expect(response.text.contains(#""next_run_at":"2026-12-01T10:00:00.000Z""#))
            #expect(response.text.contains(#""last_run":null"#))
        }
    }

    @Test("a once job: get, status, runs, cancel")
    func onceLifecycle() async throws {
        try await withAPI(makeLocalService()) { client in
            let created = try await client.send(.post, "/api/jobs", json: #"{"name":"report","delay_seconds":60,"labels":{"team":"data"}}"#)
            #expect(created.status == .created)
            let job = try created.decoded(JobResource.self)
            #expect(job.type == "once")
            #expect(job.state == "pending")
            #expect(job.runAt?.description == "2026-12-01T09:01:00.000Z")
            #expect(job.labels == ["team": "data"])

            let fetched = try await client.send(.get, "/api/jobs/\(job.id)")
            #expect(fetched.status == .ok)
            #expect(try fetched.decoded(JobResource.self).id == job.id)

            let status = try await client.send(.get, "/api/job-status/\(job.id)")
            #expect(status.status == .ok)
            let statusBody = try status.decoded(JobStatusResource.self)
            #expect(statusBody.status == "Pending")
            #expect(statusBody.state == "pending")
            #expect(statusBody.attempt == 0)

            let runs = try await client.send(.get, "/api/jobs/\(job.id)/runs")
            #expect(runs.status == .ok)
            let items = try runs.decoded(AttemptList.self).items
            #expect(items.count == 1)
            #expect(items.first?.state == "pending")
            #expect(runs.text.contains(#""exit_code":null"#))

            let cancelled = try await client.send(.delete, "/api/jobs/\(job.id)")
            #expect(cancelled.status == .ok)
            #expect(try cancelled.decoded(JobResource.self).state == "cancelled")
            let again = try await client.send(.delete, "/api/jobs/\(job.id)")
            #expect(again.status == .conflict)
            #expect(again.apiError?.code == "conflict")
        }
    }

    @Test("unknown ids are 404 on every job route")
    func notFound() async throws {
        try await withAPI(makeLocalService()) { client in
            for (method, uri) in [(HTTPRequest.Method.get, "/api/jobs/nope"), (.get, "/api/job-status/nope"),
                                  (.get, "/api/jobs/nope/runs"), (.delete, "/api/jobs/nope"),
                                  (.post, "/api/jobs/nope/pause"), (.post, "/api/jobs/nope/resume"),
                                  (.post, "/api/jobs/nope/trigger"), (.get, "/api/dags/nope"),
                                  (.delete, "/api/dags/nope"), (.post, "/api/dlq/nope/requeue"),
                                  (.delete, "/api/dlq/nope"), (.get, "/api/no-such-endpoint")] {  // PUT /api/jobs: 405 (MethodNotAllowedTests)
                let response = try await client.send(method, uri)
                #expect(response.status == .notFound, "\(method) \(uri)")
                #expect(response.apiError?.code == "not_found", "\(method) \(uri)")
            }
        }
    }

    @Test("pause, resume and trigger a cron job")
    func cronControl() async throws {
        try await withAPI(makeLocalService()) { client in
            let job = try await client.send(.post, "/api/jobs", json: seed).decoded(JobResource.self)
            let paused = try await client.send(.post, "/api/jobs/\(job.id)/pause")
            #expect(paused.status == .ok)
            #expect(try paused.decoded(JobResource.self).state == "paused")
            #expect(try await client.send(.post, "/api/jobs/\(job.id)/pause").status == .conflict)
            let resumed = try await client.send(.post, "/api/jobs/\(job.id)/resume")
            #expect(try resumed.decoded(JobResource.self).state == "scheduled")
            let triggered = try await client.send(.post, "/api/jobs/\(job.id)/trigger")
            #expect(triggered.status == .ok)
            let body = try triggered.decoded(JobResource.self)
            #expect(body.status == "In-Progress")
            #expect(body.lastRun?.state == "queued")
        }
    }

    @Test("pausing a once job is a 422")
    func pauseOnce() async throws {
        try await withAPI(makeLocalService()) { client in
            let job = try await client.send(.post, "/api/jobs", json: #"{"name":"x"}"#).decoded(JobResource.self)
            let response = try await client.send(.post, "/api/jobs/\(job.id)/pause")
            #expect(response.status == .unprocessableContent)
            #expect(response.apiError?.code == "invalid")
        }
    }

    @Test("bad input is 400 or 422 with the field, never 500")
    func badInput() async throws {
        try await withAPI(makeLocalService()) { client in
            let cases: [(String, HTTPResponse.Status, String, String?)] = [
                ("{", .badRequest, "bad_request", nil),
                ("", .badRequest, "bad_request", nil),
                (#"{"name":"a","color":"red"}"#, .badRequest, "bad_request", "color"),
                (#"{"name":"a","task":{"kind":"shell","command":"ls"}}"#, .badRequest, "bad_request", "task.command"),
                (#"{"name":"a","schedule":"99 * * * *"}"#, .unprocessableContent, "invalid", "schedule"),
                (#"{"name":"a","schedule":"* * * * *","timezone":"Nowhere/Town"}"#, .unprocessableContent, "invalid", "timezone"),
                (#"{"name":"a","priority":0.5}"#, .unprocessableContent, "invalid", "priority"),
            ]
            for (json, status, code, field) in cases {
                let response = try await client.send(.post, "/api/jobs", json: json)
                #expect(response.status == status, "\(json)")
                #expect(response.apiError?.code == code, "\(json)")
                #expect(response.apiError?.field == field, "\(json)")
                #expect(response.apiError?.message.isEmpty == false)
            }
        }
    }

    @Test("Idempotency-Key: same key and body → 200 with the first job; other body → 409")
    func idempotency() async throws {
        try await withAPI(makeLocalService()) { client in
            let headers: HTTPFields = [idempotencyKeyHeader: "abc-123"]
            let first = try await client.send(.post, "/api/jobs", json: seed, headers: headers)
            #expect(first.status == .created)
            let retry = try await client.send(.post, "/api/jobs", json: seed, headers: headers)
            #expect(retry.status == .ok)
            #expect(try retry.decoded(JobResource.self).id == first.decoded(JobResource.self).id)
            let clash = try await client.send(.post, "/api/jobs", json: #"{"name":"other"}"#, headers: headers)
            #expect(clash.status == .conflict)
            #expect(clash.apiError?.code == "conflict")
            let list = try await client.send(.get, "/api/jobs").decoded(ListPage<JobResource>.self)
            #expect(list.items.count == 1)
        }
    }

    @Test("a body over the limit is 413")
    func oversize() async throws {
        try await withAPI(makeLocalService(), limits: APILimits(maxBodyBytes: 64, maxBatchBodyBytes: 128)) { client in
            let big = #"{"name":"\#(String(repeating: "x", count: 100))"}"#
            let response = try await client.send(.post, "/api/jobs", json: big)
            #expect(response.status == .contentTooLarge)
            #expect(response.apiError?.code == "payload_too_large")
            let dag = try await client.send(.post, "/api/dags", json: big)
            #expect(dag.status == .contentTooLarge)
            let batchBody = #"{"jobs":[\#(Array(repeating: #"{"name":"a"}"#, count: 12).joined(separator: ","))]}"#
            #expect(batchBody.utf8.count > 128)
            let batch = try await client.send(.post, "/api/jobs/batch", json: batchBody)
            #expect(batch.status == .contentTooLarge)
        }
    }

    @Test("list: newest first, pagination cursor round trip, state and label filters")
    func listing() async throws {
        try await withAPI(makeLocalService()) { client in
            var ids: [String] = []
            for i in 0..<7 {
                let labels = i % 2 == 0 ? #"{"team":"data","tier":"gold"}"# : #"{"team":"web"}"#
                let job = try await client.send(.post, "/api/jobs", json: #"{"name":"j\#(i)","delay_seconds":60,"labels":\#(labels)}"#)
                ids.append(try job.decoded(JobResource.self).id)
            }
            var seen: [String] = []
            var cursor: String?
            var pages = 0
            repeat {
                let uri = "/api/jobs?limit=3" + (cursor.map { "&cursor=\($0)" } ?? "")
                let page = try await client.send(.get, uri).decoded(ListPage<JobResource>.self)
                #expect(page.items.count <= 3)
                seen += page.items.map(\.id)
                cursor = page.nextCursor
                pages += 1
            } while cursor != nil && pages < 10
            #expect(seen == ids.reversed())
            #expect(pages == 3)

            let data = try await client.send(.get, "/api/jobs?label=team:data").decoded(ListPage<JobResource>.self)
            #expect(data.items.map(\.id) == [ids[6], ids[4], ids[2], ids[0]])
            let both = try await client.send(.get, "/api/jobs?label=team:data&label=tier:gold&limit=2").decoded(ListPage<JobResource>.self)
            #expect(both.items.map(\.id) == [ids[6], ids[4]])
            #expect(both.nextCursor != nil)
            let none = try await client.send(.get, "/api/jobs?label=team:none").decoded(ListPage<JobResource>.self)
            #expect(none.items.isEmpty)
            #expect(none.nextCursor == nil)
            let pending = try await client.send(.get, "/api/jobs?state=pending").decoded(ListPage<JobResource>.self)
            #expect(pending.items.count == 7)
            let queued = try await client.send(.get, "/api/jobs?state=queued").decoded(ListPage<JobResource>.self)
            #expect(queued.items.isEmpty)

            for (uri, field) in [("/api/jobs?state=sleeping", "state"), ("/api/jobs?limit=0", "limit"),
                                 ("/api/jobs?limit=abc", "limit"), ("/api/jobs?label=nocolon", "label"),
                                 ("/api/jobs?cursor=xyz", "cursor"), ("/api/jobs?stale=maybe", "stale")] {
                let response = try await client.send(.get, uri)
                #expect(response.status == .unprocessableContent, "\(uri)")
                #expect(response.apiError?.field == field, "\(uri)")
            }
        }
    }

    @Test("a due once job becomes queued as the clock passes its run_at")
    func dueWork() async throws {
        let clock = ManualClock(startOfTest)
        try await withAPI(makeLocalService(clock: clock)) { client in
            let job = try await client.send(.post, "/api/jobs", json: #"{"name":"later","delay_seconds":30}"#).decoded(JobResource.self)
            #expect(try await client.send(.get, "/api/job-status/\(job.id)").decoded(JobStatusResource.self).state == "pending")
            clock.advance(byMilliseconds: 30_000)
            #expect(try await client.send(.get, "/api/job-status/\(job.id)").decoded(JobStatusResource.self).state == "queued")
        }
    }

    @Test("a cron job fires on the service's clock and computes its next fire")
    func cronFires() async throws {
        let clock = ManualClock(startOfTest)
        try await withAPI(makeLocalService(clock: clock)) { client in
            let job = try await client.send(.post, "/api/jobs", json: seed).decoded(JobResource.self)
            clock.advance(byMilliseconds: 3_600_000)
            let fired = try await client.send(.get, "/api/jobs/\(job.id)").decoded(JobResource.self)
            #expect(fired.nextRunAt?.description == "2026-12-01T11:00:00.000Z")
            #expect(fired.lastRun?.scheduledAt.description == "2026-12-01T10:00:00.000Z")
            #expect(fired.status == "In-Progress")
        }
    }
}
