import Foundation
import NIOSSL
import Notify
import SMTPTestServer
import Testing
import Transport

@Suite("SMTP client against a scripted loopback server")
struct SMTPClientTests {
    let ops: EmailAddress
    let event: NotificationEvent

    init() throws {
        ops = try EmailAddress("ops@example.com", field: "email")
        var event = NotificationPayloadTests.dead
        // A line that is a lone dot would end DATA early if it were not stuffed.
        event.outputTail = "step 1\n.\n.hidden\nlast"
        self.event = event
    }

    func client(_ server: FakeSMTPServer, startTLS: Bool = false, username: String? = "quorum", timeout: Duration = .seconds(10),
                allowedDomains: [String] = []) throws -> SMTPClient {
        let settings = SMTPSettings(host: "127.0.0.1", port: server.port, from: try EmailAddress("quorum@example.com", field: "from"),
                                    startTLS: startTLS, username: username, password: username.map { _ in "p4ss word" },
                                    allowedDomains: allowedDomains, heloName: "node-1", timeout: timeout)
        try settings.validate()
        return SMTPClient(settings: settings)
    }

    func send(_ server: FakeSMTPServer, _ client: SMTPClient, to recipients: [EmailAddress]? = nil) async -> DeliveryOutcome {
        await client.send(event, to: recipients ?? [ops], cluster: "prod", unixMilliseconds: 1_796_531_100_123)
    }

    @Test("delivery: multi-line EHLO, AUTH PLAIN, envelope, dot-stuffed DATA the server reads back intact, QUIT")
    func delivered() async throws {
        let server = try await FakeSMTPServer.start()
        defer { Task { try? await server.stop() } }
        let outcome = await send(server, try client(server))
        #expect(outcome == .delivered)
        let commands = server.record.commands
        #expect(commands.first == "EHLO node-1")
        #expect(commands.dropFirst().first?.hasPrefix("AUTH PLAIN ") == true)
        #expect(Array(commands.dropFirst(2)) == ["MAIL FROM:<quorum@example.com>", "RCPT TO:<ops@example.com>", "DATA", "QUIT"])
        #expect(server.record.auth == ["quorum:p4ss word"])
        let message = server.record.message
        #expect(message.contains("Subject: [quorum] dead: nightly-report (attempt 3/3)"))
        #expect(message.contains("Message-ID: <ev-0000000000000042@prod>"))
        let tail = try #require(message.firstIndex(of: "Output (end):"))
        #expect(Array(message[(tail + 1)...].prefix(4)) == ["step 1", ".", ".hidden", "last"])
    }

    @Test("AUTH LOGIN when the server offers only LOGIN")
    func authLogin() async throws {
        var script = FakeSMTPServer.Script()
        script.ehlo = ["250-fake.test", "250 AUTH LOGIN"]
        let server = try await FakeSMTPServer.start(script)
        defer { Task { try? await server.stop() } }
        #expect(await send(server, try client(server)) == .delivered)
        #expect(server.record.auth == ["quorum:p4ss word"])
        #expect(server.record.commands.contains("AUTH LOGIN"))
    }

    @Test("5xx replies are permanent, 4xx (multi-line too) retryable, naming the step", arguments: [
        ("RCPT", ["550 5.1.1 no such user"], false, "RCPT TO:<ops@example.com>"),
        ("MAIL", ["553 5.1.8 sender refused"], false, "MAIL FROM"),
        ("AUTH", ["535 5.7.8 bad credentials"], false, "AUTH PLAIN"),
        ("MAIL", ["451 4.3.0 try later"], true, "MAIL FROM"),
        ("END", ["452-4.3.1 mailbox full", "452 4.3.1 come back later"], true, "the message"),
        ("DATA", ["421 4.3.2 shutting down"], true, "DATA"),
    ])
    func replyCodes(verb: String, reply: [String], retryable: Bool, step: String) async throws {
        var script = FakeSMTPServer.Script()
        script.replies[verb] = reply
        let server = try await FakeSMTPServer.start(script)
        defer { Task { try? await server.stop() } }
        let outcome = await send(server, try client(server))
        switch outcome {
        case .retryable(let reason, _) where retryable, .permanent(let reason) where !retryable:
            #expect(reason.contains(step), "\(reason)")
            #expect(reply.allSatisfy { reason.contains($0.dropFirst(4)) }, "\(reason)")
        default:
            Issue.record("\(verb) → \(reply) gave \(outcome)")
        }
        #expect(!server.record.commands.contains("DATA") || verb == "DATA" || verb == "END")
    }

