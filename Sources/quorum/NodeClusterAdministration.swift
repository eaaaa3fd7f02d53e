import ClusterConfig
import HTTPAPI
import NodeCore
import NodeRuntime

/// The API's membership writes over the running node (docs/api.md, "Membership changes"):
/// validates the request's fields, asks the node's leader-side administration, maps its
/// refusals to HTTP and answers with the cluster as it stands afterwards.
struct NodeClusterAdministration: ClusterAdministration {
    let node: QuorumNode
    /// `http://` or `https://` (the API's TLS), for the leader's base URL.
    let apiScheme: String

    func leaderAPIBase() async -> String? {
        let status = await node.replica.cluster()
        guard let leader = status.leader, leader != node.config.node.id,
              let api = node.membership.apiAddress(of: leader) else { return nil }
        return apiScheme + api.description
    }

    func addNode(_ request: AddNodeRequest) async throws(APIError) -> ClusterResource {
        guard NodeIDRules.isValid(request.id) else {
            throw .invalid(field: "id", "\"\(request.id)\" is not a valid node id: \(NodeIDRules.description)")
        }
        let raft = try Self.endpoint(request.raft, field: "raft")
        let api = try Self.endpoint(request.api, field: "api")
        for key in request.labels.keys where key.isEmpty {
            throw .invalid(field: "labels", "label names must not be empty")
        }
        try await perform { () async throws(MembershipRefusal) in
            try await node.addLearner(request.id, raft: raft, api: api, labels: request.labels)
        }
        return try await cluster()
    }

    func promoteNode(_ id: String) async throws(APIError) -> ClusterResource {
        try await perform { () async throws(MembershipRefusal) in try await node.promote(id) }
        return try await cluster()
    }

    func removeNode(_ id: String) async throws(APIError) -> ClusterResource {
        try await perform { () async throws(MembershipRefusal) in try await node.remove(id) }
        return try await cluster()
    }

    func transferLeadership(to: String) async throws(APIError) -> ClusterResource {
        try await perform { () async throws(MembershipRefusal) in try await node.transferLeadership(to: to) }
        return try await cluster()
    }

    func clearDivergence(_ id: String) async throws(APIError) -> ClusterResource {
        guard await node.replica.cluster().leader == node.config.node.id else {
            throw .unavailable(retryAfter: 1, "this node does not lead: the replica check is held by the leader; ask it "
                + "(the CLI moves on to it)")
        }
        guard node.clearDivergence(of: id) else {
            throw .notFound("the replica check does not hold \(id) back: nothing to clear (GET /api/cluster shows each "
                + "member's replica_check)")
        }
        return try await cluster()
    }

    private func cluster() async throws(APIError) -> ClusterResource {
        try await RaftAPIReplica(node.replica).cluster()
    }

    private func perform(_ body: () async throws(MembershipRefusal) -> Void) async throws(APIError) {
        do {
            try await body()
        } catch {
            throw Self.apiError(error)
        }
    }

    /// A follower's or a deposed leader's refusal is a 503 `unavailable` (nothing was changed):
    /// the CLI and other failover clients move on to the next server, the leader among them.
    static func apiError(_ refusal: MembershipRefusal) -> APIError {
        switch refusal {
        case .notLeader(let message): .unavailable(retryAfter: 1, message)
        case .conflict(let message): .conflict(message)
        case .changeInProgress(let message): APIError(.changeInProgress, message)
        case .invalid(let field, let message): .invalid(field: field, message)
        case .notFound(let message): .notFound(message)
        case .outcomeUnknown(let message): .outcomeUnknown(retryAfter: 1, message)
        }
    }

    static func endpoint(_ text: String, field: String) throws(APIError) -> MemberDirectory.Endpoint {
        switch NodeAddress.parse(text) {
        case .success(let address): return MemberDirectory.Endpoint(host: address.host, port: address.port)
        case .failure(let problem): throw .invalid(field: field, "\"\(text)\" is not HOST:PORT: \(problem.reason)")
        }
    }
}
