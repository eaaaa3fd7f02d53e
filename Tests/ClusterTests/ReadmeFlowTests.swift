import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension RealClusterTests {
    /// The one test on the documented ports: `scripts/cluster-up.sh 3`, the seed's `curl`
    /// request, `scripts/cluster-down.sh`. It runs on a copy of `cluster/` and `scripts/` in a
    /// temporary directory, so no `data/` or `certs/` lands in the repository.
    @Suite("the README flow on the documented ports")
    struct ReadmeFlowTests {
        /// The seed's request, verbatim (`docs/api.md`, "The seed request works as it is").
        static let seedRequest = [
            "-X", "POST", "http://localhost:8080/api/jobs", "-H", "Content-Type: application/json",
            "-d", #"{"name":"example-job","type":"cron","schedule":"0 * * * *","priority":1}"#,
        ]

        @Test("cluster-up.sh 3, the seed's curl request answers 201, cluster-down.sh stops every node")
        func clusterUpSeedRequestClusterDown() async throws {
            let ports = [8080, 8081, 8082, 7001, 7002, 7003]
            let taken = ports.filter { !LoopbackPorts.isFree($0) }
            guard taken.isEmpty else {
                throw ClusterError("ports \(taken) on 127.0.0.1 are in use by another process; this test needs 8080–8082 and 7001–7003 (stop a running local cluster with scripts/cluster-down.sh)")
            }
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("quorum-readme-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            for folder in ["cluster", "scripts"] {
                try FileManager.default.copyItem(atPath: "\(QuorumBinary.repoRoot)/\(folder)", toPath: "\(directory)/\(folder)")
            }
            var passed = false
            defer {
                // Whatever happened, no node outlives the test.
                for pid in Self.pids(in: directory) where Self.isRunning(pid) { kill(pid, SIGKILL) }
                if passed { try? FileManager.default.removeItem(atPath: directory) }
            }

            let up = try QuorumBinary.runToCompletion("/bin/bash", ["scripts/cluster-up.sh", "3"], in: directory,
                                                      environment: ["QUORUM_BIN": QuorumBinary.path])
            try #require(up.exitCode == 0, "cluster-up.sh exited \(up.exitCode):\n\(up.output)\n\(Self.logTails(in: directory))")
            #expect(up.output.contains("leader elected"), "\(up.output)")
            let pids = Self.pids(in: directory)
            #expect(pids.count == 3, "pid files: \(pids)")
            // cluster/prometheus.yml's targets (file_sd_configs): every node's API, labelled.
            let targets = try JSONDecoder().decode([ScrapeTargets].self,
                                                   from: Data(contentsOf: URL(fileURLWithPath: "\(directory)/data/prometheus-targets.json")))
            #expect(targets == [ScrapeTargets(targets: ["127.0.0.1:8080", "127.0.0.1:8081", "127.0.0.1:8082"], labels: ["cluster": "local-3"])])

            let bodyFile = "\(directory)/seed-response.json"
            let curl = try QuorumBinary.runToCompletion(
                "/usr/bin/env", ["curl", "-sS", "-o", bodyFile, "-w", "%{http_code}"] + Self.seedRequest, in: directory)
            let body = (try? String(contentsOfFile: bodyFile, encoding: .utf8)) ?? ""
            #expect(curl.exitCode == 0, "\(curl.output)")
            #expect(curl.output == "201", "seed request answered \(curl.output): \(body)\n\(Self.logTails(in: directory))")
            let job = try JSONDecoder().decode(ReadmeJob.self, from: Data(body.utf8))
            #expect(job.name == "example-job")
            #expect(job.state == "scheduled")

            let down = try QuorumBinary.runToCompletion("/bin/bash", ["scripts/cluster-down.sh"], in: directory)
            #expect(down.exitCode == 0, "\(down.output)")
            #expect(down.output.contains("stopped 3 node(s)"), "\(down.output)")
            for pid in pids {
                #expect(!Self.isRunning(pid), "node pid \(pid) still runs after cluster-down.sh")
            }
            #expect(!down.output.contains("SIGKILL"), "a node needed SIGKILL: \(down.output)")
            passed = true
        }

        /// One group of a Prometheus file_sd targets file.
        private struct ScrapeTargets: Decodable, Equatable {
            var targets: [String]
            var labels: [String: String]
        }

        private struct ReadmeJob: Decodable {
            var name: String
            var state: String
        }

        /// Whether `pid` runs: it exists and is not a zombie (the nodes are not this process's
        /// children, and a container's PID 1 may never reap them).
        static func isRunning(_ pid: Int32) -> Bool {
            guard kill(pid, 0) == 0 else { return false }
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return true }
            let state = stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).prefix(1)
            return state != "Z"
        }

        /// The pids in `data/*/quorum.pid` of the copy.
        static func pids(in directory: String) -> [Int32] {
            let data = "\(directory)/data"
            guard let ids = try? FileManager.default.contentsOfDirectory(atPath: data) else { return [] }
            return ids.sorted().compactMap { id in
                (try? String(contentsOfFile: "\(data)/\(id)/quorum.pid", encoding: .utf8))
                    .flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            }
        }

        static func logTails(in directory: String) -> String {
            let data = "\(directory)/data"
            let ids = (try? FileManager.default.contentsOfDirectory(atPath: data)) ?? []
            return ids.sorted().map { id in
                let text = (try? String(contentsOfFile: "\(data)/\(id)/quorum.log", encoding: .utf8)) ?? "(no log)"
                return "----- \(id) -----\n" + text.split(separator: "\n").suffix(30).joined(separator: "\n")
            }.joined(separator: "\n")
        }
    }
}
