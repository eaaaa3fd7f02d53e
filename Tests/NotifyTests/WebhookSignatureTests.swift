import Foundation
import Notify
import Testing

@Suite("Webhook signatures (Quorum-Signature)")
struct WebhookSignatureTests {
    let secret: WebhookSecret
    let body = Array(#"{"event_id":"e1"}"#.utf8)

    init() throws {
        secret = try WebhookSecret("0123456789abcdef-secret")
    }

    @Test("the header is t=<seconds>,v1=<hex HMAC-SHA256 of \"t.body\">, the value Python's hmac module computes")
    func knownVector() {
        // python3 -c 'import hmac,hashlib; print(hmac.new(b"0123456789abcdef-secret",
        //   b"1700000000." + b"{\"event_id\":\"e1\"}", hashlib.sha256).hexdigest())'
        #expect(WebhookSignature.header(body: body, timestamp: 1_700_000_000, secret: secret)
            == "t=1700000000,v1=f3a0b906c723a6f9f78a962aca9b2198cd4952728fb149dada09c47a8de0d2eb")
    }

    @Test("a signed body verifies; a changed body, timestamp or secret does not")
    func roundTripAndTamper() throws {
        let header = WebhookSignature.header(body: body, timestamp: 1_700_000_000, secret: secret)
        #expect(throws: Never.self) { try WebhookSignature.verify(header: header, body: body, secret: secret, now: 1_700_000_010).get() }

        var changed = body
        changed[2] ^= 0x01
        #expect(failure(WebhookSignature.verify(header: header, body: changed, secret: secret, now: 1_700_000_010)) == .mismatch)
        let otherTime = header.replacingOccurrences(of: "t=1700000000", with: "t=1700000001")
        #expect(failure(WebhookSignature.verify(header: otherTime, body: body, secret: secret, now: 1_700_000_010)) == .mismatch)
        let otherSecret = try WebhookSecret("another-secret-of-enough-bytes")
        #expect(failure(WebhookSignature.verify(header: header, body: body, secret: otherSecret, now: 1_700_000_010)) == .mismatch)
    }

    @Test("t must be within the tolerance of the receiver's clock, either way")
    func tolerance() {
        let header = WebhookSignature.header(body: body, timestamp: 1_700_000_000, secret: secret)
        for now: Int64 in [1_700_000_000 - 300, 1_700_000_000 + 300] {
            #expect(throws: Never.self) { try WebhookSignature.verify(header: header, body: body, secret: secret, now: now).get() }
        }
        for now: Int64 in [1_700_000_000 - 301, 1_700_000_000 + 301, Int64.min, Int64.max] {
            guard case .failure(.outsideTolerance) = WebhookSignature.verify(header: header, body: body, secret: secret, now: now) else {
                Issue.record("now \(now) was accepted")
                continue
            }
        }
        #expect(throws: Never.self) {
            try WebhookSignature.verify(header: header, body: body, secret: secret, now: 1_700_000_900, tolerance: 900).get()
        }
    }

    @Test("malformed headers are refused with the reason; a second v1 (rotation) may match")
    func malformedAndRotation() throws {
        for header in ["", "t=1700000000", "v1=00", "t=x,v1=" + String(repeating: "0", count: 64), "t=1,t=2,v1=00", "garbage"] {
            guard case .failure(.malformed) = WebhookSignature.verify(header: header, body: body, secret: secret, now: 1_700_000_000) else {
                Issue.record("\"\(header)\" was not refused as malformed")
                continue
            }
        }
        let old = try WebhookSecret("the-old-secret-before-rotation")
        let valid = WebhookSignature.header(body: body, timestamp: 1_700_000_000, secret: secret)
        let oldV1 = WebhookSignature.header(body: body, timestamp: 1_700_000_000, secret: old).split(separator: ",")[1]
        #expect(throws: Never.self) {
            try WebhookSignature.verify(header: "\(valid),\(oldV1),v2=ignored", body: body, secret: old, now: 1_700_000_000).get()
        }
    }

    @Test("secrets shorter than 16 bytes are refused, and a secret never prints")
    func secrets() {
        #expect(throws: NotifyConfigurationError.self) { try WebhookSecret("short") }
        #expect(!"\(secret)".contains("secret-"))
        #expect(throws: NotifyConfigurationError.self) { try WebhookSecret.load(file: "/nonexistent/quorum-webhook.secret") }
    }

    private func failure(_ result: Result<Void, WebhookSignature.VerificationFailure>) -> WebhookSignature.VerificationFailure? {
        if case .failure(let failure) = result { return failure }
        return nil
    }
}
