import AsyncHTTPClient
import Executor
import Foundation
import HTTPAPI
import Logging
import NIOCore
import NodeMetrics
import QuorumClient
import SchedulerCore

/// The API's ``AttemptOutputSource`` on a node: attempts this node ran are read from its
/// ``AttemptOutputStore``; others are fetched from the node that ran them, over that node's API
/// address from the cluster config.
///
/// - The proxied request carries the caller's `Authorization` header as it is (every node
///   reads the same tokens, so the caller's `read` role is checked again there; no node-wide
///   token exists to leak) and ``AttemptOutputRequest/proxiedHeader``, so the other node answers
///   from its own store and never proxies again.
/// - With `[api] tls_cert`, the request is `https` and trusts the cluster CA (`[tls] ca`, which
///   `quorum certs api` signs with); with `[api] client_ca`, it presents this node's peer
///   certificate (`[tls] cert`, which has client-auth usage; API certificates have not), read at
///   start: accepted when `client_ca` trusts the cluster CA.
/// - Any failure (unreachable node, timeout, 404, an answer that is not the full tail) is
///   `nil`: the API then answers with the replicated short tail, never an error.
struct NodeOutputSource: AttemptOutputSource {
    /// This node's id.
    let selfID: String
    /// This node's store of full tails.
    let store: AttemptOutputStore
    /// `http://host:port` or `https://host:port` of every other member's API, by node id, as
    /// the latest replicated configuration says (read per request: members come and go).
    let peerAPIs: @Sendable () -> [String: String]
    /// The client for proxied requests; shut down by ``NodeServer/run``.
    let client: HTTPClient
    /// How long a proxied request may take in all.
    let timeout: Duration
    /// Counts proxied requests by outcome (`quorum_output_proxy_requests_total`).
    let metrics: QuorumMetrics
    let logger: Logger

    func fullOutput(_ request: AttemptOutputRequest) async -> FetchedAttemptOutput? {
        if request.executor == selfID {
            let key = AttemptOutputStore.Key(runID: RunID(request.runID), attempt: request.attempt)
            return store.output(of: key).map { FetchedAttemptOutput(text: $0, source: .local) }
        }
        guard request.mayProxy, let base = peerAPIs()[request.executor] else { return nil }
        let fetched = await proxy(request, base: base)
        metrics.outputProxyRequested(succeeded: fetched != nil)
        return fetched
    }

    /// Asks the executor node at `base` for its full tail; `nil` on any failure.
    private func proxy(_ request: AttemptOutputRequest, base: String) async -> FetchedAttemptOutput? {
        let url = base + "/api/jobs/\(Self.pathSegment(request.jobID))/runs/\(Self.pathSegment(request.runID))/output"
            + "?attempt=\(request.attempt)"
        var outgoing = HTTPClientRequest(url: url)
        outgoing.headers.add(name: AttemptOutputRequest.proxiedHeader, value: "1")
        if let authorization = request.authorization { outgoing.headers.add(name: "Authorization", value: authorization) }
        do {
            // One deadline for the head and the body: a node that sends its headers and then
            // nothing must not hold the caller (AsyncHTTPClient's own deadline ends at the head).
            let response = try await BoundedFetch.fetch(outgoing, with: client, timeout: timeout, upTo: 1024 * 1024)
            let body = response.body
            guard response.status == 200 else {
                logger.debug("the executor node did not serve an attempt's output",
                             metadata: ["node": "\(request.executor)", "status": "\(response.status)"])
                return nil
            }
            let output = try JSONDecoder().decode(AttemptOutputResource.self, from: Data(String(buffer: body).utf8))
            guard output.complete, output.source == .local else { return nil }
            return FetchedAttemptOutput(text: output.outputTail, source: .executor)
        } catch {
            logger.debug("could not fetch an attempt's output from its executor node",
                         metadata: ["node": "\(request.executor)", "error": "\(error)"])
            return nil
        }
    }

    /// `text` percent-encoded as one path segment (a DAG task's run id holds `/`).
    static func pathSegment(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}
