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
        /// Polls until `condition` holds; a node that exits fails at once, with its exit status.
        func waitUntil(_ what: String, _ condition: @escaping () async throws -> Bool) async throws {
            _ = try await eventually(what, timeout: .seconds(30), poll: .milliseconds(50)) { () -> Bool? in
                guard node.isRunning else {
                    throw ClusterError("the node exited (status \(node.exitStatus.map(String.init) ?? "?"); 13 is SIGPIPE)")
                }
                return try await condition() ? true : nil
            }
        }
        try await waitUntil("n1 leads") {
            guard let response = try? await api.get("/api/cluster"), response.status == 200,
                  let info = try? response.decode(ClusterInfo.self) else { return false }
            return info.leader == "n1"
        }
        // Each write is a line of the audit log, to the same pipe. The job prints the signals its
        // process ignores: SIGPIPE (bit 13, 0x1000) must not be among them — the node's choice
        // stays the node's, and `yes | head` in a task ends as it does in a terminal.
        let submission = JobSubmission(name: "unread", task: .shell(["/bin/sh", "-c", "grep SigIgn /proc/self/status"]))
        let id = try await api.post("/api/jobs", json: submission).expect(201, as: Created.self).id
        try await waitUntil("the job succeeded") {
            guard let response = try? await api.get("/api/jobs/\(id)"), response.status == 200 else { return false }
            return try response.decode(Job.self).state == "succeeded"
        }
        #expect(node.isRunning)
        let attempts = try await api.get("/api/jobs/\(id)/runs").expect(200, as: Items<Attempt>.self).items
        let line = try #require(attempts.first?.outputTail).trimmingCharacters(in: .whitespacesAndNewlines)
        let mask = try #require(UInt64(line.split(separator: "\t").last ?? "", radix: 16), "\(line)")
        #expect(mask & (1 << (SIGPIPE - 1)) == 0, "the task's ignored signals: \(line)")
    }
}
