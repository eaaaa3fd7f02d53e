import Foundation
import Testing

@Suite("quorum certs")
struct CertsCommandTests {
    private func temporaryDirectory() throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("quorum-certs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url.path
    }

    private func mode(_ path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    @Test("init writes a CA and a certificate per node, keys 0600, and the config is then complete")
    func initForConfig() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.copyItem(atPath: "\(QuorumBinary.repoRoot)/cluster/local-3.toml", toPath: "\(directory)/c.toml")
        let result = try QuorumBinary.run(["certs", "init", "--config", "c.toml", "--out", "certs"], in: directory)
        #expect(result.exitCode == 0, "\(result.standardError)")
        for file in ["ca.pem", "ca.key", "n1.pem", "n1.key", "n2.pem", "n2.key", "n3.pem", "n3.key"] {
            #expect(FileManager.default.fileExists(atPath: "\(directory)/certs/\(file)"), "\(file)")
        }
        for key in ["ca.key", "n1.key", "n3.key"] {
            #expect(try mode("\(directory)/certs/\(key)") == 0o600, "\(key)")
        }
        let check = try QuorumBinary.run(["config", "check", "c.toml", "--id", "n2"], in: directory)
        #expect(check.exitCode == 0)
        #expect(!check.standardError.contains("does not exist"), "\(check.standardError)")

        let again = try QuorumBinary.run(["certs", "init", "--config", "c.toml", "--out", "certs"], in: directory)
        #expect(again.exitCode == 2)
        #expect(again.standardError.contains("already exists"))
    }

    @Test("issue adds one node's certificate with an existing CA")
    func issueOne() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let initResult = try QuorumBinary.run([
            "certs", "init", "--config", "\(QuorumBinary.repoRoot)/cluster/local-3.toml", "--out", directory,
        ])
        #expect(initResult.exitCode == 0, "\(initResult.standardError)")
        let result = try QuorumBinary.run(["certs", "issue", "--ca", directory, "--id", "n4", "--host", "127.0.0.1"])
        #expect(result.exitCode == 0, "\(result.standardError)")
        #expect(FileManager.default.fileExists(atPath: "\(directory)/n4.pem"))
        #expect(try mode("\(directory)/n4.key") == 0o600)
    }

    @Test("bad input exits 2 naming the option")
    func badInput() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let badID = try QuorumBinary.run(["certs", "issue", "--ca", directory, "--id", "N 4"])
        #expect(badID.exitCode == 2)
        #expect(badID.standardError.contains("--id:"))
        let noCA = try QuorumBinary.run(["certs", "issue", "--ca", directory, "--id", "n4"])
        #expect(noCA.exitCode == 2)
        #expect(noCA.standardError.contains("--ca:"))
        let badDays = try QuorumBinary.run([
            "certs", "init", "--config", "\(QuorumBinary.repoRoot)/cluster/local-3.toml", "--out", directory, "--days", "0",
        ])
        #expect(badDays.exitCode == 2)
    }
}
