import Foundation
import HTTPAPI
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing

/// A fake membership backend recording what the routes asked for.
private final class RecordingAdmin: ClusterAdministration {
    let calls = Mutex<[String]>([])
    let refusal: APIError?

    init(refusal: APIError? = nil) { self.refusal = refusal }

    private func record(_ call: String) throws(APIError) -> ClusterResource {
        calls.withLock { $0.append(call) }
        if let refusal { throw refusal }
        return ClusterResource(leader: "n1", term: 2, commitIndex: 9, nodes: [])
    }

    func addNode(_ request: AddNodeRequest) async throws(APIError) -> ClusterResource {
        try record("add \(request.id) \(request.raft) \(request.api) \(request.labels)")
    }
    func promoteNode(_ id: String) async throws(APIError) -> ClusterResource { try record("promote \(id)") }
    func removeNode(_ id: String) async throws(APIError) -> ClusterResource { try record("remove \(id)") }
    func transferLeadership(to: String) async throws(APIError) -> ClusterResource { try record("transfer \(to)") }
}

@Suite("Membership routes (/api/cluster/* writes)")
struct ClusterAdministrationRouteTests {
    private func withRoutes(_ admin: RecordingAdmin, authorizer: TokenAuthorizer? = nil,
                            _ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: APIErrorMiddleware(routes: QuorumRoutes<LocalSchedulerService>.contract))
        ClusterAdministrationRoutes(admin: admin).register(on: router, authorizer: authorizer)
        try await Application(router: router).test(.router, body)
    }

    @Test("add (201), promote, remove, transfer reach the backend with the request's values")
    func happyPaths() async throws {
        let admin = RecordingAdmin()
        try await withRoutes(admin) { client in
            let added = try await client.send(.post, "/api/cluster/nodes",
                                              json: #"{"id":"n4","raft":"10.0.0.14:7001","api":"10.0.0.14:8080","voter":false,"labels":{"zone":"b"}}"#)
            #expect(added.status == .created)
            #expect(try await client.send(.post, "/api/cluster/nodes/n4/promote").status == .ok)
            #expect(try await client.send(.delete, "/api/cluster/nodes/n3").status == .ok)
            #expect(try await client.send(.post, "/api/cluster/leader", json: #"{"to":"n2"}"#).status == .ok)
        }
        #expect(admin.calls.withLock { $0 } == ["add n4 10.0.0.14:7001 10.0.0.14:8080 [\"zone\": \"b\"]", "promote n4", "remove n3", "transfer n2"])
    }

    @Test("bad bodies name the field: voter true and a missing id are 422, an unknown field 400; nothing reaches the backend")
    func badBodies() async throws {
        let admin = RecordingAdmin()
        try await withRoutes(admin) { client in
            let voter = try await client.send(.post, "/api/cluster/nodes", json: #"{"id":"n4","raft":"h:1","api":"h:2","voter":true}"#)
            #expect(voter.status == .unprocessableContent)
            #expect(try voter.decoded(ErrorEnvelope.self).error.field == "voter")
            let missing = try await client.send(.post, "/api/cluster/nodes", json: #"{"raft":"h:1","api":"h:2"}"#)
            #expect(missing.status == .unprocessableContent)
            #expect(try missing.decoded(ErrorEnvelope.self).error.field == "id")
            let unknown = try await client.send(.post, "/api/cluster/leader", json: #"{"to":"n2","now":true}"#)
            #expect(unknown.status == .badRequest)
        }
        #expect(admin.calls.withLock { $0 }.isEmpty)
    }

    @Test("409 change_in_progress from the backend is rendered with its code")
    func changeInProgress() async throws {
        try await withRoutes(RecordingAdmin(refusal: APIError(.changeInProgress, "n4 has not caught up yet"))) { client in
            let refused = try await client.send(.post, "/api/cluster/nodes/n4/promote")
            #expect(refused.status == .conflict)
            #expect(try refused.decoded(ErrorEnvelope.self).error.code == "change_in_progress")
        }
    }

    @Test("with tokens, every membership write needs admin: submit is 403, admin passes")
    func adminOnly() async throws {
        let authorizer = TokenAuthorizer(TokenAuthTests.file())
        let admin = RecordingAdmin()
        try await withRoutes(admin, authorizer: authorizer) { client in
            let anonymous = try await client.send(.post, "/api/cluster/nodes/n4/promote")
            #expect(anonymous.status == .unauthorized)
            let submitter = try await client.send(.post, "/api/cluster/nodes/n4/promote", headers: TokenAuthTests.bearer("qt_submit"))
            #expect(submitter.status == .forbidden)
            let reader = try await client.send(.delete, "/api/cluster/nodes/n4", headers: TokenAuthTests.bearer("qt_read"))
            #expect(reader.status == .forbidden)
            let administrator = try await client.send(.post, "/api/cluster/nodes/n4/promote", headers: TokenAuthTests.bearer("qt_admin"))
            #expect(administrator.status == .ok)
        }
        #expect(admin.calls.withLock { $0 } == ["promote n4"])
    }
}
