import Foundation
import HTTPAPI
import Hummingbird
import HummingbirdTesting
import SchedulerCore
import SchedulerPlanning
import Synchronization
import Testing

/// `GET /api/cluster` on a follower answers with the leader's per-node view and its age
/// (docs/api.md, "Cluster and health"); the leader, a proxied request and a follower whose
/// leader does not answer answer with their own.
@Suite("Cluster view route")
struct ClusterViewRouteTests {
    /// A replica that sees `leader` lead while it is `node`.
    struct FollowerReplica: SchedulerReplica {
        let inner: LocalReplica
        let node: String
        let leader: String?

        func now() -> Timestamp { inner.now() }
        func propose(_ command: Command) async throws(APIError) -> [SchedulerEvent] { await inner.propose(command) }
        func read<T: Sendable>(_ consistency: ReadConsistency,
                               _ body: @Sendable (SchedulerState) throws(APIError) -> T) async throws(APIError) -> T {
            try await inner.read(consistency, body)
        }
        func cluster() async throws(APIError) -> ClusterResource {
            ClusterResource(leader: leader, term: 3, commitIndex: 40, nodes: [
                ClusterNodeResource(id: "n1", role: "leader", api: "a1", raft: "r1", reachable: true, matchIndex: 0, slots: 4, busy: 0),
                ClusterNodeResource(id: "n2", role: "follower", api: "a2", raft: "r2", reachable: true, matchIndex: 0, slots: 4, busy: 0,
                                    appliedIndex: 39),
            ], node: node, appliedIndex: 39)
        }
        func checkReady() async throws(APIError) {}
    }

    /// Answers a fixed leader view with a fixed age, and records who asked.
    final class FixedSource: LeaderClusterSource {
        let answer: (view: ClusterResource, ageMs: Int64)?
        let asked = Mutex<[String?]>([])
        init(_ answer: (view: ClusterResource, ageMs: Int64)?) { self.answer = answer }
        func leaderView(of leader: String, authorization: String?) async -> (view: ClusterResource, ageMs: Int64)? {
            asked.withLock { $0.append(authorization) }
            return answer
        }
    }

    static let leaderView = ClusterResource(leader: "n1", term: 3, commitIndex: 42, nodes: [
        ClusterNodeResource(id: "n1", role: "leader", api: "a1", raft: "r1", reachable: true, matchIndex: 42, slots: 4, busy: 1,
                            appliedIndex: 42, lag: 0),
        ClusterNodeResource(id: "n2", role: "follower", api: "a2", raft: "r2", reachable: true, matchIndex: 41, slots: 4, busy: 2,
                            appliedIndex: 38, lag: 4),
    ], node: "n1", appliedIndex: 42, source: .local, viewAgeMs: 0)

    func withFollower(leader: String?, source: FixedSource, _ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let replica = FollowerReplica(inner: LocalReplica(clock: { startOfTest }), node: "n2", leader: leader)
        let service = ReplicatedSchedulerService(replica: replica, ids: SequentialIDGenerator())
        let app = Application(router: makeQuorumRouter(service: service, clusterSource: source))
        try await app.test(.router, body)
    }

    @Test("a follower answers its own leader, term and indexes with the leader's members, source leader, and the view's age")
    func followerShowsLeaderView() async throws {
        let source = FixedSource((Self.leaderView, 250))
        try await withFollower(leader: "n1", source: source) { client in
            let response = try await client.send(.get, "/api/cluster", headers: [.authorization: "Bearer t"])
            let view = try response.decoded(ClusterResource.self)
            #expect(view.node == "n2")
            #expect(view.leader == "n1")
            #expect(view.commitIndex == 40)
            #expect(view.appliedIndex == 39)
            #expect(view.source == .leader)
            #expect(view.viewAgeMs == 250)
            #expect(view.nodes == Self.leaderView.nodes)
            #expect(response.text.contains("\"view_age_ms\":250"))
            #expect(response.text.contains("\"lag\":4"))
        }
        #expect(source.asked.withLock { $0 } == ["Bearer t"], "the caller's Authorization goes to the leader as it is")
    }

    @Test("a request another node proxied, a follower without a leader, or one whose leader gives no view: its own view, source local")
    func ownView() async throws {
        let proxied = FixedSource((Self.leaderView, 0))
        try await withFollower(leader: "n1", source: proxied) { client in
            let response = try await client.send(.get, "/api/cluster", headers: [HTTPFields.Element.Name(AttemptOutputRequest.proxiedHeader)!: "1"])
            let view = try response.decoded(ClusterResource.self)
            #expect(view.source == .local)
            #expect(view.viewAgeMs == 0)
            #expect(view.nodes.map(\.matchIndex) == [0, 0])
        }
        #expect(proxied.asked.withLock { $0 }.isEmpty, "never asked on")
        let noLeader = FixedSource((Self.leaderView, 0))
        try await withFollower(leader: nil, source: noLeader) { client in
            let view = try await client.send(.get, "/api/cluster").decoded(ClusterResource.self)
            #expect(view.source == .local)
        }
        #expect(noLeader.asked.withLock { $0 }.isEmpty)
        try await withFollower(leader: "n1", source: FixedSource(nil)) { client in
            let view = try await client.send(.get, "/api/cluster").decoded(ClusterResource.self)
            #expect(view.source == .local)
        }
    }

    @Test("the leader answers its own view without asking anyone")
    func leaderOwnView() async throws {
        let source = FixedSource((Self.leaderView, 0))
        let app = Application(router: makeQuorumRouter(service: makeLocalService(), clusterSource: source))
        try await app.test(.router) { client in
            let view = try await client.send(.get, "/api/cluster").decoded(ClusterResource.self)
            #expect(view.source == .local)
            #expect(view.node == view.leader)
            #expect(view.nodes.first?.lag == 0)
        }
        #expect(source.asked.withLock { $0 }.isEmpty)
    }
}
