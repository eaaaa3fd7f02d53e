import Foundation
import Hummingbird
import NIOCore
import Notify
import QuorumTestServer
import SMTPTestServer
import Synchronization
import Testing

/// Notifications delivered by real node processes to a loopback webhook sink (issue #17): the
/// leader derives them from applied entries, sends them signed, records the outcome in the log,
/// and a new leader resumes what the old one had not finished.
@Suite("notification delivery on a real cluster", .serialized)
struct NotificationDeliveryClusterTests {
    static let secret = "test-webhook-secret-0123456789"

    /// `[executor] http_allow` for the loopback sink, a fast retry schedule and the secret.
    static var timing: TestCluster.Timing { timing(webhook: nil) }

    /// The same with a cluster default `webhook` (and `on` left empty, so only tests use it).
    static func timing(webhook: String?) -> TestCluster.Timing {
        var timing = TestCluster.Timing()
        timing.extraTables = """
            http_allow = ["127.0.0.0/8"]

            [notify]
            webhook_secret = "\(secret)"
            retry_base_ms = 200
            \(webhook.map { "webhook = \"\($0)\"" } ?? "")
            """
        return timing
    }

    /// One request the sink received.
    struct Received: Sendable {
        var path: String
        var eventID: String?
        var signature: String?
        var body: [UInt8]
    }

    /// A webhook receiver: records every request; answers 503 while `failing` says so (it is
    /// asked with the number of requests to the path so far), else 200.
    final class Sink: Sendable {
        let received = Mutex<[Received]>([])
        let failing: @Sendable (_ path: String, _ seen: Int) -> Bool

        init(failing: @escaping @Sendable (String, Int) -> Bool = { _, _ in false }) { self.failing = failing }

        var router: Router<BasicRequestContext> {
            let router = Router()
            router.post("{path}") { request, _ -> Response in
                let body = try await request.body.collect(upTo: 1 << 20)
                let path = request.uri.path
                let seen = self.received.withLock { list in
                    list.append(Received(path: path, eventID: request.headers.first { $0.name.canonicalName == "quorum-event-id" }?.value,
                                         signature: request.headers.first { $0.name.canonicalName == "quorum-signature" }?.value,
                                         body: Array(buffer: body)))
                    return list.filter { $0.path == path }.count - 1
                }
                return Response(status: self.failing(path, seen) ? .serviceUnavailable : .ok)
            }
            return router
        }

        func requests(to path: String) -> [Received] { received.withLock { $0.filter { $0.path == path } } }
    }

    /// The payload fields the tests read.
    struct Payload: Decodable {
        var event_id: String
        var type: String
        var job_id: String?
        var job_name: String?
        var attempt: Int?
    }

    /// `GET /api/jobs/{id}`'s notifications.
    struct JobNotifications: Decodable {
        struct Item: Decodable {
            var event_id: String
            var state: String
        }
        var notifications: [Item]?
    }

    /// Submits a once job that fails its only attempt, with `notify` rules to `url`.
    static func submitDoomed(_ name: String, on: [String], url: String, via api: APIClient) async throws -> String {
        let body = #"{"name":"\#(name)","task":{"kind":"shell","command":["/bin/false"]},"retry":{"max_attempts":1},"#
            + #""notify":[{"on":["\#(on.joined(separator: "\",\""))"],"webhook":"\#(url)"}]}"#
        return try await api.post("/api/jobs", data: Data(body.utf8)).expect(201, as: Created.self).id
    }

