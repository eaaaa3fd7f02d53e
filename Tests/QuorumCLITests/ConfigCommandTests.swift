import Foundation
import Testing

@Suite("quorum config check and quorum node")
struct ConfigCommandTests {
    @Test("the shipped local cluster config is valid and printed resolved")
    func checkLocal3() throws {
        let result = try QuorumBinary.run(["config", "check", "cluster/local-3.toml"], in: QuorumBinary.repoRoot)
        #expect(result.exitCode == 0, "\(result.standardError)")
        #expect(result.standardOutput.contains("cluster/local-3.toml: valid"))
        #expect(result.standardOutput.contains("n3     voter    raft 127.0.0.1:7003  api 127.0.0.1:8082"))
        #expect(result.standardOutput.contains("data \(QuorumBinary.repoRoot)/data/n2"))
    }

    @Test("a broken config exits 2 with one line naming the file and key")
    func brokenConfig() throws {
        let directory = try temporaryDirectory()
        let file = "\(directory)/bad.toml"
        let original = try String(contentsOfFile: "\(QuorumBinary.repoRoot)/cluster/local-3.toml", encoding: .utf8)
        try original.replacingOccurrences(of: "heartbeat_ms", with: "heartbeat_msec").write(toFile: file, atomically: true, encoding: .utf8)
        let result = try QuorumBinary.run(["config", "check", file])
        #expect(result.exitCode == 2)
        #expect(result.standardError == "\(file): raft.heartbeat_msec: unknown key (check the spelling; docs/configuration.md lists every key)\n")
        #expect(result.standardOutput.isEmpty)
    }

    @Test("a missing file exits 2 naming it")
    func missingFile() throws {
        let result = try QuorumBinary.run(["config", "check", "/nonexistent/quorum.toml"])
        #expect(result.exitCode == 2)
        #expect(result.standardError.hasPrefix("/nonexistent/quorum.toml: cannot read the file"))
    }

    @Test("--id of an unknown node exits 2")
    func unknownID() throws {
        let result = try QuorumBinary.run(["config", "check", "cluster/local-3.toml", "--id", "n7"], in: QuorumBinary.repoRoot)
        #expect(result.exitCode == 2)
        #expect(result.standardError.contains("--id: \"n7\" is not a node of this cluster"))
    }

    @Test("config check warns about missing TLS files; node refuses them")
    func missingCertificates() throws {
        let directory = try temporaryDirectory()
        try FileManager.default.copyItem(
            atPath: "\(QuorumBinary.repoRoot)/cluster/local-3.toml", toPath: "\(directory)/c.toml")
        let check = try QuorumBinary.run(["config", "check", "c.toml", "--id", "n1"], in: directory)
        #expect(check.exitCode == 0)
        #expect(check.standardError.contains("warning: tls.ca: \(directory)/certs/ca.pem does not exist"))
        let node = try QuorumBinary.run(["node", "--config", "c.toml", "--id", "n1"], in: directory)
        #expect(node.exitCode == 2)
        #expect(node.standardError.contains("c.toml: tls.ca: \(directory)/certs/ca.pem does not exist"))
    }

    @Test("config check shows the http task address policy and warns about an allow entry that changes nothing")
    func httpAddressPolicy() throws {
        let directory = try temporaryDirectory()
        let shipped = try String(contentsOfFile: "\(QuorumBinary.repoRoot)/cluster/local-3.toml", encoding: .utf8)
        let text = shipped.replacingOccurrences(of: "[executor]\n", with: "[executor]\nhttp_deny = [\"203.0.113.0/24\"]\nhttp_allow = [\"127.0.0.1\", \"8.8.8.8\"]\n")
        try #require(text != shipped)
        try text.write(toFile: "\(directory)/c.toml", atomically: true, encoding: .utf8)
        let check = try QuorumBinary.run(["config", "check", "c.toml", "--id", "n1"], in: directory)
        #expect(check.exitCode == 0)
        #expect(check.standardOutput.contains("http tasks  built-in deny list + http_deny 203.0.113.0/24; allowed anyway: 127.0.0.1/32, 8.8.8.8/32"))
        #expect(check.standardError.contains("warning: executor.http_allow[1]: 8.8.8.8/32 is in no denied range"))
        try text.replacingOccurrences(of: "\"8.8.8.8\"", with: "\"8.8.8.8/8\"").write(toFile: "\(directory)/c.toml", atomically: true, encoding: .utf8)
        let bad = try QuorumBinary.run(["config", "check", "c.toml"], in: directory)
        #expect(bad.exitCode == 2)
        #expect(bad.standardError.contains("c.toml: executor.http_allow[1]: \"8.8.8.8/8\" is not a CIDR: '8.8.8.8' has bits set past the /8 prefix; did you mean 8.0.0.0/8?"))
    }

