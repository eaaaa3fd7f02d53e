import Foundation
import Testing

/// `[api] client_ca` reloaded without a restart: a real node, two CAs from `quorum certs init`,
/// the CLI presenting client certificates (`--cert`/`--key`).
@Suite("API client_ca reload", .serialized)
struct APIClientCAReloadTests {
    @Test("a client of CA B is refused under client_ca A, accepted once client_ca is the bundle A+B, and a garbage client_ca keeps A+B",
          .timeLimit(.minutes(2)))
    func clientCAReloads() async throws {
        let scratch = try OneNodeDirectory(name: "client-ca", sections: """
            [api]
            tls_cert = "a/api.pem"
            tls_key = "a/api.key"
            client_ca = "client-ca.pem"
            [tls]
            ca = "a/ca.pem"
            cert = "a/n1.pem"
            key = "a/n1.key"
            """)
        defer { scratch.remove() }
        let (directory, ports) = (scratch.directory, scratch.ports)
        let quorum = QuorumBinary.path
        for step in [["certs", "init", "--config", "c.toml", "--out", "a"], ["certs", "init", "--config", "c.toml", "--out", "b"],
                     ["certs", "api", "--ca", "a", "--host", "127.0.0.1"]] {
            let result = try QuorumBinary.runToCompletion(quorum, step, in: directory)
            try #require(result.exitCode == 0, "\(step): \(result.output)")
        }
        let caA = try String(contentsOfFile: "\(directory)/a/ca.pem", encoding: .utf8)
        let caB = try String(contentsOfFile: "\(directory)/b/ca.pem", encoding: .utf8)
        try replaceClientCA(with: caA, in: directory)

        let node = NodeProcess(id: "n1", directory: directory, configFile: "c.toml")
        try node.start()
        defer { node.send(SIGKILL) }
        let https = "https://127.0.0.1:\(ports[1])"
        /// `quorum jobs` over https presenting `client` (a directory's n1 certificate, or the path
        /// of a pair without its extension), or none; retrying for `wait` seconds while the node
        /// cannot serve (no --wait where a refusal is expected).
        func listJobs(as client: String?, wait: Int = 5) throws -> QuorumBinary.Result {
            let pair = client.map { $0.contains("/") ? $0 : "\($0)/n1" }
            let certificate = pair.map { ["--cert", "\($0).pem", "--key", "\($0).key"] } ?? []
            return try QuorumBinary.runToCompletion(
                quorum, ["jobs", "--server", https, "--cacert", "a/ca.pem", "--wait", "\(wait)"] + certificate, in: directory)
        }
        let deadline = ContinuousClock.now + .seconds(60)
        /// Waits (``eventually(_:timeout:poll:_:)``) until `condition` holds, or records `failure`
        /// when the node exits or the test's deadline passes.
        func holds(_ failure: String, _ condition: () throws -> Bool) async throws -> Bool {
            do {
                _ = try await node.eventuallyWhileRunning(failure, timeout: max(.zero, deadline - .now), poll: .milliseconds(200)) { () -> Bool? in
                    return try condition() ? true : nil
                }
                return true
            } catch let error as ClusterError {
                Issue.record("\(failure): \(error) (node running: \(node.isRunning))\n\(node.logTail())")
                return false
            }
        }
        guard try await holds("the node never accepted a client of CA A", { try listJobs(as: "a").exitCode == 0 }) else { return }
        let fromB = try listJobs(as: "b", wait: 0)
        #expect(fromB.exitCode != 0, "a client certificate of CA B was accepted under client_ca = A: \(fromB.output)")
        #expect(try listJobs(as: nil, wait: 0).exitCode != 0, "a client without a certificate was accepted")
        // From CA A but for serving only (no clientAuth usage): not a client certificate.
        #expect(try listJobs(as: "a/api", wait: 0).exitCode != 0, "the API's server certificate was accepted as a client certificate")

        // The bundle A+B renamed into place: B's clients get in, A's still do, no restart.
        try replaceClientCA(with: caA + caB, in: directory)
        guard try await holds("a client of CA B is still refused after client_ca became A+B", { try listJobs(as: "b").exitCode == 0 })
        else { return }
        #expect(try listJobs(as: "a").exitCode == 0)

        // Garbage: refused, counted as an error, and A+B stays trusted.
        try replaceClientCA(with: "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n", in: directory)
        guard try await holds("the garbage client_ca was never counted as a failed reload", {
            try reloadErrors(port: ports[1], directory: directory) >= 1
        }) else { return }
        #expect(try listJobs(as: "b").exitCode == 0, "the garbage client_ca replaced the trusted CAs")
        #expect(try listJobs(as: "a").exitCode == 0, "the garbage client_ca replaced the trusted CAs")
        #expect(node.isRunning)
        #expect(node.logTail(lines: 400).contains("[api] client_ca \(directory)/client-ca.pem"),
                "the error log line does not name the client_ca file: \(node.logTail())")
    }

    /// Writes `pem` next to `client-ca.pem` and renames it into place (what an operator does).
    private func replaceClientCA(with pem: String, in directory: String) throws {
        try pem.write(toFile: "\(directory)/client-ca.pem.next", atomically: false, encoding: .utf8)
        try #require(rename("\(directory)/client-ca.pem.next", "\(directory)/client-ca.pem") == 0)
    }

    /// `quorum_tls_reloads_total{target="api",outcome="error"}` read with curl (a client of CA A).
    private func reloadErrors(port: Int, directory: String) throws -> Int {
        let result = try QuorumBinary.runToCompletion(
            "/usr/bin/curl", ["-sS", "--cacert", "a/ca.pem", "--cert", "a/n1.pem", "--key", "a/n1.key",
                              "https://127.0.0.1:\(port)/metrics"], in: directory)
        return MetricSample.value(of: #"quorum_tls_reloads_total{target="api",outcome="error"}"#, in: result.output)
            .map { Int($0) } ?? 0
    }
}
