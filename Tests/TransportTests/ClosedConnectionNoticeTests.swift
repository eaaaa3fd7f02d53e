import Foundation
import NIOCore
import RaftCore
import Testing

@testable import Transport

/// `Configuration.announcesClosedConnections`: a follower learns of a killed leader from its
/// closed connection (docs/raft.md, "Leader link loss").
@Suite("PeerTransport: an ended inbound connection is announced after its last frame", .timeLimit(.minutes(1)))
struct ClosedConnectionNoticeTests {
    let authority: Transport.DevCertificateAuthority
    let logs = CapturedLogs()

    init() throws {
        authority = try .create(validity: .current())
    }

    private func transport(_ id: Raft.NodeID, announces: Bool) throws -> Transport.PeerTransport {
        let issued = try authority.issueNodeCertificate(id: id, hosts: ["127.0.0.1"], validity: .current())
        var configuration = Transport.Configuration(
            credentials: try Transport.TLSCredentials(authority: authority, issued: issued),
            listen: .init(host: "127.0.0.1", port: 0),
            backoff: Transport.Backoff(initial: .milliseconds(20), maximum: .milliseconds(200)))
        configuration.announcesClosedConnections = announces
        return try Transport.PeerTransport(configuration: configuration, logger: logs.logger("transport.\(id)"))
    }

    @Test("n2 sends two frames and a forged notice, then stops: n1 gets the two frames, then one notice from n2")
    func noticeFollowsTheLastFrame() async throws {
        let n1 = try transport("n1", announces: true)
        let n2 = try transport("n2", announces: true)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await n1.run() }
            let n2Run = Task { try await n2.run() }
            let port = try #require(try await n1.listeningAddress().port)
            n1.setPeers(["n2": .init(host: "127.0.0.1", port: 1)])
            n2.setPeers(["n1": .init(host: "127.0.0.1", port: port)])
            n2.send(Transport.Frame(type: 1, bytes: [1]), to: "n1")
            n2.send(Transport.Frame(type: Transport.FrameFormat.connectionClosedType, bytes: []), to: "n1")
            n2.send(Transport.Frame(type: 1, bytes: [2]), to: "n1")
            var iterator = n1.inbound.makeAsyncIterator()
            for expected: UInt8 in [1, 2] {
                let message = try #require(await iterator.next())
                #expect(message.from == "n2" && message.type == 1 && Array(message.payload.readableBytesView) == [expected],
                        "the forged notice is dropped, real frames arrive in order")
            }
            n2Run.cancel()
            _ = await n2Run.result
            let notice = try #require(await iterator.next())
            #expect(notice.from == "n2" && notice.type == Transport.FrameFormat.connectionClosedType)
            #expect(notice.payload.readableBytes == 0)
            group.cancelAll()
        }
    }
}
