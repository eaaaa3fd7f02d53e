import Foundation
import QuorumTestServer
import Testing

/// `quorum doctor` against nodes that answer badly: each run ends within what `--timeout`
/// allows and says what it saw, with advice that fits (the real cluster run is in ClusterTests).
@Suite("quorum doctor against nodes that answer badly")
struct DoctorHostileNodeTests {
    /// Runs `quorum doctor --server url --timeout 1` and how long it took.
    func doctor(_ url: String, extra: [String] = []) async throws -> (result: QuorumBinary.Result, seconds: Double) {
        let started = ContinuousClock.now
        let result = try await QuorumBinary.runAsync(["doctor", "--server", url, "--timeout", "1"] + extra,
                                                     environment: ["QUORUM_TOKEN": ""], deadline: 40)
        let (whole, attoseconds) = (ContinuousClock.now - started).components
        return (result, Double(whole) + Double(attoseconds) / 1e18)
    }

    @Test("a node that sends its headers and then nothing: doctor gives up on it after --timeout, fails it and exits")
    func stallsAfterHeaders() async throws {
        let gate = RequestGate()
        let (result, seconds) = try await TestAPIServer.withServer(
            router: TestAPIServer.makeDoctorTargetRouter(cluster: .garbage("{}"), gate: gate)) { url in
            // Opened before the server stops: it waits for the answers it began.
            defer { gate.open() }
            return try await doctor(url)
        }
        #expect(result.exitCode == 1, "\(result)")
        #expect(result.standardOutput.contains("does not answer"), "\(result.standardOutput)")
        // One request of the node at most (the others are not sent once /healthz failed), plus start-up.
        #expect(seconds < 15, "doctor took \(seconds) s with --timeout 1")
    }

    @Test("a node with tokens and doctor without one: a warning that says to give a token with the read role")
    func unauthorized() async throws {
        let (result, _) = try await TestAPIServer.withServer(router: TestAPIServer.makeDoctorTargetRouter(cluster: .unauthorized)) { url in
            try await doctor(url)
        }
        #expect(result.exitCode == 0, "\(result)")
        #expect(result.standardOutput.contains("GET /api/cluster: answered 401"), "\(result.standardOutput)")
        #expect(result.standardOutput.contains("--token or $QUORUM_TOKEN"), "\(result.standardOutput)")
    }

    @Test("garbage from /api/cluster: a warning that it is not a Quorum cluster view — not advice about tokens")
    func garbageClusterView() async throws {
        for body in [#"{"leader": 7}"#, "<html>proxy error</html>", #"{"nodes": "all of them"}"#] {
            let (result, _) = try await TestAPIServer.withServer(
                router: TestAPIServer.makeDoctorTargetRouter(cluster: .garbage(body))) { url in
                try await doctor(url)
            }
            #expect(result.exitCode == 0, "\(result)")
            #expect(result.standardOutput.contains("GET /api/cluster: the answer is not a Quorum cluster view"), "\(body): \(result.standardOutput)")
            #expect(!result.standardOutput.contains("--token"), "\(body): \(result.standardOutput)")
        }
    }
}