    @Test("a dead job notifies once with a valid signature; a job whose notify does not ask sends nothing")
    func deadJobNotifiesOnce() async throws {
        let sink = Sink()
        try await TestAPIServer.withServer(router: sink.router) { base in
            try await TestCluster.with(nodes: 3, timing: Self.timing(webhook: base + "/default")) { cluster in
                let (leader, _) = try await cluster.waitForLeader()
                let follower = try #require(cluster.others(than: leader).first)
                // The test endpoint: one signed try to the configured default webhook, recorded nowhere.
                let tested = try await cluster.api(follower).post("/api/notifications/test", data: Data(#"{"channel":"webhook"}"#.utf8))
                #expect(tested.status == 200 && tested.text.contains(#""delivered":true"#), "\(tested.text)")
                let test = try #require(sink.requests(to: "/default").first)
                #expect(test.eventID?.hasPrefix("test-") == true)
                #expect((try? WebhookSignature.verify(header: test.signature ?? "", body: test.body, secret: try WebhookSecret(Self.secret),
                                                      now: Int64(Date().timeIntervalSince1970)).get()) != nil)
                let noEmail = try await cluster.api(follower).post("/api/notifications/test", data: Data(#"{"channel":"email"}"#.utf8))
                #expect(noEmail.status == 409, "\(noEmail.text)")
                let quiet = try await Self.submitDoomed("quiet", on: ["succeeded"], url: base + "/quiet", via: cluster.api(follower))
                try await cluster.waitForJob(quiet, on: leader, state: "dead")
                let loud = try await Self.submitDoomed("loud", on: ["dead"], url: base + "/loud", via: cluster.api(follower))
                try await cluster.waitForJob(loud, on: leader, state: "dead")
                let got = try await eventually("the dead job's webhook", timeout: .seconds(30), poll: .milliseconds(100)) {
                    sink.requests(to: "/loud").first
                }
                let payload = try JSONDecoder().decode(Payload.self, from: Data(got.body))
                #expect(payload.type == "dead" && payload.job_id == loud && payload.job_name == "loud" && payload.attempt == 1)
                #expect(got.eventID == payload.event_id)
                let signature = try #require(got.signature)
                let verified = WebhookSignature.verify(header: signature, body: got.body, secret: try WebhookSecret(Self.secret),
                                                       now: Int64(Date().timeIntervalSince1970))
                #expect((try? verified.get()) != nil, "signature \(signature) does not verify")
                // The delivered outcome is in the log: a few more duty rounds send nothing again.
                try await eventually("the notification recorded as delivered", timeout: .seconds(15)) { () -> Bool? in
                    let delivered = try await cluster.api(leader).metric(#"quorum_notifications_total{channel="webhook",outcome="delivered"}"#)
                    return delivered == 1 ? true : nil
                }
                #expect(sink.requests(to: "/loud").count == 1)
                #expect(sink.requests(to: "/quiet").isEmpty)
                // Every node shows it delivered (GET /api/notifications), with the event_id the sink saw.
                for node in cluster.ids {
                    let listed = try await cluster.api(node).get("/api/notifications?state=delivered&job=\(loud)")
                    #expect(listed.status == 200, "\(listed.text)")
                    #expect(listed.text.contains(#""event_id":"\#(payload.event_id)""#) && listed.text.contains(#""tries":1"#),
                            "on \(node): \(listed.text)")
                    let job = try await cluster.api(node).get("/api/jobs/\(loud)")
                    let shown = try JSONDecoder().decode(JobNotifications.self, from: Data(job.text.utf8)).notifications
                    #expect(shown?.map(\.event_id) == [payload.event_id] && shown?.first?.state == "delivered", "on \(node): \(job.text)")
                }
            }
        }
    }

    @Test("a dead job with an email rule is mailed once over SMTP: subject, Message-ID with the event_id, the job in the body")
    func deadJobMailed() async throws {
        let smtp = try await FakeSMTPServer.start()
        defer { Task { try? await smtp.stop() } }
        var timing = Self.timing
        timing.extraTables += """

            [notify.smtp]
            host = "127.0.0.1"
            port = \(smtp.port)
            from = "quorum@cluster.test"
            starttls = false
            """
        try await TestCluster.with(nodes: 3, timing: timing) { cluster in
            let (leader, _) = try await cluster.waitForLeader()
            let body = #"{"name":"mailed","task":{"kind":"shell","command":["/bin/false"]},"retry":{"max_attempts":1},"#
                + #""notify":[{"on":["dead"],"email":["ops@example.com"]}]}"#
            let job = try await cluster.api(leader).post("/api/jobs", data: Data(body.utf8)).expect(201, as: Created.self).id
            try await cluster.waitForJob(job, on: leader, state: "dead")
            try await eventually("the mail", timeout: .seconds(30), poll: .milliseconds(100)) {
                smtp.record.message.contains { $0.hasPrefix("Message-ID: ") } ? true : nil
            }
            try await eventually("the notification recorded as delivered", timeout: .seconds(15)) { () -> Bool? in
                let delivered = try await cluster.api(leader).metric(#"quorum_notifications_total{channel="email",outcome="delivered"}"#)
                return delivered == 1 ? true : nil
            }
            let message = smtp.record.message
            #expect(message.contains("Subject: [quorum] dead: mailed (attempt 1/1)"), "\(message.prefix(12))")
            let messageID = try #require(message.first { $0.hasPrefix("Message-ID: <ev-") }, "\(message.prefix(12))")
            #expect(message.contains { $0.contains(job) }, "the body names the job")
            #expect(smtp.record.commands.contains { $0.uppercased().hasPrefix("RCPT TO:<OPS@EXAMPLE.COM>") })
            #expect(smtp.record.commands.filter { $0.uppercased().hasPrefix("DATA") }.count == 1, "mailed once")
            let listed = try await cluster.api(leader).get("/api/notifications?state=delivered&job=\(job)")
            let eventID = messageID.dropFirst("Message-ID: <".count).prefix { $0 != "@" }
            #expect(listed.text.contains(#""event_id":"\#(eventID)""#), "\(listed.text)")
        }
    }

    @Test("a sink failing 3 times then answering 200 gets the notification exactly once more, same event_id")
    func retriesUntilDelivered() async throws {
        let sink = Sink(failing: { _, seen in seen < 3 })
        try await TestAPIServer.withServer(router: sink.router) { base in
            try await TestCluster.with(nodes: 3, timing: Self.timing) { cluster in
                let (leader, _) = try await cluster.waitForLeader()
                _ = try await Self.submitDoomed("flaky", on: ["dead"], url: base + "/flaky", via: cluster.api(leader))
                try await eventually("four tries", timeout: .seconds(60), poll: .milliseconds(100)) {
                    sink.requests(to: "/flaky").count >= 4 ? true : nil
                }
                try await eventually("the notification recorded as delivered", timeout: .seconds(15)) { () -> Bool? in
                    let delivered = try await cluster.api(leader).metric(#"quorum_notifications_total{channel="webhook",outcome="delivered"}"#)
                    return delivered == 1 ? true : nil
                }
                let requests = sink.requests(to: "/flaky")
                #expect(requests.count == 4, "3 refused + 1 delivered")
                #expect(Set(requests.map(\.eventID)).count == 1)
            }
        }
    }

    @Test("the leader killed between the event and the delivery: the new leader delivers it, with the same event_id")
    func newLeaderDelivers() async throws {
        let blocked = Mutex(true)
        let sink = Sink(failing: { _, _ in blocked.withLock { $0 } })
        try await TestAPIServer.withServer(router: sink.router) { base in
            try await TestCluster.with(nodes: 3, timing: Self.timing) { cluster in
                let (leader, _) = try await cluster.waitForLeader()
                _ = try await Self.submitDoomed("failover", on: ["dead"], url: base + "/failover", via: cluster.api(leader))
                try await eventually("a first (refused) try", timeout: .seconds(30), poll: .milliseconds(50)) {
                    sink.requests(to: "/failover").isEmpty ? nil : true
                }
                try await cluster.kill(leader, SIGKILL)
                blocked.withLock { $0 = false }
                let (next, _) = try await cluster.waitForLeader(excluding: [leader])
                try await eventually("delivery by the new leader \(next)", timeout: .seconds(60), poll: .milliseconds(100)) {
                    blocked.withLock { $0 } ? nil : (sink.requests(to: "/failover").count >= 2 ? true : nil)
                }
                try await eventually("the notification recorded as delivered", timeout: .seconds(15)) { () -> Bool? in
                    let delivered = try await cluster.api(next).metric(#"quorum_notifications_total{channel="webhook",outcome="delivered"}"#)
                    return delivered == 1 ? true : nil
                }
                #expect(Set(sink.requests(to: "/failover").map(\.eventID)).count == 1, "duplicates only with the same event_id")
            }
        }
    }

    /// The DAG fields of a payload.
    struct DAGPayload: Decodable {
        var event_id: String
        var type: String
        var dag_id: String?
        var dag_name: String?
        var dag_run_id: String?
        var job_id: String?
    }

    @Test("a one-off DAG run's own notify rules: its dead task and dag_failed are delivered; a bad rule is a 422 naming the field")
    func oneOffDAGNotifies() async throws {
        let sink = Sink()
        try await TestAPIServer.withServer(router: sink.router) { base in
            try await TestCluster.with(nodes: 3, timing: Self.timing) { cluster in
                let (leader, _) = try await cluster.waitForLeader()
                let follower = try #require(cluster.others(than: leader).first)
                let bad = #"{"name":"etl-once","tasks":[{"id":"a"}],"notify":[{"on":["dag_exploded"],"webhook":"\#(base)/dag"}]}"#
                let refused = try await cluster.api(follower).post("/api/dags", data: Data(bad.utf8))
                #expect(refused.status == 422 && refused.text.contains("notify[0].on[0]"), "\(refused.text)")
                let body = #"{"name":"etl-once","tasks":[{"id":"a","task":{"kind":"shell","command":["/bin/false"]},"retry":{"max_attempts":1}},"#
                    + #"{"id":"b","depends_on":["a"]}],"notify":[{"on":["dag_failed","dead"],"webhook":"\#(base)/dag"}]}"#
                let id = try await cluster.api(follower).post("/api/dags", data: Data(body.utf8)).expect(201, as: Created.self).id
                let shown = try await cluster.api(leader).get("/api/dags/\(id)").expect(200, as: NotifyRulesClusterTests.JobWithRules.self)
                #expect(shown.notify == [.init(on: ["dag_failed", "dead"], webhook: base + "/dag", email: nil)])
                let requests = try await eventually("the DAG's two notifications", timeout: .seconds(30), poll: .milliseconds(100)) {
                    sink.requests(to: "/dag").count >= 2 ? sink.requests(to: "/dag") : nil
                }
                let payloads = try requests.map { try JSONDecoder().decode(DAGPayload.self, from: Data($0.body)) }
                #expect(Set(payloads.map(\.type)) == ["dead", "dag_failed"], "\(payloads.map(\.type))")
                #expect(payloads.allSatisfy { $0.dag_id == id && $0.dag_run_id == id && $0.dag_name == "etl-once" && $0.job_id == nil })
                #expect(Set(payloads.map(\.event_id)).count == 2)
                try await eventually("both recorded as delivered", timeout: .seconds(15)) { () -> Bool? in
                    let delivered = try await cluster.api(leader).metric(#"quorum_notifications_total{channel="webhook",outcome="delivered"}"#)
                    return delivered == 2 ? true : nil
                }
                #expect(sink.requests(to: "/dag").count == 2)
            }
        }
    }
}
