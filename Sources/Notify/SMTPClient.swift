import EgressPolicy
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Sends one notification email per connection through ``SMTPSettings``'s server, on SwiftNIO.
///
/// The conversation (RFC 5321): greeting 220, `EHLO`, `STARTTLS` and `EHLO` again (required
/// unless turned off for a loopback host), `AUTH PLAIN` (or `AUTH LOGIN` when the server offers
/// only that) when a user name is set, `MAIL FROM`, one `RCPT TO` per recipient, `DATA` with the
/// dot-stuffed message (``SMTPData``), `QUIT`. Multi-line replies are read whole. Connecting and
/// the whole conversation must end within ``SMTPSettings/timeout``: at the deadline the
/// connection is closed.
///
/// Outcomes: the server's 250 after the message is delivery (a failing `QUIT` afterwards does not
/// change that); any 5xx reply is permanent (the recipient, sender or message is refused); a 4xx
/// reply, a refused, dropped or timed-out connection, a TLS failure or a malformed reply is
/// retryable. A recipient outside `allowed_domains`, a message that cannot be composed (a line
/// break in a name) or a server without STARTTLS (when required) or without a usable AUTH is
/// permanent. Mail goes to every recipient or to none: a refused `RCPT TO` abandons the message.
public struct SMTPClient: Sendable {
    /// Server, sender, TLS and AUTH settings.
    public let settings: SMTPSettings
    /// How the STARTTLS handshake checks the server (the system's trust roots by default).
    public let tlsConfiguration: TLSConfiguration
    /// Where the connection runs.
    public let eventLoopGroup: any EventLoopGroup

    /// A client; `settings` should have passed ``SMTPSettings/validate()``.
    public init(settings: SMTPSettings, tlsConfiguration: TLSConfiguration = .makeClientConfiguration(),
                eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.settings = settings
        self.tlsConfiguration = tlsConfiguration
        self.eventLoopGroup = eventLoopGroup
    }

    /// Mails `event` to `recipients`; `cluster` names the `Message-ID`'s domain, `unixMilliseconds` the `Date`.
    public func send(_ event: NotificationEvent, to recipients: [EmailAddress], cluster: String, unixMilliseconds: Int64) async
        -> DeliveryOutcome
    {
        guard !recipients.isEmpty else { return .permanent(reason: "no email recipients") }
        if let outside = recipients.first(where: { !$0.isAllowed(in: settings.allowedDomains) }) {
            return .permanent(reason: "recipient \(outside) is not in [notify.smtp] allowed_domains "
                                  + "(\(settings.allowedDomains.joined(separator: ", "))); add its domain or remove the address")
        }
        let message: String
        do {
            message = try NotificationMail.compose(event, from: settings.from, to: recipients, cluster: cluster,
                                                   unixMilliseconds: unixMilliseconds)
        } catch {
            return .permanent(reason: "cannot compose the email: \(error)")
        }
        return await send(message: message, to: recipients)
    }

