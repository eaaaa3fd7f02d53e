import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import RaftCore
import Synchronization
import Testing

@testable import Transport

/// Transports on 127.0.0.1 with small limits, for the limit tests.
private struct LimitsCluster {
    let authority: Transport.DevCertificateAuthority
    let logs = CapturedLogs()

    init() throws { authority = try .create(validity: .current()) }

    func transport(
        _ id: Raft.NodeID, sendQueue: Transport.SendQueueLimits = .init(), maximumFrameLength: Int = 1024,
        maximumPendingHandshakes: Int = 64, idleTimeout: TimeAmount = .seconds(30), inboundBytesPerPeer: Int = 1 << 20,
        onDroppedFrames: (@Sendable (Transport.FrameDropReason, Int) -> Void)? = nil
    ) throws -> Transport.PeerTransport {
        let issued = try authority.issueNodeCertificate(id: id, hosts: ["127.0.0.1"], validity: .current())
        let configuration = Transport.Configuration(
            credentials: try Transport.TLSCredentials(authority: authority, issued: issued),
            listen: .init(host: "127.0.0.1", port: 0), maximumFrameLength: maximumFrameLength, sendQueue: sendQueue,
            inboundBytesPerPeer: inboundBytesPerPeer,
            backoff: Transport.Backoff(initial: .milliseconds(20), maximum: .milliseconds(200)),
            handshakeTimeout: .seconds(20), maximumPendingHandshakes: maximumPendingHandshakes, idleTimeout: idleTimeout,
            onDroppedFrames: onDroppedFrames)
        return try Transport.PeerTransport(configuration: configuration, logger: logs.logger("transport.\(id)"))
    }
}

private func running<T: Sendable>(_ transport: Transport.PeerTransport, _ body: () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await transport.run() }
        let result = try await body()
        group.cancelAll()
        return result
    }
}

private func tcpConnect(_ transport: Transport.PeerTransport) async throws -> any Channel {
    let port = try #require(try await transport.listeningAddress().port)
    return try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: port).get()
}

/// Records every drop callback.
private final class DropRecorder: Sendable {
    let drops = Mutex<[Transport.FrameDropReason: Int]>([:])
    func record(_ reason: Transport.FrameDropReason, _ count: Int) { drops.withLock { $0[reason, default: 0] += count } }
}

@Suite("Peer transport limits: handshakes, idle links, dropped frames")
struct PeerLimitsTests {
    @Test("connections beyond maximumPendingHandshakes are refused at once", .timeLimit(.minutes(1)))
    func pendingHandshakeCap() async throws {
        let cluster = try LimitsCluster()
        let n1 = try cluster.transport("n1", maximumPendingHandshakes: 2)
        try await running(n1) {
            let first = try await tcpConnect(n1)
            let second = try await tcpConnect(n1)
            try await eventually("both idle connections are counted") { n1.statistics().pendingHandshakes == 2 }
            let third = try await tcpConnect(n1)
            try await third.closeFuture.get()
            #expect(cluster.logs.rejections() == ["too_many_handshakes"])
            #expect(n1.statistics().rejections["too_many_handshakes"] == 1)
            #expect(first.isActive && second.isActive)
            // Once one of them goes away there is room again.
            try await first.close()
            try await eventually("the closed connection is no longer counted") { n1.statistics().pendingHandshakes == 1 }
            let fourth = try await tcpConnect(n1)
            try await eventually("the fourth is counted, not refused") { n1.statistics().pendingHandshakes == 2 }
            #expect(fourth.isActive)
            try await second.close()
            try await fourth.close()
        }
    }

