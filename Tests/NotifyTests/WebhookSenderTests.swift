import EgressPolicy
import Notify
import Testing

@Suite("Webhook delivery against a loopback receiver")
struct WebhookSenderTests {
    /// Loopback is denied by default (as for http tasks); these tests open it as an operator would.
    static let loopbackAllowed: AddressPolicy = {
        guard case .success(let loopback) = IPNetwork.parse("127.0.0.0/8") else { return AddressPolicy() }
        return AddressPolicy(allow: [loopback])
    }()

    let secret: WebhookSecret
    let event = NotificationPayloadTests.dead

    init() throws {
        secret = try WebhookSecret("receiver-test-secret-0123456789")
    }

    func sender(policy: AddressPolicy = WebhookSenderTests.loopbackAllowed, timeout: Duration = .seconds(10)) -> WebhookSender {
        WebhookSender(settings: .init(policy: policy, timeout: timeout, retryAfterCap: .seconds(600), now: { 1_796_531_100 }))
    }

    @Test("2xx is delivered: one signed POST of the payload that the verifier accepts")
    func delivered() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { try? await receiver.stop() } }
        let outcome = await sender().send(event, to: receiver.url("/hook"), secret: secret)
        #expect(outcome == .delivered)
        let received = try #require(receiver.log.all.first)
        #expect(receiver.log.all.count == 1)
        #expect(received.method == "POST")
        #expect(received.body == NotificationPayload.encode(event))
        #expect(received.header("Content-Type") == "application/json")
        #expect(received.header("Quorum-Event-Id") == event.eventID)
        let signature = try #require(received.header("Quorum-Signature"))
        #expect(throws: Never.self) {
            try WebhookSignature.verify(header: signature, body: received.body, secret: secret, now: 1_796_531_130).get()
        }
        // A timeout too large for NIO's nanosecond clock is clamped, not trapped on.
        #expect(await sender(timeout: .seconds(Int64.max)).send(event, to: receiver.url("/hook"), secret: nil) == .delivered)
        #expect(receiver.log.all.last?.header("Quorum-Signature") == nil)
    }

    @Test("500, 503, 408 and 429 are retryable; 400, 401, 404, 410 permanent; a redirect is not followed")
    func classification() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { try? await receiver.stop() } }
        for code in [500, 503, 408, 429] {
            guard case .retryable(_, nil) = await sender().send(event, to: receiver.url("/status/\(code)"), secret: secret) else {
                Issue.record("\(code) was not retryable without advice")
                continue
            }
        }
        for code in [400, 401, 404, 410] {
            guard case .permanent(let reason) = await sender().send(event, to: receiver.url("/status/\(code)"), secret: secret) else {
                Issue.record("\(code) was not permanent")
                continue
            }
            #expect(reason.contains("\(code)"))
        }
        guard case .permanent(let reason) = await sender().send(event, to: receiver.url("/redirect"), secret: secret) else {
            Issue.record("a redirect was not a permanent failure")
            return
        }
        #expect(reason.contains("http://10.0.0.1/internal") && reason.contains("do not follow redirects"))
        #expect(receiver.log.all.allSatisfy { !$0.uri.contains("internal") })
    }

    @Test("429 and 503 with Retry-After: the advice is kept, up to the cap")
    func retryAfter() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { try? await receiver.stop() } }
        #expect(await sender().send(event, to: receiver.url("/status/429?retry_after=7"), secret: secret)
            == .retryable(reason: "webhook \(receiver.url("/status/429?retry_after=7")) answered 429 Too Many Requests", retryAfter: .seconds(7)))
        guard case .retryable(_, let capped) = await sender().send(event, to: receiver.url("/status/503?retry_after=86400"), secret: secret) else {
            Issue.record("503 was not retryable")
            return
        }
        #expect(capped == .seconds(600))
    }

    @Test("a receiver that does not answer within the timeout is retryable, and the send returns soon after it")
    func timeout() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { try? await receiver.stop() } }
        let clock = ContinuousClock()
        let started = clock.now
        let outcome = await sender(timeout: .milliseconds(500)).send(event, to: receiver.url("/hang"), secret: secret)
        let took = clock.now - started
        guard case .retryable(let reason, _) = outcome else {
            Issue.record("a hanging receiver gave \(outcome)")
            return
        }
        #expect(reason.contains("did not answer"), "\(reason)")
        #expect(took < .seconds(8), "the send took \(took) with a 0.5 s timeout")
    }

    @Test("a refused connection is retryable (AsyncHTTPClient retries the connect until the timeout)")
    func refused() async throws {
        let receiver = try await WebhookReceiver.start()
        let url = receiver.url("/hook")
        try await receiver.stop()
        guard case .retryable = await sender(timeout: .seconds(1)).send(event, to: url, secret: secret) else {
            Issue.record("a closed port was not retryable")
            return
        }
    }

    @Test("SSRF: loopback and private addresses are refused by default, before any packet", arguments: ["127.0.0.1", "10.1.2.3", "[::1]", "169.254.169.254"])
    func denied(host: String) async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { try? await receiver.stop() } }
        let url = host == "127.0.0.1" ? receiver.url("/hook") : "http://\(host):\(receiver.port)/hook"
        guard case .permanent(let reason) = await sender(policy: AddressPolicy()).send(event, to: url, secret: secret) else {
            Issue.record("\(url) was not refused")
            return
        }
        #expect(reason.contains("http_allow"), "\(reason)")
        #expect(receiver.log.all.isEmpty)
    }

    @Test("a name that resolves to loopback is refused too (judged after resolution)")
    func deniedByName() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { try? await receiver.stop() } }
        guard case .permanent = await sender(policy: AddressPolicy()).send(event, to: "http://localhost:\(receiver.port)/hook", secret: secret) else {
            Issue.record("localhost was not refused")
            return
        }
        #expect(receiver.log.all.isEmpty)
    }
}
