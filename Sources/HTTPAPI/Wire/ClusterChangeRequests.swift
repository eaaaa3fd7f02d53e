/// `POST /api/cluster/nodes`: add a learner (docs/api.md, "Membership changes").
public struct AddNodeRequest: Decodable, Hashable, Sendable {
    /// The new member's id; never one in use or removed before.
    public var id: String
    /// Its peer transport address, `host:port`.
    public var raft: String
    /// Its HTTP API address, `host:port`.
    public var api: String
    /// Must be `false` (or absent): a node joins as a learner and is promoted once caught up.
    public var voter: Bool
    /// Labels kept in the member directory.
    public var labels: [String: String]

    /// The JSON keys.
    public enum CodingKeys: String, CodingKey, CaseIterable { case id, raft, api, voter, labels }

    /// A request.
    public init(id: String, raft: String, api: String, voter: Bool = false, labels: [String: String] = [:]) {
        self.id = id
        self.raft = raft
        self.api = api
        self.voter = voter
        self.labels = labels
    }

    /// Strict: unknown keys are a 400; `voter: true` is a 422 (add, then promote).
    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        raft = try container.decode(String.self, forKey: .raft)
        api = try container.decode(String.self, forKey: .api)
        voter = try container.decodeIfPresent(Bool.self, forKey: .voter) ?? false
        labels = try container.decodeIfPresent([String: String].self, forKey: .labels) ?? [:]
        if voter {
            throw FieldProblem(.invalid, path: decoder.codingPath + [CodingKeys.voter],
                               message: "a node is added as a learner (voter false) and promoted once caught up: "
                                   + "POST /api/cluster/nodes/{id}/promote")
        }
    }
}

/// `POST /api/cluster/leader`: hand leadership to a named voter.
public struct TransferLeaderRequest: Decodable, Hashable, Sendable {
    /// The voter to lead next.
    public var to: String

    /// The JSON keys.
    public enum CodingKeys: String, CodingKey, CaseIterable { case to }

    /// A request.
    public init(to: String) { self.to = to }

    /// Strict: unknown keys are a 400.
    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        to = try container.decode(String.self, forKey: .to)
    }
}

/// The cluster's membership writes, served by the node (they need Raft, not the scheduler).
/// Each returns the cluster as the node sees it once the change is done.
public protocol ClusterAdministration: Sendable {
    /// Adds `request.id` as a learner. 409 if the id is a member or was removed; 422 naming a field.
    func addNode(_ request: AddNodeRequest) async throws(APIError) -> ClusterResource
    /// Makes a caught-up learner a voter. 409 until it is caught up, or for a non-learner.
    func promoteNode(_ id: String) async throws(APIError) -> ClusterResource
    /// Removes a member; the leader removing itself hands leadership over first.
    func removeNode(_ id: String) async throws(APIError) -> ClusterResource
    /// Hands leadership to voter `to`; returns once it leads (or fails).
    func transferLeadership(to: String) async throws(APIError) -> ClusterResource
    /// The leader's API base URL (`http(s)://host:port`) while another node leads; `nil` on the
    /// leader or without a known leader. Writes that reach a follower go there.
    func leaderAPIBase() async -> String?
    /// Lets the leader dispatch to member `id` again after its replica check found its state
    /// diverged and an operator repaired it (docs/guarantees.md, "Replica checks"). 404 when the
    /// leader holds no divergence of `id`; 503 off the leader.
    func clearDivergence(_ id: String) async throws(APIError) -> ClusterResource
}

extension ClusterAdministration {
    /// No forwarding: writes are carried out (or refused) here.
    public func leaderAPIBase() async -> String? { nil }

    /// No replica check here: nothing to clear (404).
    public func clearDivergence(_ id: String) async throws(APIError) -> ClusterResource {
        throw .notFound("no replica check holds \(id) back from dispatch")
    }
}
