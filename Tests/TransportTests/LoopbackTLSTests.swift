import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import RaftCore
import Testing

@testable import Transport

/// A CA and helpers to start transports for it on 127.0.0.1, port 0.
private struct TestCluster {
    let authority: Transport.DevCertificateAuthority
    let logs = CapturedLogs()

    init() throws {
        authority = try .create(validity: .current())
    }

    func transport(
        _ id: Raft.NodeID, port: Int = 0, sendQueue: Transport.SendQueueLimits = .init(),
        handshakeTimeout: TimeAmount = .seconds(5),
        backoff: Transport.Backoff = Transport.Backoff(initial: .milliseconds(20), maximum: .milliseconds(200))
    ) throws -> Transport.PeerTransport {
        let issued = try authority.issueNodeCertificate(id: id, hosts: ["127.0.0.1"], validity: .current())
        let configuration = Transport.Configuration(
            credentials: try Transport.TLSCredentials(authority: authority, issued: issued),
            listen: .init(host: "127.0.0.1", port: port),
            sendQueue: sendQueue,
            backoff: backoff,
            handshakeTimeout: handshakeTimeout)
        return try Transport.PeerTransport(configuration: configuration, logger: logs.logger("transport.\(id)"))
    }
}

/// Runs the transports in child tasks for the duration of `body`, then cancels them.
private func withRunning<T: Sendable>(
    _ transports: [Transport.PeerTransport], _ body: () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: Void.self) { group in
        for transport in transports {
            group.addTask { try await transport.run() }
        }
        let result = try await body()
        group.cancelAll()
        return result
    }
}

private func port(of transport: Transport.PeerTransport) async throws -> Int {
    try #require(try await transport.listeningAddress().port)
}

/// The next `count` inbound messages, or a test failure after `timeout`.
private func receive(
    _ count: Int, from stream: Transport.InboundMessages, timeout: Duration = .seconds(30)
) async throws -> [Transport.InboundMessage] {
    try await withThrowingTaskGroup(of: [Transport.InboundMessage]?.self) { group in
        group.addTask {
            var received: [Transport.InboundMessage] = []
            for await message in stream {
                received.append(message)
                if received.count == count { break }
            }
            return received
        }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        let first = try await group.next() ?? nil
        group.cancelAll()
        return try #require(first, "timed out after \(timeout) waiting for \(count) messages")
    }
}

private func frame(_ type: UInt8, _ text: String) -> Transport.Frame {
    Transport.Frame(type: type, bytes: Array(text.utf8))
}

/// A TLS client that accepts any server and presents `certificate` (or none), then sends a
/// frame: the frame must never be delivered by a server that rejects it.
private func connectRawTLSClient(
    to port: Int, certificate: Transport.IssuedCertificate?, maximumVersion: TLSVersion? = nil,
    sending bytes: ByteBuffer? = nil
) async throws -> any Channel {
    var configuration = TLSConfiguration.makeClientConfiguration()
    configuration.certificateVerification = .none
    if let maximumVersion {
        configuration.minimumTLSVersion = .tlsv1
        configuration.maximumTLSVersion = maximumVersion
    } else {
        configuration.minimumTLSVersion = .tlsv13
    }
    if let certificate {
        configuration.certificateChain = [
            .certificate(try NIOSSLCertificate(bytes: Array(certificate.certificatePEM().utf8), format: .pem))
        ]
        configuration.privateKey = .privateKey(
            try NIOSSLPrivateKey(bytes: Array(try certificate.privateKeyPEM().utf8), format: .pem))
    }
    let context = try NIOSSLContext(configuration: configuration)
    let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: nil))
            }
        }
        .connect(host: "127.0.0.1", port: port).get()
    var payload = ByteBuffer()
    Transport.FrameEncoder.write(frame(1, "should never be delivered"), into: &payload)
    channel.writeAndFlush(bytes ?? payload, promise: nil)
    return channel
}

