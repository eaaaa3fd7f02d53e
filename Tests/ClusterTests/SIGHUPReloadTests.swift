import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// `stat`'s nanosecond fields and `utimensat` as Linux spells them.
#if os(Linux)
/// SIGHUP makes a real node re-read its tokens file and its API TLS pair at once, without the
/// file poller's help: the change is made so the poller cannot see it.
@Suite("SIGHUP reloads", .serialized)
struct SIGHUPReloadTests {
    @Test("SIGHUP re-reads the tokens file and the API TLS pair, even a change with size, inode and mtime kept",
          .timeLimit(.minutes(2)))
    func sighupReloads() async throws {
        let scratch = try OneNodeDirectory(name: "sighup", sections: """
            [api]
            tokens_file = "tokens"
            tls_cert = "certs/api.pem"
            tls_key = "certs/api.key"
            """)
        defer { scratch.remove() }
        let (directory, ports) = (scratch.directory, scratch.ports)
        let quorum = QuorumBinary.path
        for arguments in [["certs", "init", "--config", "c.toml", "--out", "certs"], ["certs", "api", "--ca", "certs", "--host", "127.0.0.1"]] {
            let result = try QuorumBinary.runToCompletion(quorum, arguments, in: directory)
            try #require(result.exitCode == 0, "\(arguments): \(result.output)")
        }
        let created = try QuorumBinary.runToCompletion(quorum, ["tokens", "create", "--file", "tokens", "--name", "ops", "--role", "admin"],
                                                       in: directory)
        try #require(created.exitCode == 0, "\(created.output)")
        let token = try #require(created.output.split(separator: "\n").last.map(String.init))

        let node = NodeProcess(id: "n1", directory: directory, configFile: "c.toml")
        try node.start()
        defer { node.send(SIGKILL) }
        let list = ["jobs", "--server", "https://127.0.0.1:\(ports[1])", "--cacert", "certs/ca.pem", "--token", token, "--wait", "5"]
        try await node.eventuallyWhileRunning("the node answers the token over https", timeout: .seconds(60),
                                              poll: .milliseconds(200)) { () -> Bool? in
            return try QuorumBinary.runToCompletion(quorum, list, in: directory).exitCode == 0 ? true : nil
        }

        // Revoke 'ops' by giving it another hash, written in place (same inode, same size) with the
        // old modification time put back: the file poller sees no change, only SIGHUP can.
        let path = "\(directory)/tokens"
        let before = try Self.status(of: path)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let revoked = text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.hasPrefix("ops ") ? line.split(separator: " ").dropLast().joined(separator: " ") + " " + String(repeating: "0", count: 64)
                : String(line)
        }.joined(separator: "\n")
        try #require(revoked.utf8.count == text.utf8.count && revoked != text)
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.write(contentsOf: Data(revoked.utf8))
        try handle.close()
        var times = [before.st_atim, before.st_mtim]
        try #require(utimensat(AT_FDCWD, path, &times, 0) == 0)
        let after = try Self.status(of: path)
        #expect(after.st_ino == before.st_ino && after.st_size == before.st_size)
        #expect(after.st_mtim.tv_sec == before.st_mtim.tv_sec && after.st_mtim.tv_nsec == before.st_mtim.tv_nsec)

        node.send(SIGHUP)
        try await node.eventuallyWhileRunning("the revoked token is refused after SIGHUP", timeout: .seconds(30),
                                              poll: .milliseconds(200)) { () -> Bool? in
            return try QuorumBinary.runToCompletion(quorum, list, in: directory).exitCode != 0 ? true : nil
        }
        let log = (try? String(contentsOfFile: node.logPath, encoding: .utf8)) ?? ""
        let lines = log.split(separator: "\n")
        #expect(lines.contains { $0.contains("re-read the API tokens file") && $0.contains("trigger=SIGHUP") }, "\(node.logTail())")
        #expect(lines.contains { $0.contains("reloaded the API's TLS certificate") && $0.contains("trigger=SIGHUP") }, "\(node.logTail())")
        #expect(node.isRunning)
    }

    private static func status(of path: String) throws -> stat {
        var result = stat()
        guard stat(path, &result) == 0 else { throw ClusterError("stat \(path) failed: errno \(errno)") }
        return result
    }
}
#endif