    /// Sends an already composed message (headers, blank line, body; not dot-stuffed).
    public func send(message: String, to recipients: [EmailAddress]) async -> DeliveryOutcome {
        let server = "SMTP server \(settings.host):\(settings.port)"
        let timeoutMs = RetrySchedule.timeoutMilliseconds(settings.timeout)
        let deadline = NIODeadline.now() + .milliseconds(timeoutMs)
        let channel: NIOAsyncChannel<SMTPReply, ByteBuffer>
        do {
            channel = try await ClientBootstrap(group: eventLoopGroup)
                .connectTimeout(.milliseconds(timeoutMs))
                .connect(host: settings.host, port: settings.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(SMTPReplyDecoder()))
                        return try NIOAsyncChannel<SMTPReply, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            return .retryable(reason: "cannot connect to \(server): \(error)", retryAfter: nil)
        }
        let timedOut = DeadlineFlag()
        let raw = channel.channel
        let closer = raw.eventLoop.scheduleTask(deadline: deadline) {
            timedOut.passed.store(true, ordering: .relaxed)
            raw.close(promise: nil)
        }
        defer { closer.cancel() }
        do {
            return try await channel.executeThenClose { inbound, outbound in
                var conversation = SMTPConversation(replies: inbound.makeAsyncIterator(), outbound: outbound, channel: raw,
                                                    settings: settings, tlsConfiguration: tlsConfiguration)
                return try await conversation.deliver(message: message, to: recipients)
            }
        } catch let failure as SMTPFailure {
            if timedOut.passed.load(ordering: .relaxed) {
                return .retryable(reason: "\(server) did not finish within \(Self.text(milliseconds: timeoutMs)) (during \(failure.step))", retryAfter: nil)
            }
            return failure.outcome(server: server)
        } catch {
            if timedOut.passed.load(ordering: .relaxed) {
                return .retryable(reason: "\(server) did not finish within \(Self.text(milliseconds: timeoutMs))", retryAfter: nil)
            }
            return .retryable(reason: "\(server) failed: \(error)", retryAfter: nil)
        }
    }

    /// `500 ms`, `30 s`.
    private static func text(milliseconds: Int64) -> String {
        milliseconds < 1000 || milliseconds % 1000 != 0 ? "\(milliseconds) ms" : "\(milliseconds / 1000) s"
    }
}

/// Set by the deadline's scheduled close, so the error it causes is reported as a timeout.
private final class DeadlineFlag: Sendable {
    let passed = Atomic(false)
}

/// Why a conversation stopped, and at which step.
struct SMTPFailure: Error {
    enum Kind {
        /// The server answered with a code the step does not accept.
        case reply(SMTPReply)
        /// The connection ended or failed.
        case connection(String)
        /// The server lacks something the settings require.
        case unsupported(String)
    }

    let step: String
    let kind: Kind

    func outcome(server: String) -> DeliveryOutcome {
        switch kind {
        case .reply(let reply) where reply.code >= 500:
            .permanent(reason: "\(server) refused \(step): \(reply)")
        case .reply(let reply):
            .retryable(reason: "\(server) answered \(step) with \(reply)", retryAfter: nil)
        case .connection(let why):
            .retryable(reason: "\(server): \(why) during \(step)", retryAfter: nil)
        case .unsupported(let why):
            .permanent(reason: "\(server) \(why)")
        }
    }
}

/// One SMTP conversation over an open connection: commands out, replies in, in lockstep.
struct SMTPConversation {
    var replies: NIOAsyncChannelInboundStream<SMTPReply>.AsyncIterator
    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    let channel: any Channel
    let settings: SMTPSettings
    let tlsConfiguration: TLSConfiguration

    mutating func deliver(message: String, to recipients: [EmailAddress]) async throws -> DeliveryOutcome {
        try Self.expect(await next(step: "the greeting"), 220, step: "the greeting")
        var extensions = try await hello()
        if settings.startTLS {
            guard extensions.keys.contains("STARTTLS") else {
                throw SMTPFailure(step: "EHLO", kind: .unsupported(
                    "does not offer STARTTLS, which [notify.smtp] starttls requires; use a server that does "
                        + "(starttls = false is allowed only for a loopback host)"))
            }
            try Self.expect(await command("STARTTLS", step: "STARTTLS"), 220, step: "STARTTLS")
            try await startTLS()
            extensions = try await hello()
        }
        if let username = settings.username, let password = settings.password {
            try await authenticate(username: username, password: password, mechanisms: extensions["AUTH"] ?? [])
        }
        try Self.expect(await command("MAIL FROM:<\(settings.from)>", step: "MAIL FROM"), 250, step: "MAIL FROM:<\(settings.from)>")
        for recipient in recipients {
            let step = "RCPT TO:<\(recipient)>"
            try Self.expect(await command(step, step: step), 250, 251, step: step)
        }
        try Self.expect(await command("DATA", step: "DATA"), 354, step: "DATA")
        try await outbound.write(ByteBuffer(bytes: SMTPData.encode(message)))
        try Self.expect(await next(step: "the end of the message"), 250, step: "the message")
        // Delivered: the server took responsibility. QUIT is courtesy; its failure changes nothing.
        _ = try? await command("QUIT", step: "QUIT")
        return .delivered
    }

