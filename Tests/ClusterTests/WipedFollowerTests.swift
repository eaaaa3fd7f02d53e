import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension RealClusterTests {
    /// The repair docs/storage.md tells an operator to do after damage: wipe the follower's data
    /// directory and start it again. The leader used to keep its old match index for it, never
    /// sent it the log, and kept assigning attempts to it, which sat `running` until their
    /// timeout (an hour by default).
    @Suite("a follower whose data directory is wiped")
    struct WipedFollowerTests {
        @Test("wipe a follower's data dir under load: it serves every earlier job within 15 s, and no job is stuck on it")
        func wipedFollowerIsRepaired() async throws {
            try await TestCluster.with(nodes: 3) { cluster in
                let (leader, _) = try await cluster.waitForLeader()
                let follower = try #require(cluster.others(than: leader).first)
                var before: [String] = []
                for index in 0..<20 {
                    before.append(try await cluster.submit(JobSubmission(name: "before-\(index)", task: .sleep(0.05)), to: leader))
                }
                for id in before { try await cluster.waitForJob(id, on: leader, state: "succeeded") }

                // Issue #10: the leader records the follower's incarnation before the wipe…
                let incarnationFile = "\(cluster.directory)/data/\(follower)/INCARNATION"
                let old = try Self.incarnation(in: incarnationFile)
                try await eventually("the leader to record \(follower)'s incarnation", timeout: .seconds(15)) { () -> Bool? in
                    Self.membershipLog(cluster, except: follower).contains("\(follower):0x\(String(old, radix: 16))") ? true : nil
                }

                try await cluster.kill(follower, SIGKILL)
                try FileManager.default.removeItem(atPath: "\(cluster.directory)/data/\(follower)")
                try cluster.restart(follower)
                let restarted = ContinuousClock.now

                // Load while it catches up: jobs that would sit on the wiped node for their whole
                // (default, one hour) timeout if it were given work it never learns of.
                var during: [String] = []
                for index in 0..<30 {
                    during.append(try await cluster.submit(JobSubmission(name: "during-\(index)", task: .sleep(0.2)), to: leader))
                }
                for id in before {
                    let left = max(.zero, .seconds(15) - (ContinuousClock.now - restarted))
                    try await cluster.waitForJob(id, on: follower, state: "succeeded", stale: true, timeout: left)
                }
                for id in during { try await cluster.waitForJob(id, on: leader, state: "succeeded", timeout: .seconds(30)) }
                // And the repaired node takes work again.
                try await eventually("the wiped follower to run an attempt again", timeout: .seconds(30)) { () -> Bool? in
                    let id = try await cluster.submit(JobSubmission(name: "after", task: .sleep(0.05)), to: leader)
                    let done = try await cluster.waitForJob(id, on: leader, state: "succeeded")
                    return done.runs.contains { $0.executor == follower } ? true : nil
                }
                // …and, after it, demotes the follower (its new directory may have lost a vote) and
                // promotes it again with the new incarnation once it caught up.
                let new = try Self.incarnation(in: incarnationFile)
                #expect(new != old)
                try await eventually("the leader to re-promote \(follower) with its new incarnation", timeout: .seconds(30)) { () -> Bool? in
                    let log = Self.membershipLog(cluster, except: follower)
                    let demoted = log.contains("learners=[\"\(follower)\"]") || log.contains("learners=[\\\"\(follower)\\\"]")
                    return demoted && log.contains("\(follower):0x\(String(new, radix: 16))") ? true : nil
                }
                // /api/cluster shows the new incarnation.
                try await eventually("/api/cluster to show \(follower)'s new incarnation", timeout: .seconds(10)) { () -> Bool? in
                    let info = await cluster.clusterInfo(leader)
                    return info?.nodes.first { $0.id == follower }?.incarnation == "0x\(String(new, radix: 16))" ? true : nil
                }
                // The follower said why it did not vote, and when it votes again.
                try await eventually("\(follower) to log that it votes again", timeout: .seconds(10)) { () -> Bool? in
                    let log = (try? String(contentsOfFile: "\(cluster.directory)/logs/\(follower).log", encoding: .utf8)) ?? ""
                    return log.contains("abstaining from elections") && log.contains("voting again") ? true : nil
                }
                // The cluster keeps writing with the re-promoted voter.
                let last = try await cluster.submit(JobSubmission(name: "re-promoted", task: .sleep(0.05)), to: leader)
                try await cluster.waitForJob(last, on: leader, state: "succeeded")
            }
        }

        /// The id in an `INCARNATION` file (docs/storage.md: little-endian u64 at byte 8).
        static func incarnation(in path: String) throws -> UInt64 {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            try #require(bytes.count == 20, "\(path) is \(bytes.count) bytes")
            return (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[8 + $1]) << (8 * UInt64($1)) }
        }

        /// The `membership changed` lines every node but `excluded` logged so far.
        static func membershipLog(_ cluster: TestCluster, except excluded: String) -> String {
            cluster.ids.filter { $0 != excluded }.compactMap { id in
                try? String(contentsOfFile: "\(cluster.directory)/logs/\(id).log", encoding: .utf8)
            }.flatMap { $0.split(separator: "\n") }.filter { $0.contains("membership changed") }.joined(separator: "\n")
        }
    }
}
