import Foundation
import NIOCore
import RaftCore
import Synchronization
import Testing

@testable import Transport

/// The refusing side of removal notices (docs/raft.md, "Removal"): a removed id's valid
/// certificate completes the handshake only to be sent one frame, then the connection closes.
@Suite("PeerTransport: a removed peer dialing in gets its removal notice and nothing else", .timeLimit(.minutes(1)))
struct RemovalNoticeTransportTests {
    let authority: Transport.DevCertificateAuthority
    let logs = CapturedLogs()

    init() throws {
        authority = try .create(validity: .current())
    }

    private func transport(_ id: Raft.NodeID) throws -> Transport.PeerTransport {
        let issued = try authority.issueNodeCertificate(id: id, hosts: ["127.0.0.1"], validity: .current())
        let configuration = Transport.Configuration(
            credentials: try Transport.TLSCredentials(authority: authority, issued: issued),
            listen: .init(host: "127.0.0.1", port: 0),
            backoff: Transport.Backoff(initial: .milliseconds(20), maximum: .milliseconds(200)))
        return try Transport.PeerTransport(configuration: configuration, logger: logs.logger("transport.\(id)"))
    }

    /// The first inbound message of `transport`, or a test failure after `timeout`.
    private func firstMessage(of transport: Transport.PeerTransport, timeout: Duration = .seconds(20)) async throws -> Transport.InboundMessage {
        try await withThrowingTaskGroup(of: Transport.InboundMessage?.self) { group in
            group.addTask {
                for await message in transport.inbound { return message }
                return nil
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            let first = try await group.next() ?? nil
            group.cancelAll()
            return try #require(first, "no frame arrived within \(timeout)")
        }
    }

    @Test("n4 (removed) gets the notice frame from n1 and n1 delivers nothing n4 sent; n9 (never a member) is still refused at the handshake")
    func removedPeerIsTold() async throws {
        let member = try transport("n1")
        let removed = try transport("n4")
        let stranger = try transport("n9")
        let asked = Mutex<[Raft.NodeID]>([])
        member.setRemovalNotices { id in
            asked.withLock { $0.append(id) }
            return id == "n4" ? Transport.Frame(type: 19, bytes: [1, 2, 3]) : nil
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for transport in [member, removed, stranger] { group.addTask { try await transport.run() } }
            let port = try #require(try await member.listeningAddress().port)
            removed.setPeers(["n1": .init(host: "127.0.0.1", port: port)])
            stranger.setPeers(["n1": .init(host: "127.0.0.1", port: port)])
            // What a removed node's Raft would send; it must never reach n1's inbound.
            removed.send(Transport.Frame(type: 1, bytes: Array("append please".utf8)), to: "n1")
            stranger.send(Transport.Frame(type: 1, bytes: Array("hello".utf8)), to: "n1")

            let notice = try await firstMessage(of: removed)
            #expect(notice.from == "n1")
            #expect(notice.type == 19)
            #expect(Array(notice.payload.readableBytesView) == [1, 2, 3])

            try await eventually("n1 counts the removed peer and refuses the stranger") {
                let rejections = member.statistics().rejections
                return rejections["removed_member", default: 0] >= 1 && rejections["unknown_member", default: 0] >= 1
            }
            #expect(member.statistics().inboundDelivered == 0)
            #expect(asked.withLock { Set($0) }.isSuperset(of: ["n4", "n9"]))
            #expect(logs.records.contains { $0.message.contains("sent it a removal notice") })
            group.cancelAll()
        }
    }

    @Test("a removed id that is a peer again (a lingering farewell target) is authenticated as a member, never told")
    func peerIsNotTold() async throws {
        let member = try transport("n1")
        let lingering = try transport("n4")
        member.setRemovalNotices { _ in Transport.Frame(type: 19, bytes: [9]) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for transport in [member, lingering] { group.addTask { try await transport.run() } }
            let memberPort = try #require(try await member.listeningAddress().port)
            let lingeringPort = try #require(try await lingering.listeningAddress().port)
            member.setPeers(["n4": .init(host: "127.0.0.1", port: lingeringPort)])
            lingering.setPeers(["n1": .init(host: "127.0.0.1", port: memberPort)])
            lingering.send(Transport.Frame(type: 1, bytes: Array("append".utf8)), to: "n1")
            let message = try await firstMessage(of: member)
            #expect(message.from == "n4")
            #expect(message.type == 1)
            #expect(member.statistics().rejections["removed_member"] == nil)
            group.cancelAll()
        }
    }
}
