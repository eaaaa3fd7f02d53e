import Foundation
import Logging
import NodeCore
@testable import NodeRuntime
import RaftCore
import RaftStorage
import Synchronization
import Testing
import Transport

/// Peers exchange their cluster id with the hello and refuse a peer of another cluster
/// (docs/security.md, "Cluster identity"), over real loopback TLS with one CA for both clusters.
@Suite("PeerLink: cluster identity")
struct PeerLinkClusterIDTests {
    final class Counter: Sendable {
        private let value = Mutex(0)
        func increment() { value.withLock { $0 += 1 } }
        var count: Int { value.withLock { $0 } }
    }

    let pair: LinkPair

    init() throws { pair = try LinkPair() }

    func link(_ id: Raft.NodeID, cluster: ClusterIdentity, foreign: Counter) throws -> PeerLink {
        let issued = try pair.authority.issueNodeCertificate(id: id, hosts: ["127.0.0.1"], validity: .days(30, from: Date()))
        let configuration = Transport.Configuration(
            credentials: try Transport.TLSCredentials(authority: pair.authority, issued: issued),
            listen: .init(host: "127.0.0.1", port: 0),
            backoff: Transport.Backoff(initial: .milliseconds(20), maximum: .milliseconds(200)))
        return PeerLink(transport: try Transport.PeerTransport(configuration: configuration, logger: pair.logger),
                        settings: NodeCore.Settings(lease: .seconds(5), leaseMargin: .milliseconds(6_850), voters: [], slots: [:]),
                        clock: pair.clock, incarnation: UInt64(id.rawValue.utf8.count) + 10, clusterIdentity: cluster,
                        onForeignFrame: { foreign.increment() }, logger: pair.logger)
    }

    static func message(from: Raft.NodeID, to: Raft.NodeID) -> Raft.Message {
        Raft.Message(from: from, to: to, term: Raft.Term(1), body: .voteResponse(Raft.VoteResponse(granted: false, isPreVote: true)))
    }

    func connect(_ a: PeerLink, _ aID: Raft.NodeID, _ b: PeerLink, _ bID: Raft.NodeID) async throws {
        let portA = try #require(try await a.transport.listeningAddress().port)
        let portB = try #require(try await b.transport.listeningAddress().port)
        a.transport.setPeers([bID: .init(host: "127.0.0.1", port: portB)])
        b.transport.setPeers([aID: .init(host: "127.0.0.1", port: portA)])
    }

    @Test("a peer of another cluster is refused both ways: its frames are dropped and counted, it is never heard")
    func foreignRefused() async throws {
        let (foreign1, foreign2) = (Counter(), Counter())
        let n1 = try link("n1", cluster: ClusterIdentity(.random(), directory: nil, logger: pair.logger), foreign: foreign1)
        let n2 = try link("n2", cluster: ClusterIdentity(.random(), directory: nil, logger: pair.logger), foreign: foreign2)
        try await withRunning([n1, n2]) {
            try await connect(n1, "n1", n2, "n2")
            try await waitUntil("both sides refuse the other") {
                n1.send(Self.message(from: "n1", to: "n2"))
                n2.send(Self.message(from: "n2", to: "n1"))
                return foreign1.count > 0 && foreign2.count > 0
            }
            #expect(n1.lastHeard(from: "n2") == nil)
            #expect(n2.lastHeard(from: "n1") == nil)
        }
    }

    @Test("peers of one cluster hear each other and count nothing; a node without a file adopts a confirmed peer's id and writes it")
    func sameClusterAndAdoption() async throws {
        let directory = NSTemporaryDirectory() + "adopt-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let id = ClusterID.random()
        let (foreign1, foreign2) = (Counter(), Counter())
        // A wiped node whose config derives another id than the cluster's.
        let joining = ClusterIdentity(.random(), provisional: true, directory: directory, logger: pair.logger)
        let n1 = try link("n1", cluster: ClusterIdentity(id, directory: nil, logger: pair.logger), foreign: foreign1)
        let n2 = try link("n2", cluster: joining, foreign: foreign2)
        try await withRunning([n1, n2]) {
            try await connect(n1, "n1", n2, "n2")
            try await waitUntil("each hears the other") {
                n1.send(Self.message(from: "n1", to: "n2"))
                n2.send(Self.message(from: "n2", to: "n1"))
                return n1.lastHeard(from: "n2") != nil && n2.lastHeard(from: "n1") != nil
            }
        }
        #expect(foreign1.count == 0 && foreign2.count == 0)
        #expect(joining.current == id)
        #expect(try ClusterIdentityFile.read(directory: directory) == id)
    }
}
