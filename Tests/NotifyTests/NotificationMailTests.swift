import Foundation
import Notify
import Testing

@Suite("Notification email: headers, injection, dot-stuffing")
struct NotificationMailTests {
    let from: EmailAddress
    let ops: EmailAddress

    init() throws {
        from = try EmailAddress("quorum@example.com", field: "from")
        ops = try EmailAddress("Ops@Example.COM", field: "email")
    }

    @Test("a notification of folded missed fires says how many and their due times")
    func missedFiresBody() {
        let event = NotificationEvent(eventID: "ev-2", type: .missed, atUnixMilliseconds: 0, jobID: "c", jobName: "nightly",
                                      missedCount: 9, missedFromUnixMilliseconds: 60_000, missedUntilUnixMilliseconds: 540_000)
        #expect(NotificationMail.body(for: event).contains(
            "Missed:    9 fires folded into one, due from 1970-01-01T00:01:00.000Z to 1970-01-01T00:09:00.000Z"))
    }

    @Test("subject, Message-ID, Date and the plain-text body")
    func composed() throws {
        let message = try NotificationMail.compose(NotificationPayloadTests.dead, from: from, to: [ops], cluster: "prod-eu",
                                                   unixMilliseconds: 1_796_531_100_123)
        let (head, body) = try #require(split(message))
        #expect(head == [
            "From: quorum@example.com",
            "To: Ops@example.com",
            "Subject: [quorum] dead: nightly-report (attempt 3/3)",
            "Date: Sun, 06 Dec 2026 04:25:00 +0000",
            "Message-ID: <ev-0000000000000042@prod-eu>",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: 8bit",
            "Auto-Submitted: auto-generated",
            "X-Quorum-Event-Id: ev-0000000000000042",
            "X-Quorum-Event-Type: dead",
        ])
        #expect(body.contains("Error:     exit status 2\r\n"))
        #expect(body.contains("Event id: ev-0000000000000042"))
        #expect(NotificationMail.subject(for: NotificationEvent(eventID: "e", type: .dagFailed, atUnixMilliseconds: 0, dagName: "etl"))
            == "[quorum] dag_failed: etl")
    }

    @Test("a CR or LF in any header value (a job named to add a Bcc) refuses the message", arguments: ["x\r\nBcc: all@evil.example", "x\nBcc: a@b", "x\rY", "nul\0"])
    func headerInjection(name: String) {
        var event = NotificationPayloadTests.dead
        event.jobName = name
        #expect(throws: NotificationMail.CompositionError.self) {
            try NotificationMail.compose(event, from: from, to: [ops], cluster: "c", unixMilliseconds: 0)
        }
        var badID = NotificationPayloadTests.dead
        badID.eventID = "e1>\r\nBcc: x@y"
        #expect(throws: NotificationMail.CompositionError.self) {
            try NotificationMail.compose(badID, from: from, to: [ops], cluster: "c", unixMilliseconds: 0)
        }
    }

    @Test("non-ASCII subjects become RFC 2047 encoded words of at most 75 characters")
    func encodedSubject() throws {
        var event = NotificationPayloadTests.dead
        event.jobName = String(repeating: "Größe-", count: 15)
        let message = try NotificationMail.compose(event, from: from, to: [ops], cluster: "c", unixMilliseconds: 0)
        let subject = Array(message.components(separatedBy: "\r\n").drop { !$0.hasPrefix("Subject:") }
            .prefix { $0.hasPrefix("Subject:") || $0.hasPrefix(" ") })
        #expect(subject.count > 1)
        for line in subject {
            let word = line.hasPrefix("Subject: ") ? String(line.dropFirst(9)) : String(line.dropFirst())
            #expect(word.hasPrefix("=?UTF-8?B?") && word.hasSuffix("?=") && word.count <= 75, "\(word)")
        }
    }

    @Test("DATA: lines end in CRLF, bare CR/LF normalised, leading dots doubled, long lines broken, CRLF.CRLF at the end")
    func dotStuffing() {
        let wire = String(decoding: SMTPData.encode("Subject: x\r\n\r\n.\n..two\rplain\r\n.leading dot\nlast"), as: UTF8.self)
        #expect(wire == "Subject: x\r\n\r\n..\r\n...two\r\nplain\r\n..leading dot\r\nlast\r\n.\r\n")
        let long = String(repeating: "ü", count: 700) // 1400 bytes
        let lines = String(decoding: SMTPData.encode(long), as: UTF8.self).components(separatedBy: "\r\n")
        #expect(lines.count == 4 && lines[2] == "." && lines[3] == "")
        #expect(lines[0].utf8.count <= SMTPData.maxLineBytes && lines[0] + lines[1] == long)
    }

    @Test("addresses: plain mailboxes only; allowed_domains match exactly")
    func addresses() throws {
        for bad in ["", "no-at", "a@b@c", "@example.com", "ops@", "ops@.example.com", "ops@example..com", "o ps@example.com",
                    "ops@example.com>\r\nRCPT TO:<x@y>", "<ops@example.com>", "ops@exa,mple.com", "ünï@example.com"] {
            #expect(throws: NotifyConfigurationError.self, "\(bad)") { try EmailAddress(bad, field: "[notify] email") }
        }
        #expect(ops.isAllowed(in: ["example.com"]))
        #expect(ops.isAllowed(in: []))
        #expect(!ops.isAllowed(in: ["mail.example.com"]))
        let subdomain = try EmailAddress("a@mail.example.com", field: "x")
        #expect(!subdomain.isAllowed(in: ["example.com"]))
    }

    @Test("config: fields are checked and the error names the field")
    func configuration() throws {
        let config = NotifyConfiguration(on: try NotifyConfiguration.eventTypes(["dead", "dag_failed", "dead"]),
                                         webhook: "https://hooks.example.com/q", webhookSecret: .value("0123456789abcdef0123"),
                                         email: ["ops@example.com"],
                                         smtp: .init(host: "smtp.example.com", from: "quorum@example.com", allowedDomains: ["example.com"]))
        #expect(config.on == [.dead, .dagFailed])
        try config.validate()
        let field = { (config: NotifyConfiguration) -> String? in
            do throws(NotifyConfigurationError) { try config.validate(); return nil } catch { return error.field }
        }
        var bad = config
        bad.smtp?.startTLS = false
        #expect(field(bad) == "[notify.smtp] starttls")
        bad.smtp?.host = "127.0.0.1"
        #expect(field(bad) == nil)
        bad = config
        bad.email = ["ops@other.example"]
        #expect(field(bad) == "[notify] email")
        bad = config
        bad.smtp?.port = 0
        #expect(field(bad) == "[notify.smtp] port")
        bad = config
        bad.smtp?.username = "quorum"
        #expect(field(bad) == "[notify.smtp] password_file")
        bad = config
        bad.webhook = "ftp://x"
        #expect(field(bad) == "[notify] webhook")
        bad = config
        bad.webhookSecret = .value("short")
        #expect(field(bad) == "[notify] webhook_secret")
        bad = config
        bad.maxPending = 0
        #expect(field(bad) == "[notify] max_pending")
        bad = config
        bad.smtp = nil
        #expect(field(bad) == "[notify] email")
        #expect(throws: NotifyConfigurationError.self) { try NotifyConfiguration.eventTypes(["deadd"]) }
    }

    private func split(_ message: String) -> ([String], String)? {
        guard let blank = message.range(of: "\r\n\r\n") else { return nil }
        return (message[..<blank.lowerBound].components(separatedBy: "\r\n"), String(message[blank.upperBound...]))
    }
}
