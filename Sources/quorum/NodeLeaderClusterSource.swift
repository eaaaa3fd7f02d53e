import AsyncHTTPClient
import Foundation
import HTTPAPI
import Logging
import NIOCore
import QuorumClient
import Synchronization

/// The API's ``LeaderClusterSource`` on a node: a follower asks the leader's API for
/// `GET /api/cluster` (with ``AttemptOutputRequest/proxiedHeader``, so the leader answers with its
/// own view and never asks on; with the caller's `Authorization`, checked again there), over
/// the client and addresses ``NodeOutputSource`` uses for output tails.
///
/// A dashboard polls every node's cluster view every few seconds, and during a failover several
/// tabs may: the leader's answer is kept for ``freshFor`` and served with its age, and kept up to
/// ``servedFor`` while the leader does not answer (an operator watching a failover sees the last
/// known view, with how old it is, rather than nothing). A view from a node that no longer leads
/// is refused. Callers that find no fresh view while a request to the leader is out wait for
/// that one request rather than sending their own: any number of clients costs the leader at
/// most one request per ``freshFor`` from each follower, and a silent leader one timeout at a
/// time, not one per client. (The shared request carries the first caller's `Authorization`;
/// every caller was already authorized by this node, as for the cached view.) ``timeout``
/// bounds the whole answer, body included.
struct NodeLeaderClusterSource: LeaderClusterSource {
    /// `http(s)://host:port` of every other node's API, by node id.
    let peerAPIs: @Sendable () -> [String: String]
    /// The client (``NodeOutputSource``'s; shut down with it).
    let client: HTTPClient
    /// How long one request to the leader may take.
    let timeout: Duration
    let logger: Logger
    /// How long a fetched view is served without asking again.
    var freshFor: Duration = .seconds(1)
    /// How long a fetched view is served at most while the leader does not answer.
    var servedFor: Duration = .seconds(30)

    private struct Cached: Sendable {
        var leader: String
        var view: ClusterResource
        var at: ContinuousClock.Instant
    }

    /// The request to the leader that is out, if any: every caller without a fresh view awaits it.
    private struct InFlight: Sendable {
        var leader: String
        var task: Task<ClusterResource?, Never>
    }

    /// The last view fetched and the request out (shared by every copy of this source).
    private let cache = CacheBox()

    private final class CacheBox: Sendable {
        let value = Mutex<Cached?>(nil)
        let inFlight = Mutex<InFlight?>(nil)
    }

    func leaderView(of leader: String, authorization: String?) async -> (view: ClusterResource, ageMs: Int64)? {
        let clock = ContinuousClock()
        let cached = cache.value.withLock { $0 }.flatMap { $0.leader == leader ? $0 : nil }
        if let cached, clock.now - cached.at < freshFor {
            return (cached.view, Self.milliseconds(clock.now - cached.at))
        }
        let task = cache.inFlight.withLock { inFlight in
            if let inFlight, inFlight.leader == leader { return inFlight.task }
            let task = Task { await fetch(from: leader, authorization: authorization) }
            inFlight = InFlight(leader: leader, task: task)
            return task
        }
        let fetched = await task.value
        cache.inFlight.withLock { inFlight in
            if inFlight?.task == task { inFlight = nil }
        }
        if let fetched {
            let now = clock.now
            cache.value.withLock { $0 = Cached(leader: leader, view: fetched, at: now) }
            return (fetched, 0)
        }
        if let cached, clock.now - cached.at < servedFor {
            return (cached.view, Self.milliseconds(clock.now - cached.at))
        }
        return nil
    }

    private func fetch(from leader: String, authorization: String?) async -> ClusterResource? {
        guard let base = peerAPIs()[leader] else { return nil }
        var outgoing = HTTPClientRequest(url: base + "/api/cluster")
        outgoing.headers.add(name: AttemptOutputRequest.proxiedHeader, value: "1")
        if let authorization { outgoing.headers.add(name: "Authorization", value: authorization) }
        let client = self.client, timeout = self.timeout, request = outgoing
        do {
            // One deadline for the head and the body (AsyncHTTPClient's own ends at the head).
            let answer: (status: Int, body: ByteBuffer)?
            do {
                let fetched = try await BoundedFetch.fetch(request, with: client, timeout: timeout, upTo: 1024 * 1024)
                answer = (fetched.status, fetched.body)
            } catch is BoundedFetch.Timeout {
                answer = nil
            }
            guard let (status, body) = answer else {
                logger.debug("the leader did not answer its cluster view in time", metadata: ["leader": "\(leader)", "timeout": "\(timeout)"])
                return nil
            }
            guard status == 200 else {
                logger.debug("the leader did not serve its cluster view", metadata: ["leader": "\(leader)", "status": "\(status)"])
                return nil
            }
            let view = try JSONDecoder().decode(ClusterResource.self, from: Data(String(buffer: body).utf8))
            // Only the leader's own view: a node that lost leadership since knows no match indexes.
            guard view.node == leader, view.leader == leader, view.source == .local else { return nil }
            return view
        } catch {
            logger.debug("could not fetch the leader's cluster view", metadata: ["leader": "\(leader)", "error": "\(error)"])
            return nil
        }
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