    @Test("a 554 greeting is permanent; a malformed reply, a closed or silent connection retryable")
    func connectionFailures() async throws {
        var refusing = FakeSMTPServer.Script()
        refusing.greeting = ["554 5.3.2 no service for you"]
        let server = try await FakeSMTPServer.start(refusing)
        guard case .permanent = await send(server, try client(server)) else { Issue.record("554 greeting not permanent"); return }
        try await server.stop()

        var garbled = FakeSMTPServer.Script()
        garbled.greeting = ["hello there"]
        let garbledServer = try await FakeSMTPServer.start(garbled)
        guard case .retryable(let malformed, _) = await send(garbledServer, try client(garbledServer)) else {
            Issue.record("a malformed greeting was not retryable"); return
        }
        #expect(malformed.contains("malformed"), "\(malformed)")
        try await garbledServer.stop()

        var closing = FakeSMTPServer.Script()
        closing.closeOn = "RCPT"
        let closingServer = try await FakeSMTPServer.start(closing)
        guard case .retryable(let closed, _) = await send(closingServer, try client(closingServer)) else {
            Issue.record("a dropped connection was not retryable"); return
        }
        #expect(closed.contains("RCPT TO"), "\(closed)")
        try await closingServer.stop()

        var silent = FakeSMTPServer.Script()
        silent.silent = true
        let silentServer = try await FakeSMTPServer.start(silent)
        let clock = ContinuousClock()
        let started = clock.now
        guard case .retryable(let timedOut, _) = await send(silentServer, try client(silentServer, timeout: .milliseconds(500))) else {
            Issue.record("a silent server was not retryable"); return
        }
        #expect(timedOut.contains("did not finish within"), "\(timedOut)")
        #expect(clock.now - started < .seconds(8))
        try await silentServer.stop()
    }

    @Test("STARTTLS required: a server that does not offer it is permanent; a failed handshake retryable")
    func startTLS() async throws {
        var plain = FakeSMTPServer.Script()
        plain.ehlo = ["250-fake.test", "250 AUTH PLAIN"]
        let server = try await FakeSMTPServer.start(plain)
        let settings = SMTPSettings(host: "127.0.0.1", port: server.port, from: try EmailAddress("q@example.com", field: "from"),
                                    startTLS: true, timeout: .seconds(10))
        guard case .permanent(let reason) = await SMTPClient(settings: settings).send(event, to: [ops], cluster: "c", unixMilliseconds: 0) else {
            Issue.record("no STARTTLS was not permanent"); return
        }
        #expect(reason.contains("STARTTLS"))
        #expect(!server.record.commands.contains { $0.hasPrefix("AUTH") || $0.hasPrefix("MAIL") })
        try await server.stop()

        var dropping = FakeSMTPServer.Script()
        dropping.ehlo = ["250-fake.test", "250 STARTTLS"]
        dropping.closeOn = "STARTTLS-OK"
        let droppingServer = try await FakeSMTPServer.start(dropping)
        var tls = settings
        tls.port = droppingServer.port
        guard case .retryable = await SMTPClient(settings: tls).send(event, to: [ops], cluster: "c", unixMilliseconds: 0) else {
            Issue.record("a failed TLS handshake was not retryable"); return
        }
        #expect(droppingServer.record.commands == ["EHLO quorum", "STARTTLS"])
        try await droppingServer.stop()
    }

