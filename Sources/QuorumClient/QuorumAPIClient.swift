import AsyncHTTPClient
import Foundation
import HTTPAPI

/// A typed client of Quorum's HTTP API (`docs/api.md`) that fails over across nodes.
///
/// Every call returns an ``APIReply`` with the decoded value and the server's own JSON. An
/// error answer (other than 503, which moves on to the next node) throws
/// ``QuorumClientError/api(server:status:detail:)`` with the server's field and message.
public struct QuorumAPIClient: Sendable {
    /// Sends the requests.
    public let transport: FailoverTransport

    /// A client over `transport`.
    public init(transport: FailoverTransport) { self.transport = transport }

    /// Runs `body` with a client over `servers` on its own HTTP client, shut down afterwards.
    public static func withClient<Result: Sendable>(
        servers: ServerList, connectTimeout: Duration = .seconds(1), requestTimeout: Duration = .seconds(30),
        unavailableWait: Duration = .zero, token: String? = nil, tls: ClientTLS = ClientTLS(),
        _ body: (QuorumAPIClient) async throws -> Result
    ) async throws -> Result {
        let httpClient = FailoverTransport.makeHTTPClient(connectTimeout: connectTimeout, tls: try tls.configuration())
        let client = QuorumAPIClient(
            transport: FailoverTransport(servers: servers, httpClient: httpClient, requestTimeout: requestTimeout,
                                         unavailableWait: unavailableWait, token: token))
        let result: Swift.Result<Result, any Error>
        do {
            result = .success(try await body(client))
        } catch {
            result = .failure(error)
        }
        try await httpClient.shutdown()
        return try result.get()
    }

    // MARK: Jobs

    /// `POST /api/jobs` with `json` sent verbatim (a file the user wrote).
    public func submitJob(json: [UInt8], idempotencyKey: String? = nil) async throws(QuorumClientError) -> APIReply<JobResource> {
        try await call(APIRequest(.post, ["api", "jobs"], body: json, idempotencyKey: idempotencyKey))
    }

    /// `POST /api/jobs`.
    public func submitJob(_ submission: JobSubmission, idempotencyKey: String? = nil) async throws(QuorumClientError) -> APIReply<JobResource> {
        try await submitJob(json: Self.encode(submission), idempotencyKey: idempotencyKey)
    }

    /// `POST /api/jobs/batch` with `json` (`{"jobs": […]}`) sent verbatim.
    public func submitBatch(json: [UInt8], idempotencyKey: String? = nil) async throws(QuorumClientError) -> APIReply<BatchResult> {
        try await call(APIRequest(.post, ["api", "jobs", "batch"], body: json, idempotencyKey: idempotencyKey))
    }

    /// `GET /api/jobs/{id}`: the job with its recent runs.
    public func job(_ id: String, stale: Bool = false) async throws(QuorumClientError) -> APIReply<JobResource> {
        try await call(APIRequest(.get, ["api", "jobs", id], query: Self.staleQuery(stale)))
    }

    /// `GET /api/job-status/{id}`.
    public func jobStatus(_ id: String, stale: Bool = false) async throws(QuorumClientError) -> APIReply<JobStatusResource> {
        try await call(APIRequest(.get, ["api", "job-status", id], query: Self.staleQuery(stale)))
    }

    /// `GET /api/jobs?state=&label=k:v&limit=&cursor=`, newest first.
    public func jobs(state: String? = nil, labels: [String] = [], limit: Int? = nil, cursor: String? = nil,
                     stale: Bool = false) async throws(QuorumClientError) -> APIReply<ListPage<JobResource>> {
        var query: [APIRequest.QueryItem] = []
        if let state { query.append(.init("state", state)) }
        query += labels.map { .init("label", $0) }
        query += Self.pageQuery(limit: limit, cursor: cursor, stale: stale)
        return try await call(APIRequest(.get, ["api", "jobs"], query: query))
    }

    /// `GET /api/jobs/{id}/runs`, newest first.
    public func runs(ofJob id: String, stale: Bool = false) async throws(QuorumClientError) -> APIReply<AttemptList> {
        try await call(APIRequest(.get, ["api", "jobs", id, "runs"], query: Self.staleQuery(stale)))
    }

    /// `DELETE /api/jobs/{id}`: cancels the job.
    public func cancelJob(_ id: String) async throws(QuorumClientError) -> APIReply<JobResource> {
        try await call(APIRequest(.delete, ["api", "jobs", id]))
    }

    /// A job action: `POST /api/jobs/{id}/pause`, `/resume` or `/trigger`. A trigger with a key
    /// is answered from the first one when repeated (no second run).
    public func jobAction(_ action: JobAction, _ id: String,
                          idempotencyKey: String? = nil) async throws(QuorumClientError) -> APIReply<JobResource> {
        try await call(APIRequest(.post, ["api", "jobs", id, action.rawValue], idempotencyKey: idempotencyKey))
    }

