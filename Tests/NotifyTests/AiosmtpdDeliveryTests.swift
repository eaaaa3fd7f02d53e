import Foundation
import Notify
import Testing

/// A real delivery to a real SMTP server: aiosmtpd, started by `scripts/check-notify-smtp.sh`,
/// which names it in `QUORUM_TEST_SMTP=127.0.0.1:PORT` and then checks the mailbox it wrote.
/// Skipped when the variable is not set (every other run).
@Suite("Delivery to aiosmtpd (scripts/check-notify-smtp.sh)")
struct AiosmtpdDeliveryTests {
    static let server = ProcessInfo.processInfo.environment["QUORUM_TEST_SMTP"]

    @Test("one notification reaches aiosmtpd", .enabled(if: AiosmtpdDeliveryTests.server != nil, "set QUORUM_TEST_SMTP=127.0.0.1:PORT (scripts/check-notify-smtp.sh does)"))
    func delivered() async throws {
        let server = try #require(Self.server)
        let parts = server.split(separator: ":")
        let port = try #require(parts.count == 2 ? Int(parts[1]) : nil, "QUORUM_TEST_SMTP must be HOST:PORT, not \(server)")
        let settings = SMTPSettings(host: String(parts[0]), port: port, from: try EmailAddress("quorum@example.com", field: "from"),
                                    startTLS: false, allowedDomains: ["example.com"], heloName: "quorum-check", timeout: .seconds(20))
        try settings.validate()
        var event = NotificationPayloadTests.dead
        event.outputTail = "step 1\n.\n.hidden\nGröße ok"
        let outcome = await SMTPClient(settings: settings).send(
            event, to: [try EmailAddress("ops@example.com", field: "email")], cluster: "check", unixMilliseconds: 1_796_531_100_123)
        #expect(outcome == .delivered)
    }
}
