import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension RealClusterTests {
    @Suite("run_as on a real cluster")
    struct RunAsClusterTests {
        static let user = "quorum-task-test"

        /// `useradd --system --no-create-home` unless the user exists; whether it exists now.
        static func ensureUser() throws -> Bool {
            if getpwnam(user) != nil { return true }
            let useradd = Process()
            useradd.executableURL = URL(fileURLWithPath: "/usr/sbin/useradd")
            useradd.arguments = ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", user]
            try useradd.run()
            useradd.waitUntilExit()
            return getpwnam(user) != nil
        }

        @Test("a shell task run as [executor] run_as cannot read any node's key or list any data directory")
        func taskCannotReadNodeSecrets() async throws {
            guard getuid() == 0 else {
                print("RunAsClusterTests skipped: the test runs as uid \(getuid()), and only root can switch users")
                return
            }
            try #require(try Self.ensureUser(), "could not create the user \(Self.user)")
            let expectedUID = try #require(getpwnam(Self.user)).pointee.pw_uid
            var timing = TestCluster.Timing()
            timing.runAs = Self.user
            try await TestCluster.with(nodes: 3, timing: timing) { cluster in
                let (leader, _) = try await cluster.waitForLeader()
                // Only the files' own modes may stop the task: the directories above them are searchable.
                for directory in [cluster.directory, "\(cluster.directory)/certs", "\(cluster.directory)/data"] {
                    try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory)
                }
                let keys = cluster.ids.map { "\(cluster.directory)/certs/\($0).key" }
                let data = cluster.ids.map { "\(cluster.directory)/data/\($0)" }
                let script = "id -u; cat \(keys.joined(separator: " ")) 2>&1; ls \(data.joined(separator: " ")) 2>&1; exit 0"
                let id = try await cluster.submit(JobSubmission(name: "snoop", task: .shell(["/bin/sh", "-c", script])), to: leader)
                let job = try await cluster.waitForJob(id, on: leader, state: "succeeded")
                let output = try #require(job.runs.last?.outputTail)
                #expect(output.hasPrefix("\(expectedUID)\n"), "\(output)")
                #expect(output.components(separatedBy: "Permission denied").count - 1 == keys.count + data.count, "\(output)")
                #expect(!output.contains("PRIVATE KEY"), "\(output)")
                #expect(!output.contains("wal"), "\(output)")
            }
        }
    }
}