    @Test("recipients outside allowed_domains and unsafe names are refused before connecting")
    func refusedBeforeConnecting() async throws {
        let server = try await FakeSMTPServer.start()
        defer { Task { try? await server.stop() } }
        let other = try EmailAddress("ceo@other.example", field: "email")
        guard case .permanent(let reason) = await send(server, try client(server, allowedDomains: ["example.com"]), to: [ops, other]) else {
            Issue.record("a recipient outside allowed_domains was not refused"); return
        }
        #expect(reason.contains("ceo@other.example") && reason.contains("allowed_domains"))
        var injected = event
        injected.jobName = "report\r\nBcc: everyone@example.com"
        let plainClient = try client(server)
        guard case .permanent = await plainClient.send(injected, to: [ops], cluster: "c", unixMilliseconds: 0) else {
            Issue.record("a header injection was not refused"); return
        }
        #expect(server.record.connections == 0)
    }
}

@Suite("SMTP client: STARTTLS with a real handshake")
struct SMTPStartTLSTests {
    /// A CA and a server certificate for `localhost` and `127.0.0.1`, from Transport's dev CA.
    struct Certificates {
        let server: NIOSSLContext
        let trustingClient: TLSConfiguration

        init() throws {
            let ca = try Transport.DevCertificateAuthority.create(validity: .days(1, from: Date()))
            let issued = try ca.issueAPICertificate(hosts: ["localhost", "127.0.0.1"], validity: .days(1, from: Date()))
            let chain = try NIOSSLCertificate(bytes: Array(issued.certificatePEM().utf8), format: .pem)
            let key = try NIOSSLPrivateKey(bytes: Array(issued.privateKeyPEM().utf8), format: .pem)
            server = try NIOSSLContext(configuration: .makeServerConfiguration(certificateChain: [.certificate(chain)], privateKey: .privateKey(key)))
            var client = TLSConfiguration.makeClientConfiguration()
            client.trustRoots = .certificates([try NIOSSLCertificate(bytes: Array(ca.certificatePEM().utf8), format: .pem)])
            trustingClient = client
        }
    }

    @Test("STARTTLS, EHLO again over TLS, AUTH and the message inside TLS; a server the client does not trust is retryable")
    func overTLS() async throws {
        let certificates = try Certificates()
        var script = FakeSMTPServer.Script()
        script.ehlo = ["250-fake.test", "250-STARTTLS", "250 AUTH PLAIN"]
        script.tls = certificates.server
        let server = try await FakeSMTPServer.start(script)
        defer { Task { try? await server.stop() } }
        let settings = SMTPSettings(host: "127.0.0.1", port: server.port, from: try EmailAddress("quorum@example.com", field: "from"),
                                    startTLS: true, username: "quorum", password: "secret", timeout: .seconds(10))
        let ops = try EmailAddress("ops@example.com", field: "email")
        let outcome = await SMTPClient(settings: settings, tlsConfiguration: certificates.trustingClient)
            .send(NotificationPayloadTests.dead, to: [ops], cluster: "prod", unixMilliseconds: 0)
        #expect(outcome == .delivered)
        let commands = server.record.commands
        #expect(Array(commands.prefix(3)) == ["EHLO quorum", "STARTTLS", "EHLO quorum"])
        #expect(server.record.auth == ["quorum:secret"])
        #expect(server.record.message.contains("Subject: [quorum] dead: nightly-report (attempt 3/3)"))

        // The system's roots do not include the test CA: the handshake fails before AUTH.
        let untrusting = SMTPClient(settings: settings)
        guard case .retryable = await untrusting.send(NotificationPayloadTests.dead, to: [ops], cluster: "prod", unixMilliseconds: 0) else {
            Issue.record("an untrusted server certificate was not retryable")
            return
        }
        #expect(server.record.auth == ["quorum:secret"], "credentials were sent to an untrusted server")
    }
}