    /// `PATCH /api/jobs/{id}` with `json` (a ``JobPatch``) sent verbatim; with `ifMatch`, 412
    /// unless the job is still at that version.
    public func editJob(_ id: String, json: [UInt8], ifMatch: Int? = nil) async throws(QuorumClientError) -> APIReply<JobResource> {
        try await call(APIRequest(.patch, ["api", "jobs", id], body: json, ifMatch: ifMatch))
    }

    /// `PATCH /api/jobs/{id}`.
    public func editJob(_ id: String, _ patch: JobPatch, ifMatch: Int? = nil) async throws(QuorumClientError) -> APIReply<JobResource> {
        try await editJob(id, json: Self.encode(patch), ifMatch: ifMatch)
    }

    /// The actions of ``jobAction(_:_:)``.
    public enum JobAction: String, Sendable, CaseIterable {
        /// Stop firing a cron job.
        case pause
        /// Fire a paused cron job again.
        case resume
        /// Run a job once now.
        case trigger
    }

    // MARK: DAGs

    /// `POST /api/dags` with `json` sent verbatim: a DAG run, or with `schedule` a cron job.
    public func submitDAG(json: [UInt8], idempotencyKey: String? = nil) async throws(QuorumClientError) -> APIReply<SubmittedDAG> {
        try await call(APIRequest(.post, ["api", "dags"], body: json, idempotencyKey: idempotencyKey))
    }

    /// `GET /api/dags?state=&limit=&cursor=`.
    public func dagRuns(state: String? = nil, limit: Int? = nil, cursor: String? = nil,
                        stale: Bool = false) async throws(QuorumClientError) -> APIReply<ListPage<DAGRunResource>> {
        var query: [APIRequest.QueryItem] = []
        if let state { query.append(.init("state", state)) }
        query += Self.pageQuery(limit: limit, cursor: cursor, stale: stale)
        return try await call(APIRequest(.get, ["api", "dags"], query: query))
    }

    /// `GET /api/dags/{id}`: one DAG run with its tasks.
    public func dagRun(_ id: String, stale: Bool = false) async throws(QuorumClientError) -> APIReply<DAGRunResource> {
        try await call(APIRequest(.get, ["api", "dags", id], query: Self.staleQuery(stale)))
    }

    /// `DELETE /api/dags/{id}`: cancels the DAG run.
    public func cancelDAGRun(_ id: String) async throws(QuorumClientError) -> APIReply<DAGRunResource> {
        try await call(APIRequest(.delete, ["api", "dags", id]))
    }

    // MARK: Dead-letter queue

    /// `GET /api/dlq`.
    public func deadLetters(limit: Int? = nil, cursor: String? = nil,
                            stale: Bool = false) async throws(QuorumClientError) -> APIReply<ListPage<DeadLetterResource>> {
        try await call(APIRequest(.get, ["api", "dlq"], query: Self.pageQuery(limit: limit, cursor: cursor, stale: stale)))
    }

    /// `GET /api/notifications?state=&job=&limit=`: the replicated notifications and their delivery.
    public func notifications(state: String? = nil, job: String? = nil, limit: Int? = nil,
                              stale: Bool = false) async throws(QuorumClientError) -> APIReply<ListPage<NotificationResource>> {
        var query = Self.pageQuery(limit: limit, cursor: nil, stale: stale)
        if let state { query.append(.init("state", state)) }
        if let job { query.append(.init("job", job)) }
        return try await call(APIRequest(.get, ["api", "notifications"], query: query))
    }

    /// `POST /api/dlq/{run_id}/requeue`: a fresh attempt budget; returns the item as it was.
    public func requeueDeadLetter(_ runID: String, idempotencyKey: String? = nil) async throws(QuorumClientError) -> APIReply<DeadLetterResource> {
        try await call(APIRequest(.post, ["api", "dlq", runID, "requeue"], idempotencyKey: idempotencyKey))
    }

    /// `DELETE /api/dlq/{run_id}` (204, no body).
    public func purgeDeadLetter(_ runID: String) async throws(QuorumClientError) -> APIResponse {
        let request = APIRequest(.delete, ["api", "dlq", runID])
        return try Self.checked(try await transport.send(request), request: request)
    }

    // MARK: Cluster

    /// `GET /api/cluster`: the cluster as the answering node sees it (works without a leader).
    public func cluster() async throws(QuorumClientError) -> APIReply<ClusterResource> {
        try await call(APIRequest(.get, ["api", "cluster"]))
    }

    /// `POST /api/cluster/nodes`: adds `id` as a learner listening at `raft` and `api` (admin).
    public func addNode(id: String, raft: String, api: String, labels: [String: String] = [:])
        async throws(QuorumClientError) -> APIReply<ClusterResource> {
        var body: [String: AnyEncodableValue] = ["id": .string(id), "raft": .string(raft), "api": .string(api), "voter": .bool(false)]
        if !labels.isEmpty { body["labels"] = .labels(labels) }
        let json = (try? JSONEncoder().encode(body)).map { [UInt8]($0) } ?? []
        return try await call(APIRequest(.post, ["api", "cluster", "nodes"], body: json))
    }

