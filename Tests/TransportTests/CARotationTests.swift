import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import RaftCore
import Synchronization
import Testing
import X509

@testable import Transport

/// Starts transports on 127.0.0.1:0 with chosen credentials, logging into one capture.
private struct RotationCluster {
    let logs = CapturedLogs()

    func transport(_ credentials: Transport.TLSCredentials) throws -> Transport.PeerTransport {
        try Transport.PeerTransport(
            configuration: .init(
                credentials: credentials, listen: .init(host: "127.0.0.1", port: 0),
                backoff: Transport.Backoff(initial: .milliseconds(20), maximum: .milliseconds(200))),
            logger: logs.logger("transport.\(credentials.nodeID)"))
    }
}

private func issue(_ id: Raft.NodeID, by authority: Transport.DevCertificateAuthority) throws -> Transport.IssuedCertificate {
    try authority.issueNodeCertificate(id: id, hosts: ["127.0.0.1"], validity: .current())
}

private func running<T: Sendable>(_ transports: [Transport.PeerTransport], _ body: () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: Void.self) { group in
        for transport in transports { group.addTask { try await transport.run() } }
        let result = try await body()
        group.cancelAll()
        return result
    }
}

private func address(of transport: Transport.PeerTransport) async throws -> Transport.PeerAddress {
    .init(host: "127.0.0.1", port: try #require(try await transport.listeningAddress().port))
}

/// Makes `a` and `b` peers of each other (dropping any earlier connections first, so the links
/// that come up are new handshakes with the transports' current credentials).
private func connectAfresh(_ a: Transport.PeerTransport, _ b: Transport.PeerTransport) async throws {
    a.setPeers([:])
    b.setPeers([:])
    a.setPeers([b.configuration.nodeID: try await address(of: b)])
    b.setPeers([a.configuration.nodeID: try await address(of: a)])
}

/// One frame each way arrives, over connections made since the last ``connectAfresh(_:_:)``.
private func exchange(_ a: Transport.PeerTransport, _ b: Transport.PeerTransport, _ text: String) async throws {
    let (aID, bID) = (a.configuration.nodeID, b.configuration.nodeID)
    try await eventually("\(aID) and \(bID) are connected both ways (\(text))") {
        a.isConnected(to: bID) && b.isConnected(to: aID)
    }
    for (from, to) in [(a, b), (b, a)] {
        #expect(from.send(Transport.Frame(type: 1, bytes: Array(text.utf8)), to: to.configuration.nodeID) == .queued)
        let received = try await nextMessage(to)
        #expect(received.from == from.configuration.nodeID)
        #expect(String(buffer: received.payload) == text)
    }
}

/// The next inbound message of `transport`, or a test failure after 30 s.
private func nextMessage(_ transport: Transport.PeerTransport) async throws -> Transport.InboundMessage {
    try await withThrowingTaskGroup(of: Transport.InboundMessage?.self) { group in
        group.addTask {
            for await message in transport.inbound { return message }
            return nil
        }
        group.addTask {
            try await Task.sleep(for: .seconds(30))  // a deadline, not a synchronisation
            return nil
        }
        let first = try await group.next() ?? nil
        group.cancelAll()
        return try #require(first, "no frame reached \(transport.configuration.nodeID) within 30 s")
    }
}

/// The certificate `transport` presents to a client that dials it now (a new handshake).
private func presentedCertificate(by transport: Transport.PeerTransport) async throws -> Certificate {
    let seen = Mutex<[NIOSSLCertificate]>([])
    var configuration = TLSConfiguration.makeClientConfiguration()
    configuration.minimumTLSVersion = .tlsv13
    let context = try NIOSSLContext(configuration: configuration)
    let port = try #require(try await transport.listeningAddress().port)
    let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                let handler = try NIOSSLClientHandler(context: context, serverHostname: nil) { certificates, promise in
                    seen.withLock { $0 = certificates }
                    // Seen is all we want: fail the handshake so nothing else happens on it.
                    promise.succeed(NIOSSLVerificationResult.failed)
                }
                try channel.pipeline.syncOperations.addHandler(handler)
            }
        }
        .connect(host: "127.0.0.1", port: port).get()
    try await eventually("the probe saw \(transport.configuration.nodeID)'s certificate") {
        !seen.withLock { $0.isEmpty }
    }
    channel.close(promise: nil)
    let leaf = try #require(seen.withLock { $0.first })
    return try Certificate(derEncoded: try leaf.toDERBytes())
}