    @Test("an authenticated peer that never sends anything is cut off after the idle timeout", .timeLimit(.minutes(1)))
    func idleAuthenticatedLinkClosed() async throws {
        let cluster = try LimitsCluster()
        let n1 = try cluster.transport("n1", idleTimeout: .milliseconds(300))
        let member = try cluster.authority.issueNodeCertificate(id: "n2", hosts: [], validity: .current())
        try await running(n1) {
            n1.setPeers(["n2": .init(host: "127.0.0.1", port: 1)])
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.certificateVerification = .none
            configuration.minimumTLSVersion = .tlsv13
            configuration.certificateChain = [.certificate(try NIOSSLCertificate(bytes: Array(member.certificatePEM().utf8), format: .pem))]
            configuration.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(try member.privateKeyPEM().utf8), format: .pem))
            let context = try NIOSSLContext(configuration: configuration)
            let port = try #require(try await n1.listeningAddress().port)
            let silent = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: nil))
                    }
                }
                .connect(host: "127.0.0.1", port: port).get()
            try await silent.closeFuture.get()
            #expect(cluster.logs.records.contains { $0.message == "closed an idle peer connection" })
            #expect(cluster.logs.rejections().isEmpty, "the peer authenticated; it was closed for silence, not rejected")
        }
    }

    @Test("two idle transports keep their link up with keepalives, which are never delivered", .timeLimit(.minutes(1)))
    func keepalivesHoldAnIdleLink() async throws {
        let cluster = try LimitsCluster()
        // Long enough that a loaded test machine does not starve a link for a whole timeout.
        let n1 = try cluster.transport("n1", idleTimeout: .seconds(2))
        let n2 = try cluster.transport("n2", idleTimeout: .seconds(2))
        try await running(n1) {
            try await running(n2) {
                let n1Port = try #require(try await n1.listeningAddress().port)
                let n2Port = try #require(try await n2.listeningAddress().port)
                n1.setPeers(["n2": .init(host: "127.0.0.1", port: n2Port)])
                n2.setPeers(["n1": .init(host: "127.0.0.1", port: n1Port)])
                try await eventually("both links are up") { n1.isConnected(to: "n2") && n2.isConnected(to: "n1") }
                // Each side sends a keepalive on each of its two connections (the one it dialed and
                // the one it accepted) after a third of the timeout without writes, so 13 received
                // take more than two idle timeouts, through which nothing else crossed the links.
                try await eventually("both sides received 13 keepalives") {
                    n1.statistics().keepalivesReceived >= 13 && n2.statistics().keepalivesReceived >= 13
                }
                #expect(n1.statistics().peers["n2"]?.connections == 1, "the link was closed for idleness")
                #expect(n2.statistics().peers["n1"]?.connections == 1, "the link was closed for idleness")
                #expect(n1.statistics().inboundDelivered == 0 && n2.statistics().inboundDelivered == 0)
                #expect(!cluster.logs.records.contains { $0.message == "closed an idle peer connection" })
            }
        }
    }

    @Test("a frame the transport cannot send is counted by reason, logged, and reported")
    func droppedFramesCounted() throws {
        let cluster = try LimitsCluster()
        let recorder = DropRecorder()
        let n1 = try cluster.transport(
            "n1", sendQueue: .init(maximumFrames: 2, maximumBytes: 1 << 20), maximumFrameLength: 64,
            onDroppedFrames: { recorder.record($0, $1) })
        n1.setPeers(["n2": .init(host: "127.0.0.1", port: 1)])
        #expect(n1.send(Transport.Frame(type: 1, bytes: Array(repeating: 0, count: 100)), to: "n2") == .frameTooLarge)
        #expect(n1.send(Transport.Frame(type: 1, bytes: [1]), to: "n9") == .unknownPeer)
        for _ in 0..<5 { n1.send(Transport.Frame(type: 1, bytes: [1]), to: "n2") }
        n1.setPeers([:])
        let expected: [Transport.FrameDropReason: UInt64] = [.frameTooLarge: 1, .unknownPeer: 1, .queueFull: 3, .peerRemoved: 2]
        #expect(n1.statistics().droppedFrames == expected)
        #expect(recorder.drops.withLock { $0 } == expected.mapValues { Int($0) })
        let logged = cluster.logs.records.filter { $0.message == "dropped peer frames" }.compactMap { $0.metadata["reason"] }
        #expect(Set(logged) == ["frame_too_large", "unknown_peer", "queue_full", "peer_removed"])
    }

    @Test("a peer's frames beyond its inbound byte budget are dropped and counted until the node reads", .timeLimit(.minutes(1)))
    func inboundBytesPerPeer() async throws {
        let cluster = try LimitsCluster()
        let n1 = try cluster.transport("n1", inboundBytesPerPeer: 100)
        let n2 = try cluster.transport("n2")
        try await running(n1) {
            try await running(n2) {
                let n1Port = try #require(try await n1.listeningAddress().port)
                let n2Port = try #require(try await n2.listeningAddress().port)
                n1.setPeers(["n2": .init(host: "127.0.0.1", port: n2Port)])
                n2.setPeers(["n1": .init(host: "127.0.0.1", port: n1Port)])
                for index in 0..<10 { n2.send(Transport.Frame(type: 1, bytes: Array(repeating: UInt8(index), count: 50)), to: "n1") }
                try await eventually("all ten frames reached n1") {
                    let statistics = n1.statistics()
                    return statistics.inboundDelivered + statistics.inboundDropped == 10
                }
                #expect(n1.statistics().inboundDelivered == 2)
                #expect(n1.statistics().droppedFrames[.inboundQueueFull] == 8)
                var iterator = n1.inbound.makeAsyncIterator()
                let first = await iterator.next()
                let second = await iterator.next()
                #expect([first, second].map { $0?.payload.readableBytes } == [50, 50])
                #expect(first?.from == "n2")
                n2.send(Transport.Frame(type: 1, bytes: [42]), to: "n1")
                try await eventually("with its budget back, n2's next frame is delivered") { n1.statistics().inboundDelivered == 3 }
            }
        }
    }
}