private func connectPlaintextClient(to port: Int) async throws -> any Channel {
    let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .connect(host: "127.0.0.1", port: port).get()
    var buffer = ByteBuffer()
    Transport.FrameEncoder.write(frame(1, "plaintext"), into: &buffer)
    channel.writeAndFlush(buffer, promise: nil)
    return channel
}

@Suite("Peer transport over loopback TLS")
struct LoopbackTLSTests {
    @Test("two members connect and exchange frames in order, tagged with the sender's id")
    func exchange() async throws {
        let cluster = try TestCluster()
        let n1 = try cluster.transport("n1")
        let n2 = try cluster.transport("n2")
        try await withRunning([n1, n2]) {
            n1.setPeers(["n2": .init(host: "127.0.0.1", port: try await port(of: n2))])
            n2.setPeers(["n1": .init(host: "127.0.0.1", port: try await port(of: n1))])
            for index in 0..<50 {
                #expect(n1.send(frame(UInt8(index % 7), "to n2 #\(index)"), to: "n2") == .queued)
                n2.send(frame(3, "to n1 #\(index)"), to: "n1")
            }
            let atN2 = try await receive(50, from: n2.inbound)
            let atN1 = try await receive(50, from: n1.inbound)
            #expect(atN2.allSatisfy { $0.from == "n1" })
            #expect(atN2.map { String(buffer: $0.payload) } == (0..<50).map { "to n2 #\($0)" })
            #expect(atN2.map(\.type) == (0..<50).map { UInt8($0 % 7) })
            #expect(atN1.allSatisfy { $0.from == "n2" })
            #expect(n1.send(frame(1, "x"), to: "n9") == .unknownPeer)
        }
        #expect(cluster.logs.rejections().isEmpty)
    }

    @Test(
        "bad clients are closed with a specific logged reason before any frame, and members are still served",
        .timeLimit(.minutes(1)))
    func rejections() async throws {
        let cluster = try TestCluster()
        let n1 = try cluster.transport("n1")
        let n2 = try cluster.transport("n2")
        let otherCA = try Transport.DevCertificateAuthority.create(validity: .current())
        let now = Date()
        let cases: [(reason: String, certificate: Transport.IssuedCertificate?)] = [
            ("untrusted_issuer", try otherCA.issueNodeCertificate(id: "n2", hosts: [], validity: .current())),
            (
                "expired",
                try cluster.authority.issueNodeCertificate(
                    id: "n2", hosts: [],
                    validity: .init(notBefore: now.addingTimeInterval(-7200), notAfter: now.addingTimeInterval(-3600)))
            ),
            ("unknown_member", try cluster.authority.issueNodeCertificate(id: "n9", hosts: [], validity: .current())),
            ("no_certificate", nil),
        ]
        let member = try cluster.authority.issueNodeCertificate(id: "n2", hosts: [], validity: .current())
        try await withRunning([n1, n2]) {
            let n1Port = try await port(of: n1)
            n1.setPeers(["n2": .init(host: "127.0.0.1", port: try await port(of: n2))])
            n2.setPeers(["n1": .init(host: "127.0.0.1", port: n1Port)])
            var clients: [any Channel] = []
            for (reason, certificate) in cases {
                clients.append(try await connectRawTLSClient(to: n1Port, certificate: certificate))
                try await eventually("n1 logs a rejection with reason \(reason)") {
                    cluster.logs.rejections().contains(reason)
                }
            }
            clients.append(try await connectPlaintextClient(to: n1Port))
            try await eventually("n1 logs a plaintext rejection") { cluster.logs.rejections().contains("not_tls") }
            // A member's valid certificate over TLS 1.2: the minimum version is enforced.
            clients.append(try await connectRawTLSClient(to: n1Port, certificate: member, maximumVersion: .tlsv12))
            try await eventually("n1 refuses TLS 1.2") { cluster.logs.rejections().contains("handshake_failed") }
            for client in clients {
                try await client.closeFuture.get()  // the server closed every one of them
            }

            // n1 still serves its real peer, and nothing from the rejected clients was delivered.
            n2.send(frame(5, "still here"), to: "n1")
            let received = try await receive(1, from: n1.inbound)
            #expect(received.map(\.from) == ["n2"])
            #expect(String(buffer: received[0].payload) == "still here")
            #expect(n1.statistics().inboundDelivered == 1)
        }
        let counts = n1.statistics().rejections
        for reason in ["untrusted_issuer", "expired", "unknown_member", "no_certificate", "not_tls", "handshake_failed"] {
            #expect(counts[reason] == 1, "rejections: \(counts)")
        }
    }