    /// `POST /api/cluster/nodes/{id}/promote`: a caught-up learner becomes a voter (admin).
    public func promoteNode(_ id: String) async throws(QuorumClientError) -> APIReply<ClusterResource> {
        try await call(APIRequest(.post, ["api", "cluster", "nodes", id, "promote"]))
    }

    /// `POST /api/cluster/nodes/{id}/clear-divergence`: the leader dispatches to a member its
    /// replica check held back again, once an operator repaired it (admin).
    public func clearDivergence(_ id: String) async throws(QuorumClientError) -> APIReply<ClusterResource> {
        try await call(APIRequest(.post, ["api", "cluster", "nodes", id, "clear-divergence"]))
    }

    /// `DELETE /api/cluster/nodes/{id}`: removes a member for good (admin).
    public func removeNode(_ id: String) async throws(QuorumClientError) -> APIReply<ClusterResource> {
        try await call(APIRequest(.delete, ["api", "cluster", "nodes", id]))
    }

    /// `POST /api/cluster/nodes/{id}/drain` (`draining`) or `DELETE …/drain`: marks a member
    /// draining — no new attempts there, its running ones finish — or takes the mark off (admin).
    public func setDraining(_ id: String, _ draining: Bool) async throws(QuorumClientError) -> APIReply<ClusterResource> {
        try await call(APIRequest(draining ? .post : .delete, ["api", "cluster", "nodes", id, "drain"]))
    }

    /// `PUT /api/cluster/nodes/{id}/labels`: replaces a member's labels (admin).
    public func setLabels(_ id: String, _ labels: [String: String]) async throws(QuorumClientError) -> APIReply<ClusterResource> {
        let json = (try? JSONEncoder().encode(["labels": labels])).map { [UInt8]($0) } ?? []
        return try await call(APIRequest(.put, ["api", "cluster", "nodes", id, "labels"], body: json))
    }

    /// `POST /api/cluster/leader`: hands leadership to voter `to` (admin).
    public func transferLeadership(to: String) async throws(QuorumClientError) -> APIReply<ClusterResource> {
        let json = (try? JSONEncoder().encode(["to": to])).map { [UInt8]($0) } ?? []
        return try await call(APIRequest(.post, ["api", "cluster", "leader"], body: json))
    }

    /// A JSON value of the add-node body.
    enum AnyEncodableValue: Encodable {
        case string(String)
        case bool(Bool)
        case labels([String: String])

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .string(let value): try container.encode(value)
            case .bool(let value): try container.encode(value)
            case .labels(let value): try container.encode(value)
            }
        }
    }

    /// What `POST /api/dags` created.
    public enum SubmittedDAG: Decodable, Sendable {
        /// A DAG run (no schedule).
        case run(DAGRunResource)
        /// A cron job that starts a DAG run at every fire.
        case cronJob(JobResource)

        /// A body with `tasks` is a DAG run; anything else must be a job.
        public init(from decoder: any Decoder) throws {
            enum Keys: String, CodingKey { case tasks }
            if try decoder.container(keyedBy: Keys.self).contains(.tasks) {
                self = .run(try DAGRunResource(from: decoder))
            } else {
                self = .cronJob(try JobResource(from: decoder))
            }
        }
    }

    // MARK: Plumbing

    /// Sends `request` and decodes a 2xx answer as `Value`.
    public func call<Value: Decodable & Sendable>(_ request: APIRequest) async throws(QuorumClientError) -> APIReply<Value> {
        let response = try Self.checked(try await transport.send(request), request: request)
        do {
            let value = try JSONDecoder().decode(Value.self, from: Data(response.body))
            return APIReply(value: value, json: response.body, server: response.server, status: response.status)
        } catch {
            throw .unexpectedResponse(server: response.server, request: request.description, status: response.status,
                                      reason: "could not decode \(Value.self): \(error)")
        }
    }

    /// `response` if 2xx, else its error object as ``QuorumClientError/api(server:status:detail:)``.
    static func checked(_ response: APIResponse, request: APIRequest) throws(QuorumClientError) -> APIResponse {
        guard !(200..<300).contains(response.status) else { return response }
        guard let envelope = try? JSONDecoder().decode(ErrorEnvelope.self, from: Data(response.body)) else {
            let text = String(decoding: response.body.prefix(200), as: UTF8.self)
            throw .unexpectedResponse(server: response.server, request: request.description, status: response.status,
                                      reason: text.isEmpty ? "empty body" : "'\(text)'")
        }
        throw .api(server: response.server, status: response.status, detail: envelope.error)
    }

    static func encode(_ value: some Encodable) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        do {
            return Array(try encoder.encode(value))
        } catch {
            preconditionFailure("encoding a request body cannot fail for the API's wire types: \(error)")
        }
    }

    static func staleQuery(_ stale: Bool) -> [APIRequest.QueryItem] {
        stale ? [.init("stale", "true")] : []
    }

    static func pageQuery(limit: Int?, cursor: String?, stale: Bool) -> [APIRequest.QueryItem] {
        var query: [APIRequest.QueryItem] = []
        if let limit { query.append(.init("limit", String(limit))) }
        if let cursor { query.append(.init("cursor", cursor)) }
        return query + staleQuery(stale)
    }
}