    @Test("a node whose [api] tokens_file is missing or invalid refuses to start, naming the file")
    func tokensFileRequired() throws {
        let directory = try temporaryDirectory()
        let config = try String(contentsOfFile: "\(QuorumBinary.repoRoot)/cluster/local-3.toml", encoding: .utf8)
        try Data((config + "\n[api]\ntokens_file = \"api.tokens\"\n").utf8).write(to: URL(fileURLWithPath: "\(directory)/c.toml"))
        let certs = try QuorumBinary.run(["certs", "init", "--config", "c.toml", "--out", "certs"], in: directory)
        #expect(certs.exitCode == 0, "\(certs.standardError)")
        let missing = try QuorumBinary.run(["node", "--config", "c.toml", "--id", "n1"], in: directory)
        #expect(missing.exitCode == 2)
        #expect(missing.standardError.contains("[api] tokens_file \(directory)/api.tokens cannot be read"))
        try Data("admin root abc\n".utf8).write(to: URL(fileURLWithPath: "\(directory)/api.tokens"))
        let invalid = try QuorumBinary.run(["node", "--config", "c.toml", "--id", "n1"], in: directory)
        #expect(invalid.exitCode == 2)
        #expect(invalid.standardError.contains("tokens file line 1: role 'root' is not read, submit or admin"))
    }

    @Test("a node whose [executor] run_as names no user refuses to start, naming the key and what to do")
    func runAsUnknownUser() throws {
        let directory = try temporaryDirectory()
        let config = try String(contentsOfFile: "\(QuorumBinary.repoRoot)/cluster/local-3.toml", encoding: .utf8)
        let withRunAs = config.replacingOccurrences(of: "allow_shell = true\n", with: "allow_shell = true\nrun_as = \"quorum-no-such-user\"\n")
        try Data(withRunAs.utf8).write(to: URL(fileURLWithPath: "\(directory)/c.toml"))
        let result = try QuorumBinary.run(["node", "--config", "c.toml", "--id", "n1"], in: directory)
        #expect(result.exitCode == 2)
        if getuid() == 0 {
            #expect(result.standardError.contains("c.toml: executor.run_as: there is no user \"quorum-no-such-user\" on this machine"))
        } else {
            #expect(result.standardError.contains("c.toml: executor.run_as: \"quorum-no-such-user\" needs the node to run as root"))
        }
        #expect(!FileManager.default.fileExists(atPath: "\(directory)/data/n1"), "nothing was created")
    }

    @Test("usage errors exit 2, help exits 0")
    func usage() throws {
        #expect(try QuorumBinary.run(["config", "check"]).exitCode == 2)
        #expect(try QuorumBinary.run(["no-such-command"]).exitCode == 2)
        let help = try QuorumBinary.run(["--help"])
        #expect(help.exitCode == 0)
        #expect(help.standardOutput.contains("USAGE: quorum"))
    }

    @Test("an invalid log level exits 2 naming its source")
    func badLogLevel() throws {
        let result = try QuorumBinary.run(
            ["node", "--config", "cluster/local-3.toml", "--id", "n1"], in: QuorumBinary.repoRoot,
            environment: ["QUORUM_LOG_LEVEL": "loud"])
        #expect(result.exitCode == 2)
        #expect(result.standardError.contains("QUORUM_LOG_LEVEL: \"loud\" is not a log level"))
    }

    private func temporaryDirectory() throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("quorum-cli-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url.path
    }
}

@Suite("quorum config check without --id")
struct ConfigCheckAllNodesTests {
    @Test("missing TLS files of every node are warnings, and the exit code stays 0")
    func warnsForEveryNode() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("quorum-cli-all-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.copyItem(atPath: "\(QuorumBinary.repoRoot)/cluster/local-3.toml", toPath: "\(directory)/c.toml")
        let result = try QuorumBinary.run(["config", "check", "c.toml"], in: directory)
        #expect(result.exitCode == 0)
        for file in ["ca.pem", "n1.pem", "n2.key", "n3.pem"] {
            #expect(result.standardError.contains("\(directory)/certs/\(file) does not exist"), "\(file)")
        }
        #expect(result.standardError.components(separatedBy: "ca.pem does not exist").count == 2, "the CA is named once")
    }
}
