import Foundation
import Notify
import QuorumTestServer
import Testing

/// "A cron misfire notifies" (issue #17) on three real nodes: a cron fire skipped by its misfire
/// policy sends `missed`, a `forbid` fire skipped because the previous run is still going sends
/// `overlap_skipped`, each once, with a stable `event_id`; the due times a late leader folds into
/// one fire send one `missed` with `missed_count` and their range (command format 13).
///
/// Cron fires are at least a minute apart, so the test does not wait for them: every node runs
/// under the wall-clock preload (``WallClockFile``), and the test moves all their wall clocks
/// past the next boundary. Raft's timers and leases keep real time.
@Suite("cron notifications on a real cluster", .serialized)
struct NotificationCronClusterTests {
    typealias Sink = NotificationDeliveryClusterTests.Sink

    /// The payload fields checked here.
    struct Payload: Decodable {
        var event_id: String
        var type: String
        var at: String
        var job_id: String?
        var job_name: String?
        var run_id: String?
        var attempt: Int?
        var missed_count: Int?
        var missed_from: String?
        var missed_until: String?
    }

    /// `GET /api/notifications` items (the test client decodes snake_case keys into camelCase).
    struct Listed: Decodable {
        struct Item: Decodable {
            var eventId: String
            var type: String
            var state: String
        }
        var items: [Item]
    }

    @Test("a fire skipped by the misfire policy sends `missed`; a forbid fire over a running run sends `overlap_skipped`")
    func cronSkipsNotify() async throws {
        let sink = Sink()
        let clock = try WallClockFile.create()
        defer { clock.remove() }
        var preloaded = NotificationDeliveryClusterTests.timing
        preloaded.wallClockFile = clock.path
        let timing = preloaded
        try await TestAPIServer.withServer(router: sink.router) { base in
            try await TestCluster.with(nodes: 3, timing: timing) { cluster in
                let (leader, _) = try await cluster.waitForLeader()
                let follower = try #require(cluster.others(than: leader).first)
                // Hourly under `skip`: a fire found more than the starting deadline (60 s) late is dropped.
                let hourly = #"{"name":"hourly-report","schedule":"0 * * * *","misfire":"skip","task":{"kind":"noop"},"#
                    + #""notify":[{"on":["missed","succeeded"],"webhook":"\#(base)/missed"}]}"#
                let missedJob = try await cluster.api(follower).post("/api/jobs", data: Data(hourly.utf8)).expect(201, as: Created.self).id
                // Every minute under `forbid`, each run sleeping for ten minutes.
                let minutely = #"{"name":"slow-sync","schedule":"* * * * *","concurrency":"forbid","#
                    + #""task":{"kind":"shell","command":["/bin/sleep","600"]},"#
                    + #""notify":[{"on":["overlap_skipped"],"webhook":"\#(base)/overlap"}]}"#
                let forbidJob = try await cluster.api(follower).post("/api/jobs", data: Data(minutely.utf8)).expect(201, as: Created.self).id
                // Every five minutes under `run_once`: the jump below folds at least two due times into one fire.
                let fiveMinutely = #"{"name":"five-minutely","schedule":"*/5 * * * *","misfire":"run_once","task":{"kind":"noop"},"#
                    + #""notify":[{"on":["missed"],"webhook":"\#(base)/folded"}]}"#
                let foldedJob = try await cluster.api(follower).post("/api/jobs", data: Data(fiveMinutely.utf8)).expect(201, as: Created.self).id

                // Every wall clock to ten minutes past the next hour: the hourly fire is 600 s late.
                let real = Date().timeIntervalSince1970
                let hour = (real / 3600).rounded(.up) * 3600
                var offset = hour + 600 - real
                try clock.set(offsetSeconds: offset)
                let missed = try await eventually("the `missed` webhook", timeout: .seconds(30), poll: .milliseconds(100)) {
                    sink.requests(to: "/missed").first
                }
                let missedPayload = try JSONDecoder().decode(Payload.self, from: Data(missed.body))
                #expect(missedPayload.type == "missed" && missedPayload.job_id == missedJob && missedPayload.job_name == "hourly-report")
                #expect(missedPayload.run_id == nil && missedPayload.attempt == nil, "a skipped fire has no run")
                #expect(missed.eventID == missedPayload.event_id)
                let missedAt = try APITime.parse(missedPayload.at).timeIntervalSince1970
                #expect(missedAt >= hour + 60 && missedAt < hour + 3600, "at \(missedPayload.at): the skipped fire's stamp, after the deadline")
                let signature = try #require(missed.signature)
                let fakeNow = Int64(Date().timeIntervalSince1970 + offset)
                #expect((try? WebhookSignature.verify(header: signature, body: missed.body, secret: try WebhookSecret(NotificationDeliveryClusterTests.secret),
                                                      now: fakeNow).get()) != nil, "signature \(signature) does not verify")

