import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// A scripted SMTP server on 127.0.0.1 and a free port: answers each command as ``Script`` says
/// and records the conversation, the AUTH credentials and the (un-dot-stuffed) message.
public struct FakeSMTPServer: Sendable {
    /// How the server answers. Replies are whole lines without CRLF; several lines make a multi-line reply.
    public struct Script: Sendable {
        public var greeting = ["220 fake.test ESMTP ready"]
        public var ehlo = ["250-fake.test greets you", "250-PIPELINING", "250-AUTH PLAIN LOGIN", "250-8BITMIME", "250 SIZE 1000000"]
        /// Replies by verb (`MAIL`, `RCPT`, `DATA`, `AUTH`, `STARTTLS`) or `END` (after the message).
        public var replies: [String: [String]] = [:]
        /// Close the connection instead of answering this verb (or `STARTTLS-OK`: after answering 220).
        public var closeOn: String?
        /// Accept the connection and never say anything.
        public var silent = false
        /// Answer STARTTLS with 220 and then speak TLS with this context (else 220 and stay in clear).
        public var tls: NIOSSLContext?

        /// The default script: a server that accepts everything.
        public init() {}
    }

    /// What the server saw.
    public final class Record: Sendable {
        private let state = Mutex<(connections: Int, commands: [String], message: [String], auth: [String])>((0, [], [], []))
        public var connections: Int { state.withLock { $0.connections } }
        public var commands: [String] { state.withLock { $0.commands } }
        /// The message's lines after the server removed dot-stuffing.
        public var message: [String] { state.withLock { $0.message } }
        /// Decoded credentials: `user:password` per AUTH.
        public var auth: [String] { state.withLock { $0.auth } }
        func connected() { state.withLock { $0.connections += 1 } }
        func command(_ line: String) { state.withLock { $0.commands.append(line) } }
        func messageLine(_ line: String) { state.withLock { $0.message.append(line) } }
        func credentials(_ text: String) { state.withLock { $0.auth.append(text) } }
    }

    /// The listening channel.
    public let channel: any Channel
    /// What the server saw.
    public let record: Record
    /// The port it listens on.
    public var port: Int { channel.localAddress?.port ?? 0 }

    /// Starts a server on 127.0.0.1 and a free port.
    public static func start(_ script: Script = Script()) async throws -> FakeSMTPServer {
        let record = Record()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(FakeSMTPHandler(script: script, record: record))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        return FakeSMTPServer(channel: channel, record: record)
    }

    /// Closes the listening channel.
    public func stop() async throws {
        try await channel.close().get()
    }
}

private final class FakeSMTPHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum Mode { case command, data, loginUser, loginPassword(String) }

    private let script: FakeSMTPServer.Script
    private let record: FakeSMTPServer.Record
    private var pending: [UInt8] = []
    private var mode = Mode.command

    init(script: FakeSMTPServer.Script, record: FakeSMTPServer.Record) {
        self.script = script
        self.record = record
    }

    func channelActive(context: ChannelHandlerContext) {
        record.connected()
        if !script.silent { send(script.greeting, context: context) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        pending += unwrapInboundIn(data).readableBytesView
        while let newline = pending.firstIndex(of: 0x0A) {
            var line = Array(pending[..<newline])
            pending.removeFirst(newline + 1)
            if line.last == 0x0D { line.removeLast() }
            handle(String(decoding: line, as: UTF8.self), context: context)
        }
    }

    private func handle(_ line: String, context: ChannelHandlerContext) {
        switch mode {
        case .data:
            if line == "." {
                mode = .command
                send(script.replies["END"] ?? ["250 2.0.0 queued as FAKE1"], context: context)
            } else {
                record.messageLine(line.hasPrefix(".") ? String(line.dropFirst()) : line)
            }
            return
        case .loginUser:
            mode = .loginPassword(decode(line))
            send(["334 UGFzc3dvcmQ6"], context: context)
            return
        case .loginPassword(let user):
            record.credentials("\(user):\(decode(line))")
            mode = .command
            send(["235 2.7.0 accepted"], context: context)
            return
        case .command:
            break
        }
        record.command(line)
        let verb = line.split(separator: " ").first.map { $0.uppercased() } ?? ""
        if script.closeOn == verb {
            context.close(promise: nil)
            return
        }
        if let scripted = script.replies[verb] {
            send(scripted, context: context)
            if verb == "DATA", scripted.first?.hasPrefix("354") == true { mode = .data }
            return
        }
        switch verb {
        case "EHLO": send(script.ehlo, context: context)
        case "STARTTLS":
            send(["220 2.0.0 go ahead"], context: context)
            if script.closeOn == "STARTTLS-OK" { context.close(promise: nil) }
            // The 220 went out in clear; everything after it is TLS, below this handler.
            if let tls = script.tls {
                do {
                    try context.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls), position: .first)
                } catch {
                    context.close(promise: nil)
                }
            }
        case "AUTH":
            let words = line.split(separator: " ")
            if words.count == 3, words[1].uppercased() == "PLAIN" {
                record.credentials(decode(String(words[2])).split(separator: "\0", omittingEmptySubsequences: false).dropFirst()
                    .joined(separator: ":"))
                send(["235 2.7.0 accepted"], context: context)
            } else {
                mode = .loginUser
                send(["334 VXNlcm5hbWU6"], context: context)
            }
        case "MAIL", "RCPT", "RSET", "NOOP": send(["250 2.1.0 ok"], context: context)
        case "DATA":
            mode = .data
            send(["354 end with <CRLF>.<CRLF>"], context: context)
        case "QUIT":
            send(["221 2.0.0 bye"], context: context)
            context.close(promise: nil)
        default: send(["502 5.5.2 unknown command"], context: context)
        }
    }

    private func decode(_ base64: String) -> String {
        Data(base64Encoded: base64).map { String(decoding: $0, as: UTF8.self) } ?? "<not base64>"
    }

    private func send(_ lines: [String], context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: lines.map { $0 + "\r\n" }.joined())), promise: nil)
    }
}
