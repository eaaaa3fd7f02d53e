import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The output proxy on a cluster with API tokens and TLS: the node asked forwards the caller's
/// token over `https` (trusting the cluster CA) to the node that ran the attempt. Requests go
/// through `curl` (as a user would), so the test needs no TLS client of its own.
@Suite("output proxy with API tokens and TLS", .serialized)
struct ProxiedOutputTLSTests {
    struct Answer {
        var status: Int
        var body: String
    }

    /// `curl` against `https://127.0.0.1:port`, with the cluster CA and (if given) the token.
    static func curl(_ directory: String, port: Int, _ path: String, token: String?, post json: String? = nil,
                     clientCertificate: Bool) throws -> Answer {
        var arguments = ["-sS", "--max-time", "15", "--cacert", "certs/ca.pem", "-w", "\n%{http_code}"]
        // Under client_ca, curl shows a certificate from the cluster CA (n1's peer certificate).
        if clientCertificate { arguments += ["--cert", "certs/n1.pem", "--key", "certs/n1.key"] }
        if let token { arguments += ["-H", "Authorization: Bearer \(token)"] }
        if let json { arguments += ["-H", "Content-Type: application/json", "--data-binary", json] }
        arguments.append("https://127.0.0.1:\(port)\(path)")
        let result = try QuorumBinary.runToCompletion("/usr/bin/curl", arguments, in: directory)
        guard result.exitCode == 0, let newline = result.output.lastIndex(of: "\n"),
              let status = Int(result.output[result.output.index(after: newline)...]) else {
            return Answer(status: 0, body: result.output)
        }
        return Answer(status: status, body: String(result.output[..<newline]))
    }

    static func decode<T: Decodable>(_ type: T.Type, _ answer: Answer) throws -> T {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(type, from: Data(answer.body.utf8))
    }

    @Test("through a node that did not run it, the full output comes over https with the caller's token (and with client_ca)",
          .timeLimit(.minutes(3)), arguments: [false, true])
    func proxiedWithTokenOverTLS(mutualTLS: Bool) async throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/curl") else {
            Issue.record("this test sends its requests with curl: apt-get install curl")
            return
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("quorum-output-tls-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let ids = ["n1", "n2", "n3"]
        // Another test may take a picked port before a node binds it: start over with new ports
        // (the certificates do not name ports), as TestCluster does, up to three times.
        for round in 1...3 {
            let ports = try LoopbackPorts.free(6)
            var config = """
                [cluster]
                name = "output-tls"
                data_dir = "data/{id}"
                [raft]
                heartbeat_ms = 50
                election_timeout_ms = [300, 600]
                [api]
                tokens_file = "tokens"
                tls_cert = "certs/api.pem"
                tls_key = "certs/api.key"
                \(mutualTLS ? "client_ca = \"certs/ca.pem\"" : "")
                [executor]
                allow_shell = true
                shell_allow = ["/bin/*", "/usr/bin/*"]

                """
            for (index, id) in ids.enumerated() {
                config += "[[nodes]]\nid = \"\(id)\"\nraft = \"127.0.0.1:\(ports[2 * index])\"\napi = \"127.0.0.1:\(ports[2 * index + 1])\"\n"
            }
            try config.write(toFile: "\(directory)/c.toml", atomically: true, encoding: .utf8)
            let quorum = QuorumBinary.path
            for arguments in [["certs", "init", "--config", "c.toml", "--out", "certs"], ["certs", "api", "--ca", "certs", "--host", "127.0.0.1"]]
            where round == 1 {
                let result = try QuorumBinary.runToCompletion(quorum, arguments, in: directory)
                try #require(result.exitCode == 0, "\(arguments): \(result.output)")
            }
            let created = try QuorumBinary.runToCompletion(quorum, ["tokens", "create", "--file", "tokens", "--name", "ops\(round)", "--role", "admin"],
                                                           in: directory)
            try #require(created.exitCode == 0, "\(created.output)")
            let token = try #require(created.output.split(separator: "\n").last.map(String.init))

            let nodes = ids.map { NodeProcess(id: $0, directory: directory, configFile: "c.toml") }
            for node in nodes { try node.start() }
            defer { for node in nodes { node.send(SIGKILL) } }
            let apiPort = Dictionary(uniqueKeysWithValues: ids.enumerated().map { ($1, ports[2 * $0 + 1]) })
            let logs = { nodes.map { "\($0.id):\n\($0.logTail(lines: 20))" }.joined(separator: "\n") }

            let script = RealClusterTests.OutputTailClusterTests.script
            let body = #"{"name":"talkative","task":{"kind":"shell","command":["/bin/sh","-c",""# + script.replacingOccurrences(of: "\\", with: "\\\\")
                + #""]}}"#
            let jobID: String
            do {
            jobID = try await eventually("a job accepted over https with the token", timeout: .seconds(60), poll: .milliseconds(200)) { () -> String? in
                guard nodes.allSatisfy(\.isRunning) else { throw ClusterError("a node exited:\n\(logs())") }
                let answer = try Self.curl(directory, port: apiPort["n1"] ?? 0, "/api/jobs", token: token, post: body, clientCertificate: mutualTLS)
                guard answer.status == 201 else { return nil }
                struct Created: Decodable { var id: String }
                return try Self.decode(Created.self, answer).id
            }
            } catch let error as ClusterError where round < 3 && "\(error)".contains("already in use") {
                for node in nodes { node.send(SIGKILL) }
                for node in nodes { try? await node.waitForExit(timeout: .seconds(10)) }
                try? FileManager.default.removeItem(atPath: "\(directory)/data")
                continue
            }
            let attempt = try await eventually("the job to succeed", timeout: .seconds(60), poll: .milliseconds(200)) { () -> Attempt? in
                let answer = try Self.curl(directory, port: apiPort["n1"] ?? 0, "/api/jobs/\(jobID)/runs", token: token, clientCertificate: mutualTLS)
                guard answer.status == 200, let first = try Self.decode(Items<Attempt>.self, answer).items.first,
                      first.outcome == "succeeded" else { return nil }
                return first
            }
            let executor = try #require(attempt.executor)
            let other = try #require(ids.first { $0 != executor })
            let path = "/api/jobs/\(jobID)/runs/\(attempt.runId)/output?attempt=\(attempt.attempt)"

            let refused = try Self.curl(directory, port: apiPort[other] ?? 0, path, token: nil, clientCertificate: mutualTLS)
            #expect(refused.status == 401, "\(refused.body)")
            let answer = try Self.curl(directory, port: apiPort[other] ?? 0, path, token: token, clientCertificate: mutualTLS)
            #expect(answer.status == 200, "\(answer.body)")
            let output = try Self.decode(AttemptOutput.self, answer)
            #expect(output.source == "executor" && output.complete, "\(output.source)\n\(logs())")
            #expect(output.outputTail == RealClusterTests.OutputTailClusterTests.expected)
            return
        }
        Issue.record("could not start the cluster in three rounds (ports taken)")
    }
}