                // The five-minute job's earlier due times (up to hour + 300 s) fold into its fire for
                // hour + 600 s, which runs (run_once); the folded ones send one `missed`.
                let folded = try await eventually("the folded `missed` webhook", timeout: .seconds(30), poll: .milliseconds(100)) {
                    sink.requests(to: "/folded").first
                }
                let foldedPayload = try JSONDecoder().decode(Payload.self, from: Data(folded.body))
                #expect(foldedPayload.type == "missed" && foldedPayload.job_id == foldedJob && foldedPayload.run_id == nil)
                #expect((foldedPayload.missed_count ?? 0) >= 2, "count \(String(describing: foldedPayload.missed_count))")
                let foldedUntil = try APITime.parse(try #require(foldedPayload.missed_until)).timeIntervalSince1970
                #expect(foldedUntil == hour + 300, "the last folded due time is the one before the stamped fire")
                let foldedFrom = try APITime.parse(try #require(foldedPayload.missed_from)).timeIntervalSince1970
                #expect(foldedFrom <= hour && foldedFrom > real - 300, "the first folded due time is the first after the submit")
                #expect(missedPayload.missed_count == nil, "a fire the misfire policy skipped carries no count")

                // The forbid job ran once for its latest due minute; a minute later its run is still going.
                _ = try await eventually("the forbid job's run", timeout: .seconds(30), poll: .milliseconds(100)) { () -> Attempt? in
                    try await cluster.attempts(of: forbidJob, on: leader).first { $0.state == "running" }
                }
                offset += 60
                try clock.set(offsetSeconds: offset)
                let overlap = try await eventually("the `overlap_skipped` webhook", timeout: .seconds(30), poll: .milliseconds(100)) {
                    sink.requests(to: "/overlap").first
                }
                let overlapPayload = try JSONDecoder().decode(Payload.self, from: Data(overlap.body))
                #expect(overlapPayload.type == "overlap_skipped" && overlapPayload.job_id == forbidJob
                        && overlapPayload.job_name == "slow-sync" && overlapPayload.run_id == nil)
                #expect(overlap.eventID == overlapPayload.event_id && overlapPayload.event_id != missedPayload.event_id)
                let overlapAt = try APITime.parse(overlapPayload.at).timeIntervalSince1970
                #expect(overlapAt >= hour + 660, "at \(overlapPayload.at): after the second jump")

                // Both recorded as delivered on every node with the event_id the sink saw, and sent once.
                for node in cluster.ids {
                    try await eventually("both delivered on \(node)", timeout: .seconds(15), poll: .milliseconds(100)) { () -> Bool? in
                        let listed = try await cluster.api(node).get("/api/notifications?state=delivered").expect(200, as: Listed.self).items
                        let ids = Set(listed.map(\.eventId))
                        return ids.contains(missedPayload.event_id) && ids.contains(overlapPayload.event_id)
                            && ids.contains(foldedPayload.event_id) ? true : nil
                    }
                }
                #expect(sink.requests(to: "/folded").count == 1, "the folded fires notify once")
                #expect(sink.requests(to: "/missed").count == 1, "the hourly job neither fired again nor ran (its rule asks for succeeded too)")
                let overlaps = sink.requests(to: "/overlap")
                #expect(Set(overlaps.map(\.eventID)).count == overlaps.count, "one request per event")
                #expect(overlaps.allSatisfy { (try? JSONDecoder().decode(Payload.self, from: Data($0.body)).type) == "overlap_skipped" })
            }
        }
    }
}
