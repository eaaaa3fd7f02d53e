import Foundation
import Testing

/// A real node re-reads its peer TLS files (`[tls] ca`, `cert`, `key`) without a restart: a
/// broken key is refused and counted, a renewed certificate is served on the Raft port, and the
/// CA is rotated through a bundle — each step seen from outside (openssl, `/metrics`).
@Suite("Peer TLS reload in a running node", .serialized)
struct PeerTLSReloadClusterTests {
    @Test("a broken key is refused and counted; a renewed certificate and a rotated CA are picked up without restart",
          .timeLimit(.minutes(2)))
    func reloadPeerTLS() async throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl") else {
            Issue.record("this test reads the served certificate with the openssl command: apt-get install openssl")
            return
        }
        let scratch = try OneNodeDirectory(name: "peer-tls")
        defer { scratch.remove() }
        let (directory, ports) = (scratch.directory, scratch.ports)
        let quorum = QuorumBinary.path
        func run(_ arguments: [String]) throws {
            let result = try QuorumBinary.runToCompletion(quorum, arguments, in: directory)
            #expect(result.exitCode == 0, "quorum \(arguments.joined(separator: " ")): \(result.output)")
        }
        try run(["certs", "init", "--config", "c.toml", "--out", "certs"])

        let node = NodeProcess(id: "n1", directory: directory, configFile: "c.toml")
        try node.start()
        defer { node.send(SIGKILL) }
        let api = APIClient(baseURL: "http://127.0.0.1:\(ports[1])")
        let deadline = ContinuousClock.now + .seconds(90)
        /// Polls `condition` (``eventually(_:timeout:poll:_:)``) until it holds, the node exits, or
        /// the test's deadline passes.
        func waitUntil(_ what: String, _ condition: () async throws -> Bool) async throws {
            do {
                _ = try await node.eventuallyWhileRunning(what, timeout: max(.zero, deadline - .now), poll: .milliseconds(100)) { () -> Bool? in
                    return try await condition() ? true : nil
                }
            } catch let error as ClusterError {
                Issue.record("timed out waiting until \(what) (\(error))\n\(node.logTail())")
                throw CancellationError()
            }
        }
        func reloads(_ outcome: String) async -> Int? {
            guard let response = try? await api.get("/metrics"), response.status == 200 else { return nil }
            return MetricSample.value(of: #"quorum_tls_reloads_total{target="peer",outcome="\#(outcome)"}"#, in: response.text)
                .map { Int($0) }
        }
        func served() throws -> String { try servedSerial(port: ports[0], directory: directory) }
        func serial(of file: String) throws -> String {
            try QuorumBinary.runToCompletion("/usr/bin/openssl", ["x509", "-noout", "-serial", "-in", file], in: directory)
                .output.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        /// Writes `text` next to `file` and renames it into place, as the runbook says.
        func replace(_ file: String, with text: String) throws {
            try text.write(toFile: "\(directory)/\(file).next", atomically: false, encoding: .utf8)
            #expect(rename("\(directory)/\(file).next", "\(directory)/\(file)") == 0)
        }
        func contents(_ file: String) throws -> String { try String(contentsOfFile: "\(directory)/\(file)", encoding: .utf8) }

        try await waitUntil("the node serves /metrics") { await reloads("ok") == 0 }
        let original = try served()
        #expect(original == (try serial(of: "certs/n1.pem")))

        // A key that is not a key: refused, counted, the old certificate still served.
        let goodKey = try contents("certs/n1.key")
        try replace("certs/n1.key", with: "not a key\n")
        try await waitUntil("the broken key is counted as an error") { await reloads("error") == 1 }
        #expect(try served() == original)
        #expect(node.logTail(lines: 200).contains("the peer TLS files changed but cannot be used"))
        try replace("certs/n1.key", with: goodKey)
        try await waitUntil("the repaired key is reloaded") { await reloads("ok") == 1 }

        // A renewed certificate (same CA) is served from the next connection on.
        try run(["certs", "issue", "--ca", "certs", "--id", "n1", "--host", "127.0.0.1", "--out", "certs/next"])
        try replace("certs/n1.key", with: try contents("certs/next/n1.key"))
        try replace("certs/n1.pem", with: try contents("certs/next/n1.pem"))
        let renewed = try serial(of: "certs/n1.pem")
        try await waitUntil("the renewed certificate is served") { try served() == renewed }

        // CA rotation: bundle old+new, a certificate from the new CA, then the new CA alone.
        try run(["certs", "init", "--config", "c.toml", "--out", "certs-new"])
        let reloadsBefore = await reloads("ok") ?? 0
        try replace("certs/ca.pem", with: try contents("certs/ca.pem") + contents("certs-new/ca.pem"))
        try await waitUntil("the two-CA bundle is loaded") { await reloads("ok") ?? 0 > reloadsBefore }
        try replace("certs/n1.key", with: try contents("certs-new/n1.key"))
        try replace("certs/n1.pem", with: try contents("certs-new/n1.pem"))
        let rotated = try serial(of: "certs/n1.pem")
        try await waitUntil("the new CA's certificate is served") { try served() == rotated }
        let errorsBefore = await reloads("error") ?? 0
        let okBefore = await reloads("ok") ?? 0
        try replace("certs/ca.pem", with: try contents("certs-new/ca.pem"))
        try await waitUntil("the old CA is dropped") { await reloads("ok") ?? 0 > okBefore }
        #expect(try served() == rotated)
        #expect(node.isRunning)
        // Every step above loaded whole sets: a rename seen between key and certificate may add an
        // error, never a wrong certificate; the last step cannot.
        #expect(await reloads("error") == errorsBefore)
    }

    /// The serial number of the certificate served on `port` now (openssl s_client; the node
    /// then refuses this client, which presents no certificate).
    private func servedSerial(port: Int, directory: String) throws -> String {
        let result = try QuorumBinary.runToCompletion(
            "/bin/sh", ["-c", "openssl s_client -connect 127.0.0.1:\(port) </dev/null 2>/dev/null | openssl x509 -noout -serial"],
            in: directory)
        return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
