import Foundation
import Testing

/// The HTTP API over TLS with a real node: `quorum certs api`, `[api] tls_cert`/`tls_key`, the
/// CLI with `--cacert`, a renewed certificate served without a restart.
@Suite("API over TLS", .serialized)
struct APITLSTests {
    @Test("the CLI talks https with --cacert; without it, or over http, it fails; a renewed certificate is served without restart",
          .timeLimit(.minutes(2)))
    func apiOverTLS() async throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl") else {
            Issue.record("this test reads the served certificate with the openssl command: apt-get install openssl")
            return
        }
        let scratch = try OneNodeDirectory(name: "api-tls", sections: """
            [api]
            tls_cert = "certs/api.pem"
            tls_key = "certs/api.key"
            """)
        defer { scratch.remove() }
        let (directory, ports) = (scratch.directory, scratch.ports)
        let quorum = QuorumBinary.path
        let certs = try QuorumBinary.runToCompletion(quorum, ["certs", "init", "--config", "c.toml", "--out", "certs"], in: directory)
        #expect(certs.exitCode == 0, "\(certs.output)")
        let api = try QuorumBinary.runToCompletion(quorum, ["certs", "api", "--ca", "certs", "--host", "127.0.0.1"], in: directory)
        #expect(api.exitCode == 0, "\(api.output)")

        let node = NodeProcess(id: "n1", directory: directory, configFile: "c.toml")
        try node.start()
        defer {
            node.send(SIGKILL)
        }
        let https = "https://127.0.0.1:\(ports[1])"
        let deadline = ContinuousClock.now + .seconds(60)
        var listed = try QuorumBinary.runToCompletion(quorum, ["jobs", "--server", https, "--cacert", "certs/ca.pem"], in: directory)
        while listed.exitCode != 0 {
            guard ContinuousClock.now < deadline, node.isRunning else {
                Issue.record("the node never answered over https: \(listed.output)\n\(node.logTail())")
                return
            }
            try await Task.sleep(for: .milliseconds(200))
            listed = try QuorumBinary.runToCompletion(quorum, ["jobs", "--server", https, "--cacert", "certs/ca.pem", "--wait", "5"],
                                                      in: directory)
        }
        let submitted = try QuorumBinary.runToCompletion(
            quorum, ["submit", "--server", https, "--cacert", "certs/ca.pem", "--name", "over-tls"], in: directory)
        #expect(submitted.exitCode == 0, "\(submitted.output)")

        let untrusted = try QuorumBinary.runToCompletion(quorum, ["jobs", "--server", https], in: directory)
        #expect(untrusted.exitCode != 0)
        let plain = try QuorumBinary.runToCompletion(quorum, ["jobs", "--server", "http://127.0.0.1:\(ports[1])"], in: directory)
        #expect(plain.exitCode != 0)

        // Renew: a new pair renamed into place is served to the next connection.
        let before = try servedSerial(port: ports[1], directory: directory)
        let renewed = try QuorumBinary.runToCompletion(
            quorum, ["certs", "api", "--ca", "certs", "--host", "127.0.0.1", "--name", "api-next"], in: directory)
        #expect(renewed.exitCode == 0, "\(renewed.output)")
        #expect(rename("\(directory)/certs/api-next.key", "\(directory)/certs/api.key") == 0)
        #expect(rename("\(directory)/certs/api-next.pem", "\(directory)/certs/api.pem") == 0)
        var after = try servedSerial(port: ports[1], directory: directory)
        while after == before {
            guard ContinuousClock.now < deadline else {
                Issue.record("the renewed certificate was not served: still \(before)\n\(node.logTail())")
                return
            }
            try await Task.sleep(for: .milliseconds(200))
            after = try servedSerial(port: ports[1], directory: directory)
        }
        let afterRenewal = try QuorumBinary.runToCompletion(quorum, ["jobs", "--server", https, "--cacert", "certs/ca.pem"], in: directory)
        #expect(afterRenewal.exitCode == 0, "\(afterRenewal.output)")
    }

    /// The serial number of the certificate the API serves now (openssl s_client).
    private func servedSerial(port: Int, directory: String) throws -> String {
        let result = try QuorumBinary.runToCompletion(
            "/bin/sh", ["-c", "openssl s_client -connect 127.0.0.1:\(port) </dev/null 2>/dev/null | openssl x509 -noout -serial"],
            in: directory)
        return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
