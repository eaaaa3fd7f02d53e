import Foundation
import Testing

/// A node whose output nobody reads any more — the program that collected its stdout and stderr
/// (a log shipper, `quorum node … | tee`) exited — keeps serving. Before the fix, the first log
/// line a node wrote before it opened a socket killed it with `SIGPIPE` (SwiftNIO ignores the
/// signal, but only once it creates its first socket).
@Suite("A node whose output nobody reads", .serialized)
struct UnreadOutputClusterTests {
    @Test("with stdout and stderr a pipe whose reader is gone before it starts, the node elects itself and runs a job",
          .timeLimit(.minutes(2)))
    func nodeOutlivesItsOutputReader() async throws {
        let scratch = try OneNodeDirectory(name: "unread-output", sections: "[executor]\nallow_shell = true\nshell_allow = [\"/bin/sh\"]\n")
        defer { scratch.remove() }
        let result = try QuorumBinary.runToCompletion(QuorumBinary.path, ["certs", "init", "--config", "c.toml", "--out", "certs"],
                                                      in: scratch.directory)
        try #require(result.exitCode == 0, "quorum certs init: \(result.output)")

        let node = NodeProcess(id: "n1", directory: scratch.directory, configFile: "c.toml", output: .pipeWithoutReader)
        try node.start()
        defer { node.send(SIGKILL) }
        let api = APIClient(baseURL: "http://127.0.0.1:\(scratch.ports[1])")
        // A node killed by SIGPIPE exits with status 13.
        try await node.eventuallyWhileRunning("n1 leads") { () -> Bool? in
            guard let response = try? await api.get("/api/cluster"), response.status == 200,
                  let info = try? response.decode(ClusterInfo.self) else { return nil }
            return info.leader == "n1" ? true : nil
        }
        // Each write is a line of the audit log, to the same pipe. The job prints the signals its
        // process ignores: SIGPIPE (bit 13, 0x1000) must not be among them — the node's choice
        // stays the node's, and `yes | head` in a task ends as it does in a terminal.
        let submission = JobSubmission(name: "unread", task: .shell(["/bin/sh", "-c", "grep SigIgn /proc/self/status"]))
        let id = try await api.post("/api/jobs", json: submission).expect(201, as: Created.self).id
        try await node.eventuallyWhileRunning("the job succeeded") { () -> Bool? in
            guard let response = try? await api.get("/api/jobs/\(id)"), response.status == 200 else { return nil }
            return try response.decode(Job.self).state == "succeeded" ? true : nil
        }
        #expect(node.isRunning)
        let attempts = try await api.get("/api/jobs/\(id)/runs").expect(200, as: Items<Attempt>.self).items
        let line = try #require(attempts.first?.outputTail).trimmingCharacters(in: .whitespacesAndNewlines)
        let mask = try #require(UInt64(line.split(separator: "\t").last ?? "", radix: 16), "\(line)")
        #expect(mask & (1 << (SIGPIPE - 1)) == 0, "the task's ignored signals: \(line)")
    }
}
