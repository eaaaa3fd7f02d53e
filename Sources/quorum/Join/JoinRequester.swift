import Foundation
import HTTPAPI
import Logging
import QuorumClient
import ServiceLifecycle

/// Why a joining node stopped: the cluster will never add it as asked.
struct JoinRefusedError: Error, CustomStringConvertible {
    var description: String
}

/// `quorum node --join URL[,URL…]` (docs/node.md, "Adding a node"): asks the cluster to add
/// this node as a learner (`POST /api/cluster/nodes` with its own `[[nodes]]` addresses), and
/// with `--voter` to promote it once it has caught up.
///
/// Asking needs the admin role once the cluster has tokens (`QUORUM_TOKEN`, or
/// `--token-file`): a node certificate from the cluster CA alone never makes a learner, because
/// a learner receives the whole log, secrets included. Without a token the node waits for an
/// operator's `quorum cluster add`. An id the cluster already lists is fine (an operator added
/// it first); an id it removed, or addresses another member uses, stop the node with the
/// cluster's message. A restarted member (its data directory already holds a configuration)
/// asks nothing.
struct JoinRequester: Service {
    /// This node's id and addresses, from its `[[nodes]]` entry.
    var id: String
    var raft: String
    var api: String
    /// The cluster's API URLs (`--join`).
    var servers: ServerList
    /// The admin token sent with the requests, if any.
    var token: String?
    /// How to reach `https://` servers.
    var tls: ClientTLS
    /// `--voter`: promote this node once it has caught up.
    var voter: Bool
    /// Whether this node's replicated configuration lists it (as learner or voter).
    var isMember: @Sendable () -> Bool
    /// Whether this node's replicated configuration lists it as a voter.
    var isVoter: @Sendable () -> Bool
    var logger: Logger

    func run() async throws {
        if !isMember() {
            guard try await ask("add \(id) as a learner", { client in
                _ = try await client.addNode(id: id, raft: raft, api: api)
            }) else { return }
        }
        guard voter else { return }
        try await waitUntilMember()
        if isVoter() { return }
        _ = try await ask("promote \(id) to a voter", { client in
            _ = try await client.promoteNode(id)
        })
    }

    /// Sends `request` until the cluster takes it. Returns false when the node should stop
    /// asking and wait for an operator.
    private func ask(_ what: String, _ request: @escaping @Sendable (QuorumAPIClient) async throws -> Void)
        async throws -> Bool {
        var retries = 0
        while true {
            try Task.checkCancellation()
            switch JoinAnswer.classify(await send(request)) {
            case .accepted:
                logger.notice("joining: the cluster accepted: \(what)", metadata: ["cluster": "\(servers)"])
                return true
            case .needsAdministrator(let message):
                let advice = "waiting for an operator to run `quorum cluster add \(id) --raft \(raft) --api \(api)`, "
                    + "or restart this node with QUORUM_TOKEN set to an admin token"
                logger.notice("joining: the cluster refused to \(what) without an admin token (\(message)); \(advice)")
                return false
            case .conflict(let message):
                if await listsThisNode() {
                    logger.notice("joining: no need to \(what): the cluster already lists \(id) (\(message))")
                    return true
                }
                throw JoinRefusedError(description: "the cluster refused to \(what): \(message)")
            case .refused(let message):
                throw JoinRefusedError(description: "the cluster refused to \(what): \(message)")
            case .retry(let reason):
                retries += 1
                if retries == 1 || retries % 10 == 0 {
                    logger.warning("joining: could not \(what) yet (\(reason)); retrying", metadata: ["attempt": "\(retries)"])
                }
                try await Task.sleep(for: JoinAnswer.pause(beforeRetry: retries))
            }
        }
    }

    private func send(_ request: @Sendable (QuorumAPIClient) async throws -> Void) async -> QuorumClientError? {
        do {
            try await QuorumAPIClient.withClient(servers: servers, connectTimeout: .seconds(2), requestTimeout: .seconds(15),
                                                 token: token, tls: tls) { client in
                try await request(client)
            }
            return nil
        } catch let error as QuorumClientError {
            return error
        } catch {
            return .unexpectedResponse(server: "\(servers)", request: "join", status: 0, reason: "\(error)")
        }
    }

    /// Whether the cluster's `/api/cluster` lists this node (so a 409 meant "already added").
    private func listsThisNode() async -> Bool {
        do {
            return try await QuorumAPIClient.withClient(servers: servers, connectTimeout: .seconds(2), requestTimeout: .seconds(15),
                                                        token: token, tls: tls) { client in
                try await client.cluster().value.nodes.contains { $0.id == id }
            }
        } catch {
            return false
        }
    }

    /// Waits until the leader has replicated a configuration that lists this node.
    private func waitUntilMember() async throws {
        while !isMember() { try await Task.sleep(for: .milliseconds(200)) }
    }
}
