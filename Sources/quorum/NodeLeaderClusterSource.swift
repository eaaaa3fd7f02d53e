import AsyncHTTPClient
import Foundation
import HTTPAPI
import Logging
import NIOCore
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
/// is refused.
struct NodeLeaderClusterSource: LeaderClusterSource {
    /// `http(s)://host:port` of every other node's API, by node id.
    let peerAPIs: [String: String]
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

    /// The last view fetched (shared by every copy of this source).
    private let cache = CacheBox()

    private final class CacheBox: Sendable {
        let value = Mutex<Cached?>(nil)
    }

    func leaderView(of leader: String, authorization: String?) async -> (view: ClusterResource, ageMs: Int64)? {
        let clock = ContinuousClock()
        let cached = cache.value.withLock { $0 }.flatMap { $0.leader == leader ? $0 : nil }
        if let cached, clock.now - cached.at < freshFor {
            return (cached.view, Self.milliseconds(clock.now - cached.at))
        }
        if let fetched = await fetch(from: leader, authorization: authorization) {
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
        guard let base = peerAPIs[leader] else { return nil }
        var outgoing = HTTPClientRequest(url: base + "/api/cluster")
        outgoing.headers.add(name: AttemptOutputRequest.proxiedHeader, value: "1")
        if let authorization { outgoing.headers.add(name: "Authorization", value: authorization) }
        do {
            let response = try await client.execute(outgoing, timeout: TimeAmount(timeout))
            let body = try await response.body.collect(upTo: 1024 * 1024)
            guard response.status.code == 200 else {
                logger.debug("the leader did not serve its cluster view", metadata: ["leader": "\(leader)", "status": "\(response.status.code)"])
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