    /// EHLO; the extensions the server lists (keyword → parameters), e.g. `AUTH` → `[PLAIN, LOGIN]`.
    private mutating func hello() async throws -> [String: [String]] {
        let reply = try await command("EHLO \(settings.heloName)", step: "EHLO")
        try Self.expect(reply, 250, step: "EHLO")
        var extensions: [String: [String]] = [:]
        for line in reply.lines.dropFirst() {
            let words = line.split(separator: " ").map { $0.uppercased() }
            if let keyword = words.first { extensions[keyword] = Array(words.dropFirst()) }
        }
        return extensions
    }

    private func startTLS() async throws {
        let context: NIOSSLContext
        do {
            context = try NIOSSLContext(configuration: tlsConfiguration)
        } catch {
            throw SMTPFailure(step: "STARTTLS", kind: .unsupported("cannot be reached: the TLS settings do not load (\(error))"))
        }
        // SNI takes a name, not an address.
        let bare = settings.host.hasPrefix("[") && settings.host.hasSuffix("]") ? String(settings.host.dropFirst().dropLast()) : settings.host
        let hostname = IPAddress.parse(bare) == nil ? settings.host : nil
        let channel = self.channel
        try await channel.eventLoop.submit {
            try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: context, serverHostname: hostname),
                                                           position: .first)
        }.get()
    }

    private mutating func authenticate(username: String, password: String, mechanisms: [String]) async throws {
        if mechanisms.contains("PLAIN") {
            let token = Data(Array("\0\(username)\0\(password)".utf8)).base64EncodedString()
            try Self.expect(await command("AUTH PLAIN \(token)", step: "AUTH PLAIN"), 235, step: "AUTH PLAIN (user \(username))")
        } else if mechanisms.contains("LOGIN") {
            try Self.expect(await command("AUTH LOGIN", step: "AUTH LOGIN"), 334, step: "AUTH LOGIN")
            try Self.expect(await command(Data(Array(username.utf8)).base64EncodedString(), step: "AUTH LOGIN"), 334, step: "AUTH LOGIN user")
            try Self.expect(await command(Data(Array(password.utf8)).base64EncodedString(), step: "AUTH LOGIN"), 235,
                       step: "AUTH LOGIN (user \(username))")
        } else {
            let offered = mechanisms.isEmpty ? "no AUTH at all" : "AUTH \(mechanisms.joined(separator: " "))"
            throw SMTPFailure(step: "AUTH", kind: .unsupported(
                "offers \(offered), but a username is configured and only AUTH PLAIN and LOGIN are supported"))
        }
    }

    private mutating func command(_ line: String, step: String) async throws -> SMTPReply {
        do {
            try await outbound.write(ByteBuffer(string: line + "\r\n"))
        } catch {
            throw SMTPFailure(step: step, kind: .connection("cannot write (\(error))"))
        }
        return try await next(step: step)
    }

    private mutating func next(step: String) async throws -> SMTPReply {
        let reply: SMTPReply?
        do {
            reply = try await replies.next()
        } catch {
            throw SMTPFailure(step: step, kind: .connection("\(error)"))
        }
        guard let reply else { throw SMTPFailure(step: step, kind: .connection("the server closed the connection")) }
        return reply
    }

    private static func expect(_ reply: SMTPReply, _ accepted: Int..., step: String) throws {
        guard accepted.contains(reply.code) else { throw SMTPFailure(step: step, kind: .reply(reply)) }
    }
}