/// A TLS client presenting `certificate`: it must be refused before any frame is delivered.
private func dialPresenting(_ certificate: Transport.IssuedCertificate, to transport: Transport.PeerTransport) async throws
    -> any Channel
{
    var configuration = TLSConfiguration.makeClientConfiguration()
    configuration.certificateVerification = .none
    configuration.minimumTLSVersion = .tlsv13
    configuration.certificateChain = [
        .certificate(try NIOSSLCertificate(bytes: Array(certificate.certificatePEM().utf8), format: .pem))
    ]
    configuration.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(try certificate.privateKeyPEM().utf8), format: .pem))
    let context = try NIOSSLContext(configuration: configuration)
    let port = try #require(try await transport.listeningAddress().port)
    let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: nil))
            }
        }
        .connect(host: "127.0.0.1", port: port).get()
    var payload = ByteBuffer()
    Transport.FrameEncoder.write(Transport.Frame(type: 1, bytes: Array("must not arrive".utf8)), into: &payload)
    channel.writeAndFlush(payload, promise: nil)
    return channel
}

@Suite("CA bundles and live credential reload over loopback TLS", .timeLimit(.minutes(2)))
struct CARotationTests {
    @Test("with a two-CA bundle, peers issued by either CA talk; a third CA's peer is refused and counted")
    func bundleOfTwo() async throws {
        let cluster = RotationCluster()
        let first = try Transport.DevCertificateAuthority.create(validity: .current())
        let second = try Transport.DevCertificateAuthority.create(validity: .current())
        let third = try Transport.DevCertificateAuthority.create(validity: .current())
        let n1 = try cluster.transport(try .init(authorities: [first, second], issued: try issue("n1", by: first)))
        let n2 = try cluster.transport(try .init(authorities: [first, second], issued: try issue("n2", by: second)))
        try await running([n1, n2]) {
            try await connectAfresh(n1, n2)
            try await exchange(n1, n2, "across two CAs")
            let stranger = try await dialPresenting(try issue("n2", by: third), to: n1)
            try await stranger.closeFuture.get()
            try await eventually("n1 counts the third CA's peer as untrusted") {
                n1.statistics().rejections["untrusted_issuer"] == 1
            }
            #expect(cluster.logs.rejections().contains("untrusted_issuer"))
        }
    }

    /// The runbook of docs/security.md, step by step, with both nodes running throughout.
    @Test("rotating the CA without downtime: bundle old+new, re-issue, drop the old CA; an old-CA peer is refused")
    func rotateCA() async throws {
        let cluster = RotationCluster()
        let old = try Transport.DevCertificateAuthority.create(validity: .current())
        let new = try Transport.DevCertificateAuthority.create(validity: .current())
        let n1Old = try issue("n1", by: old)
        let n2Old = try issue("n2", by: old)
        let n1 = try cluster.transport(try .init(authority: old, issued: n1Old))
        let n2 = try cluster.transport(try .init(authority: old, issued: n2Old))
        try await running([n1, n2]) {
            try await connectAfresh(n1, n2)
            try await exchange(n1, n2, "before the rotation")
            let connectionsBefore = n1.statistics().peers["n2"]?.connections

            // 1. Both nodes trust old and new. The established links stay up through the reload.
            try n1.reloadCredentials(try .init(authorities: [old, new], issued: n1Old))
            try n2.reloadCredentials(try .init(authorities: [old, new], issued: n2Old))
            try await exchange(n1, n2, "over the links made before the reload")
            #expect(n1.statistics().peers["n2"]?.connections == connectionsBefore)

            // 2. n2 gets a certificate from the new CA; n1 (still on an old-CA certificate) talks to it.
            let n2New = try issue("n2", by: new)
            try n2.reloadCredentials(try .init(authorities: [old, new], issued: n2New))
            try await connectAfresh(n1, n2)
            try await exchange(n1, n2, "n2 on the new CA")
            #expect(try await presentedCertificate(by: n2) == n2New.certificate)

            // 3. n1 too; then both drop the old CA.
            let n1New = try issue("n1", by: new)
            try n1.reloadCredentials(try .init(authorities: [old, new], issued: n1New))
            try n1.reloadCredentials(try .init(authority: new, issued: n1New))
            try n2.reloadCredentials(try .init(authority: new, issued: n2New))
            try await connectAfresh(n1, n2)
            try await exchange(n1, n2, "old CA gone")
            #expect(try await presentedCertificate(by: n1) == n1New.certificate)
            #expect(n1.currentCredentials().authorities == [new.certificate])

            // 4. A peer still holding only an old-CA certificate is refused.
            let before = n1.statistics().rejections["untrusted_issuer"] ?? 0
            let stale = try await dialPresenting(n2Old, to: n1)
            try await stale.closeFuture.get()
            try await eventually("n1 refuses n2's old certificate") {
                n1.statistics().rejections["untrusted_issuer"] == before + 1
            }
            #expect(n1.statistics().inboundDelivered == 4)
        }
    }
}