    @Test("a malformed frame from an authenticated member closes only that connection, and is logged", .timeLimit(.minutes(1)))
    func malformedFrameFromMember() async throws {
        let cluster = try TestCluster()
        let n1 = try cluster.transport("n1")
        let member = try cluster.authority.issueNodeCertificate(id: "n2", hosts: [], validity: .current())
        try await withRunning([n1]) {
            n1.setPeers(["n2": .init(host: "127.0.0.1", port: 1)])
            var hostile = ByteBuffer()
            hostile.writeInteger(UInt32.max)
            hostile.writeBytes([1, 1, 1, 1])
            let client = try await connectRawTLSClient(
                to: try await port(of: n1), certificate: member, sending: hostile)
            try await client.closeFuture.get()
            try await eventually("n1 logs why it closed the connection") {
                cluster.logs.records.contains {
                    $0.message == "closed inbound peer connection" && ($0.metadata["error"] ?? "").contains("exceeds the maximum")
                }
            }
            #expect(n1.statistics().inboundDelivered == 0)
        }
    }

    @Test("a client that connects and never starts a handshake is cut off (slow loris)", .timeLimit(.minutes(1)))
    func handshakeTimeout() async throws {
        let cluster = try TestCluster()
        let n1 = try cluster.transport("n1", handshakeTimeout: .milliseconds(200))
        try await withRunning([n1]) {
            let idle = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: "127.0.0.1", port: try await port(of: n1)).get()
            try await idle.closeFuture.get()
            #expect(cluster.logs.rejections() == ["handshake_timeout"])
        }
    }

    @Test("dialing n2 but reaching a valid n3 is refused (the Consul #5069 lesson)", .timeLimit(.minutes(1)))
    func wrongPeerAtAddress() async throws {
        let cluster = try TestCluster()
        let n1 = try cluster.transport("n1")
        let n3 = try cluster.transport("n3")
        try await withRunning([n1, n3]) {
            n3.setPeers(["n1": .init(host: "127.0.0.1", port: try await port(of: n1))])
            // The config says n2 listens where n3 actually does.
            n1.setPeers(["n2": .init(host: "127.0.0.1", port: try await port(of: n3)), "n3": .init(host: "127.0.0.1", port: 1)])
            n1.send(frame(1, "for n2 only"), to: "n2")
            try await eventually("n1 refuses n3 posing at n2's address") {
                cluster.logs.rejections().contains("unexpected_peer")
            }
            #expect(n3.statistics().inboundDelivered == 0)
            #expect(n1.statistics().peers["n2"]?.connected == false)
        }
    }

    @Test("a peer that disappears and returns is reconnected, and frames queued meanwhile arrive", .timeLimit(.minutes(1)))
    func reconnect() async throws {
        let cluster = try TestCluster()
        let n1 = try cluster.transport("n1")
        let firstN2 = try cluster.transport("n2")
        try await withRunning([n1]) {
            let n1Port = try await port(of: n1)
            let n2Port = try await withRunning([firstN2]) {
                let n2Port = try await port(of: firstN2)
                firstN2.setPeers(["n1": .init(host: "127.0.0.1", port: n1Port)])
                n1.setPeers(["n2": .init(host: "127.0.0.1", port: n2Port)])
                n1.send(frame(1, "before"), to: "n2")
                let received = try await receive(1, from: firstN2.inbound)
                #expect(received.map { String(buffer: $0.payload) } == ["before"])
                return n2Port
            }
            try await eventually("n1 notices that n2 went away") { n1.statistics().peers["n2"]?.connected == false }
            n1.send(frame(2, "while down"), to: "n2")

            let secondN2 = try cluster.transport("n2", port: n2Port)
            try await withRunning([secondN2]) {
                secondN2.setPeers(["n1": .init(host: "127.0.0.1", port: n1Port)])
                let received = try await receive(1, from: secondN2.inbound)
                #expect(received.map { String(buffer: $0.payload) } == ["while down"])
                #expect(received.map(\.from) == ["n1"])
            }
            let statistics = try #require(n1.statistics().peers["n2"])
            #expect(statistics.connections >= 2)
        }
    }

    @Test("a peer that dials in while our connection to it waits out a long backoff is dialed at once",
          .timeLimit(.minutes(1)))
    func redialWhenThePeerDialsIn() async throws {
        let cluster = try TestCluster()
        // A backoff of at least 30 s after the first failure: without the redial, the frame
        // queued while n2 was down would arrive only after the receive timeout below.
        let n1 = try cluster.transport("n1", backoff: Transport.Backoff(initial: .seconds(60), maximum: .seconds(60)))
        let firstN2 = try cluster.transport("n2")
        try await withRunning([n1]) {
            let n1Port = try await port(of: n1)
            let n2Port = try await withRunning([firstN2]) {
                let n2Port = try await port(of: firstN2)
                firstN2.setPeers(["n1": .init(host: "127.0.0.1", port: n1Port)])
                n1.setPeers(["n2": .init(host: "127.0.0.1", port: n2Port)])
                n1.send(frame(1, "before"), to: "n2")
                _ = try await receive(1, from: firstN2.inbound)
                return n2Port
            }
            try await eventually("n1 notices that n2 went away") { n1.statistics().peers["n2"]?.connected == false }
            n1.send(frame(2, "while down"), to: "n2")

            let secondN2 = try cluster.transport("n2", port: n2Port)
            try await withRunning([secondN2]) {
                secondN2.setPeers(["n1": .init(host: "127.0.0.1", port: n1Port)])
                secondN2.send(frame(3, "hello"), to: "n1")  // n2 dials n1: proof that n2 is up
                let received = try await receive(1, from: secondN2.inbound, timeout: .seconds(15))
                #expect(received.map { String(buffer: $0.payload) } == ["while down"])
            }
        }
    }

    @Test("a peer that is down never grows the send queue past its bound; drops are counted")
    func boundedQueue() throws {
        let cluster = try TestCluster()
        let n1 = try cluster.transport("n1", sendQueue: .init(maximumFrames: 100, maximumBytes: 1 << 20))
        n1.setPeers(["n2": .init(host: "127.0.0.1", port: 1)])
        for index in 0..<10_000 { n1.send(frame(1, "message \(index)"), to: "n2") }
        let statistics = try #require(n1.statistics().peers["n2"])
        #expect(statistics.pending == 100)
        #expect(statistics.dropped == 9_900)
        #expect(statistics.queued == 10_000)

        let dropNew = try cluster.transport("n1", sendQueue: .init(maximumFrames: 10, maximumBytes: 1 << 20, overflow: .dropNewest))
        dropNew.setPeers(["n2": .init(host: "127.0.0.1", port: 1)])
        let outcomes = (0..<20).map { dropNew.send(frame(1, "m\($0)"), to: "n2") }
        #expect(outcomes.prefix(10).allSatisfy { $0 == .queued })
        #expect(outcomes.suffix(10).allSatisfy { $0 == .dropped })
        #expect(n1.send(Transport.Frame(type: 1, bytes: [UInt8](repeating: 0, count: 17 << 20)), to: "n2") == .frameTooLarge)
    }
}
