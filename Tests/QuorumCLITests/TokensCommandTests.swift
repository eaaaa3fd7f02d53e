import Foundation
import HTTPAPI
import QuorumTestServer
import Testing

/// `quorum tokens` manages the file; client commands send `--token` / `QUORUM_TOKEN`.
@Suite("quorum tokens", .serialized)
struct TokensCommandTests {
    @Test("create prints a token once and stores only its hash; list shows names and roles; revoke removes it")
    func lifecycle() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tokens-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("tokens").path

        let created = try await QuorumBinary.runAsync(["tokens", "create", "--file", file, "--name", "ci", "--role", "submit"])
        #expect(created.exitCode == 0, "\(created.standardError)")
        let token = created.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(token.hasPrefix("qt_"))
        let stored = try String(contentsOfFile: file, encoding: .utf8)
        #expect(!stored.contains(token))
        let parsed = try TokenFile(parsing: stored)
        #expect(parsed.entries.map(\.name) == ["ci"])
        #expect(parsed.entries.first?.digest == TokenFile.digest(of: token))
        let permissions = try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int
        #expect(permissions == 0o600)

        let duplicate = try await QuorumBinary.runAsync(["tokens", "create", "--file", file, "--name", "ci", "--role", "read"])
        #expect(duplicate.exitCode == 2)
        #expect(duplicate.standardError.contains("already exists"))
        let badRole = try await QuorumBinary.runAsync(["tokens", "create", "--file", file, "--name", "x", "--role", "root"])
        #expect(badRole.exitCode == 2)
        #expect(badRole.standardError.contains("--role: 'root' is not read, submit or admin"))

        let listed = try await QuorumBinary.runAsync(["tokens", "list", "--file", file])
        #expect(listed.exitCode == 0)
        #expect(listed.standardOutput.contains("ci    submit"))

        let revoked = try await QuorumBinary.runAsync(["tokens", "revoke", "--file", file, "--name", "ci"])
        #expect(revoked.exitCode == 0, "\(revoked.standardError)")
        #expect(try TokenFile(parsing: String(contentsOfFile: file, encoding: .utf8)).entries.isEmpty)
    }

    @Test("client commands send QUORUM_TOKEN or --token; without one a protected node answers 401")
    func clientSendsToken() async throws {
        let authorizer = TokenAuthorizer(TokenFile(entries: [.init(name: "reader", role: .read, digest: TokenFile.digest(of: "qt_r"))]))
        let router = makeQuorumRouter(service: TestAPIServer.makeService(), authorizer: authorizer)
        try await TestAPIServer.withServer(router: router) { url in
            let refused = try await QuorumBinary.runAsync(["jobs", "--server", url])
            #expect(refused.exitCode == 1)
            #expect(refused.standardError.contains("401"))
            let viaEnvironment = try await QuorumBinary.runAsync(["jobs", "--server", url], environment: ["QUORUM_TOKEN": "qt_r"])
            #expect(viaEnvironment.exitCode == 0, "\(viaEnvironment.standardError)")
            let viaFlag = try await QuorumBinary.runAsync(["jobs", "--server", url, "--token", "qt_r"])
            #expect(viaFlag.exitCode == 0, "\(viaFlag.standardError)")
            let tooLow = try await QuorumBinary.runAsync(["submit", "--server", url, "--token", "qt_r", "--name", "x"])
            #expect(tooLow.exitCode == 1)
            #expect(tooLow.standardError.contains("403"))
        }
    }
}
