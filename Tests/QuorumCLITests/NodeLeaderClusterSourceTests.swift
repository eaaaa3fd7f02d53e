import AsyncHTTPClient
import HTTPAPI
import Logging
@testable import quorum
import QuorumTestServer
import Testing

/// A follower's `/api/cluster` asks the leader for its view (``NodeLeaderClusterSource``): many
/// clients must not become many requests to the leader, and a leader that stops halfway must
/// not hold them.
@Suite("the leader's cluster view as a follower fetches it")
struct NodeLeaderClusterSourceTests {
    func source(leaderURL: String, client: HTTPClient, timeout: Duration = .seconds(2)) -> NodeLeaderClusterSource {
        NodeLeaderClusterSource(peerAPIs: { ["n1": leaderURL] }, client: client, timeout: timeout, logger: Logger(label: "test"))
    }

    @Test("20 dashboards asking a follower at once: one request to the leader, every one of them gets its view")
    func concurrentCallersShareOneFetch() async throws {
        let count = RequestCounter(), gate = RequestGate()
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let answers = try await TestAPIServer.withServer(router: TestAPIServer.makeLeaderViewRouter(leader: "n1", count: count, gate: gate)) { url in
            defer { gate.open() }
            // A timeout far beyond the test's own waits: on a loaded machine the gate may open
            // seconds after the first request, and this test is about sharing, not about timing out.
            let source = source(leaderURL: url, client: client, timeout: .seconds(60))
            return await withTaskGroup(of: String?.self) { group in
                for _ in 0..<20 {
                    group.addTask { await source.leaderView(of: "n1", authorization: "Bearer t")?.view.node }
                }
                // Let every caller reach the source before the leader answers the first.
                let deadline = ContinuousClock.now + .seconds(10)
                while count.count == 0, ContinuousClock.now < deadline { await Task.yield() }
                for _ in 0..<200 { await Task.yield() }
                gate.open()
                var nodes: [String?] = []
                for await node in group { nodes.append(node) }
                return nodes
            }
        }
        try await client.shutdown()
        #expect(answers == Array(repeating: "n1", count: 20))
        #expect(count.count == 1, "the leader was asked \(count.count) times")
    }

    @Test("a leader that sends its headers and then nothing: the follower answers with its own view after the timeout")
    func stalledLeaderIsBounded() async throws {
        let count = RequestCounter(), gate = RequestGate()
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let (view, seconds) = try await TestAPIServer.withServer(
            router: TestAPIServer.makeLeaderViewRouter(leader: "n1", count: count, gate: gate, stallBody: true)) { url in
            defer { gate.open() }
            let started = ContinuousClock.now
            let source = source(leaderURL: url, client: client, timeout: .milliseconds(500))
            let view = await withTaskGroup(of: ClusterResource?.self) { group in
                group.addTask { await source.leaderView(of: "n1", authorization: nil)?.view }
                // A watchdog, so that a source that waits forever fails the test instead of hanging it.
                group.addTask {
                    try? await Task.sleep(for: .seconds(10))
                    gate.open()
                    return nil
                }
                let first = await group.next() ?? nil
                group.cancelAll()
                return first
            }
            let (whole, atto) = (ContinuousClock.now - started).components
            return (view?.node, Double(whole) + Double(atto) / 1e18)
        }
        try await client.shutdown()
        #expect(view == nil)
        #expect(seconds < 5, "took \(seconds) s with a 0.5 s timeout")
    }
}
