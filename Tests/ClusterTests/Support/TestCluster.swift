import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A real cluster of `quorum node` processes on loopback for one test.
///
/// ``with(nodes:_:)`` writes a config with free ports into a fresh temporary directory, creates
/// dev certificates there (`quorum certs init`), starts one process per node (cwd = that
/// directory, logs in `logs/<id>.log`), waits for a leader, runs the test body and then kills
/// every process it started, whether the body passed, failed or threw. The directory is removed
/// unless the body threw or `QUORUM_KEEP_CLUSTER=1`; a thrown error carries every node's log tail.
final class TestCluster: Sendable {
    /// Timing used by every test cluster: Raft as in the shipped configs, short leases and
    /// shutdown grace so failures are noticed (and tests end) quickly.
    struct Timing: Sendable {
        var heartbeatMs = 50
        var electionMs = (300, 600)
        var leaseMs = 1_500
        var shutdownGraceMs = 200
        /// SIGTERM→SIGKILL of a stopped task (the fencing margin grows with it: kill grace +
        /// the largest election timeout + max(500, lease/4) = 2.1 s here).
        var killGraceMs = 1_000
        var slots = 4
        /// `[executor] prefetch`, when set.
        var prefetch: Int?
        /// `[raft] max_entry_bytes`, when not the default.
        var maxEntryBytes: Int?
        /// `[executor] run_as`, if set (the node processes must run as root).
        var runAs: String?
        /// More TOML tables, written after `[executor]` (say `[api.limits]`).
        var extraConfig = ""
        /// More tables appended to the cluster file verbatim (e.g. `[quotas]`).
        var extraTables = ""
        /// `[cluster] digest_interval_entries`, when not the default.
        var digestIntervalEntries: Int?
        /// `[cluster] cpu_scheduling`, when set.
        var cpuScheduling: String?
        /// `labels = {…}` of a node's `[[nodes]]` entry, by node id (the inline table's inside:
        /// `gpu = "true"`).
        var nodeLabels: [String: String] = [:]
        /// A spec file of the wall-clock preload (`libChaosWallClock.so`, beside the `quorum`
        /// binary) that every node reads: the test moves all the nodes' wall clocks at once by
        /// rewriting it (``WallClockFile``). `nil`: real time, no preload.
        var wallClockFile: String?
        /// Variables added to a node's environment, by node id (a test-only hook's, say);
        /// ``TestCluster/setEnvironment(of:_:)`` changes them for a restart.
        var nodeEnvironment: [String: [String: String]] = [:]
    }

    /// The founding node ids, `n1`…`nN`.
    let ids: [String]
    /// Spare nodes (`nN+1`…): certificates and an `[[nodes]]` entry in `join.toml` (which lists
    /// every node), not in the founders' `c.toml`; ``startSpare(_:)`` starts one with `--join`.
    let spareIDs: [String]
    /// The temporary directory (config, certs, data, logs; shell jobs' scratch files).
    let directory: String
    private let nodes: [String: NodeProcess]
    private let apiPorts: [String: Int]

    private init(ids: [String], spareIDs: [String], directory: String, nodes: [String: NodeProcess], apiPorts: [String: Int]) {
        self.ids = ids
        self.spareIDs = spareIDs
        self.directory = directory
        self.nodes = nodes
        self.apiPorts = apiPorts
    }

    /// Runs `body` with a started `count`-node cluster that has a leader; stops every process
    /// afterwards. A bind clash at start (another process took a picked port) starts over with
    /// new ports, up to three times.
    ///
    /// `beforeStart` runs once the directory, config and certificates exist and before any node
    /// starts (a restore test builds the data directories there).
    static func with<T>(nodes count: Int, spares: Int = 0, timing: Timing = Timing(),
                        beforeStart: (TestCluster) throws -> Void = { _ in },
                        _ body: (TestCluster) async throws -> T) async throws -> T {
        var lastError: (any Error)?
        for _ in 1...3 {
            let cluster = try create(count: count, spares: spares, timing: timing)
            do {
                try beforeStart(cluster)
                try await cluster.startAll()
            } catch let error as StartFailure where error.portClash {
                cluster.killAll()
                cluster.removeDirectory()
                lastError = error
                continue
            } catch {
                cluster.killAll()
                throw ClusterError("\(error)\n\(cluster.logTails())\n(kept \(cluster.directory))")
            }
            let result: T
            do {
                result = try await body(cluster)
            } catch {
                cluster.killAll()
                throw ClusterError("\(error)\n\(cluster.logTails())\n(kept \(cluster.directory))")
            }
            cluster.killAll()
            if ProcessInfo.processInfo.environment["QUORUM_KEEP_CLUSTER"] == "1" {
                print("cluster directory kept: \(cluster.directory)")
            } else {
                cluster.removeDirectory()
            }
            return result
        }
        throw ClusterError("could not start a cluster after 3 tries: \(lastError.map { "\($0)" } ?? "?")")
    }

    private static func create(count: Int, spares: Int, timing: Timing) throws -> TestCluster {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("quorum-cluster-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let ids = (1...count).map { "n\($0)" }
        let spareIDs = (0..<spares).map { "n\(count + 1 + $0)" }
        let ports = try LoopbackPorts.free(2 * (count + spares))
        var config = """
            [cluster]
            name = "test-\(count)"
            data_dir = "data/{id}"
            \(timing.digestIntervalEntries.map { "digest_interval_entries = \($0)" } ?? "")
            \(timing.cpuScheduling.map { "cpu_scheduling = \"\($0)\"" } ?? "")

            [raft]
            heartbeat_ms = \(timing.heartbeatMs)
            election_timeout_ms = [\(timing.electionMs.0), \(timing.electionMs.1)]
            \(timing.maxEntryBytes.map { "max_entry_bytes = \($0)" } ?? "")

            [tls]
            ca = "certs/ca.pem"
            cert = "certs/{id}.pem"
            key = "certs/{id}.key"

            [executor]
            slots = \(timing.slots)
            \(timing.prefetch.map { "prefetch = \($0)" } ?? "")
            allow_shell = true
            shell_allow = ["/bin/*", "/usr/bin/*"]
            lease_ms = \(timing.leaseMs)
            shutdown_grace_ms = \(timing.shutdownGraceMs)
            kill_grace_ms = \(timing.killGraceMs)
            \(timing.runAs.map { "run_as = \"\($0)\"" } ?? "")
            \(timing.extraTables)

            \(timing.extraConfig)

            """
        var apiPorts: [String: Int] = [:]
        var joinConfig = config
        for (index, id) in (ids + spareIDs).enumerated() {
            apiPorts[id] = ports[2 * index + 1]
            let entry = """

                [[nodes]]
                id = "\(id)"
                raft = "127.0.0.1:\(ports[2 * index])"
                api = "127.0.0.1:\(ports[2 * index + 1])"
                \(timing.nodeLabels[id].map { "labels = {\($0)}" } ?? "")

                """
            if index < count { config += entry }
            joinConfig += entry
        }
        try config.write(toFile: "\(directory)/c.toml", atomically: true, encoding: .utf8)
        try joinConfig.write(toFile: "\(directory)/join.toml", atomically: true, encoding: .utf8)
        let certs = try QuorumBinary.runToCompletion(QuorumBinary.path, ["certs", "init", "--config", "join.toml", "--out", "certs"],
                                                     in: directory)
        guard certs.exitCode == 0 else {
            throw ClusterError("quorum certs init exited \(certs.exitCode): \(certs.output)")
        }
        var nodes: [String: NodeProcess] = [:]
        let environment = timing.wallClockFile.map(WallClockFile.environment(spec:)) ?? [:]
        for id in ids {
            nodes[id] = NodeProcess(id: id, directory: directory, configFile: "c.toml", environment: environment)
            nodes[id]?.setEnvironment(timing.nodeEnvironment[id] ?? [:])
        }
        let joinURLs = ids.compactMap { apiPorts[$0].map { "http://127.0.0.1:\($0)" } }.joined(separator: ",")
        for id in spareIDs {
            nodes[id] = NodeProcess(id: id, directory: directory, configFile: "join.toml", extraArguments: ["--join", joinURLs],
                                    environment: environment)
        }
        return TestCluster(ids: ids, spareIDs: spareIDs, directory: directory, nodes: nodes, apiPorts: apiPorts)
    }

    private struct StartFailure: Error, CustomStringConvertible {
        var description: String
        var portClash: Bool
    }

    private func startAll() async throws {
        for id in ids { try node(id).start() }
        do {
            _ = try await waitForLeader(timeout: .seconds(30))
            // A node that could not bind a port (another process took it after it was picked)
            // exits at once, and the others can elect a leader without it: every node must answer.
            _ = try await eventually("every node to answer /healthz", timeout: .seconds(30)) { () -> Bool? in
                let exited = ids.filter { !node($0).isRunning }
                guard exited.isEmpty else { throw ClusterError("nodes exited: \(exited)") }
                for id in ids {
                    guard (try? await api(id).get("/healthz", timeout: .seconds(2)))?.status == 200 else { return nil }
                }
                return true
            }
        } catch {
            let exited = ids.filter { !node($0).isRunning }
            let clash = exited.contains { node($0).logTail(lines: 200).contains("in use") }
            throw StartFailure(description: "cluster did not start (exited: \(exited)): \(error)", portClash: clash)
        }
    }

    private func node(_ id: String) -> NodeProcess {
        guard let node = nodes[id] else { preconditionFailure("no node \(id) in \(ids)") }
        return node
    }

    // MARK: processes

    /// Sends `signal` (SIGKILL, SIGSTOP, SIGCONT, SIGTERM…) to node `id`'s process.
    /// After SIGKILL it also waits until the process is gone.
    func kill(_ id: String, _ signal: Int32) async throws {
        node(id).send(signal)
        if signal == SIGKILL { try await node(id).waitForExit(timeout: .seconds(10)) }
    }

    /// Sets the variables added to node `id`'s environment from its next start on.
    func setEnvironment(of id: String, _ added: [String: String]) {
        node(id).setEnvironment(added)
    }

    /// Starts node `id` again (it must not be running) with its data directory as it was left.
    func restart(_ id: String) throws {
        try node(id).start()
    }

    /// Starts spare node `id` with `quorum node --config join.toml --id ID --join URLS` and `more`
    /// arguments (say `--voter`).
    func startSpare(_ id: String, adding more: [String] = []) throws {
        try node(id).start(adding: more)
    }

    /// Node `id`'s raft and API addresses (`127.0.0.1:PORT`), as `join.toml` lists them.
    func addresses(of id: String) throws -> (raft: String, api: String) {
        let text = try String(contentsOfFile: "\(directory)/join.toml", encoding: .utf8)
        guard let range = text.range(of: "id = \"\(id)\"\n") else { throw ClusterError("no [[nodes]] entry for \(id)") }
        let lines = text[range.upperBound...].split(separator: "\n").prefix(2)
        func value(_ line: Substring?) -> String {
            String(line?.split(separator: "\"").dropFirst().first ?? "")
        }
        return (value(lines.first), value(lines.dropFirst().first))
    }

    /// Whether node `id`'s process runs (stopped counts as running).
    func isRunning(_ id: String) -> Bool { node(id).isRunning }

    /// The pid of node `id`, if it runs.
    func pid(_ id: String) -> Int32? { node(id).pid }

    /// How node `id`'s last process ended, if it did.
    func exitStatus(_ id: String) -> Int32? { node(id).exitStatus }

    /// Kills every process this cluster started (SIGCONT first, in case one is stopped) and
    /// waits for each to be reaped.
    func killAll() {
        let ids = self.ids + spareIDs
        for id in ids {
            node(id).send(SIGCONT)
            node(id).send(SIGKILL)
        }
        let deadline = ContinuousClock.now + .seconds(10)
        while ids.contains(where: { node($0).isRunning }), ContinuousClock.now < deadline {
            usleep(10_000)
        }
    }

    private func removeDirectory() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    // MARK: API

    /// A client for node `id`'s API.
    func api(_ id: String) -> APIClient {
        guard let port = apiPorts[id] else { preconditionFailure("no node \(id) in \(ids)") }
        return APIClient(baseURL: "http://127.0.0.1:\(port)")
    }

    /// The last `lines` lines of node `id`'s log.
    func logTail(_ id: String, lines: Int = 200) -> String { node(id).logTail(lines: lines) }

    /// The last lines of every node's log, for failure messages.
    func logTails(lines: Int = 30) -> String {
        (ids + spareIDs).map { id in
            let state = node(id).isRunning ? "running" : "exited \(node(id).exitStatus.map(String.init) ?? "?")"
            return "----- \(id) (\(state)) \(node(id).logPath) -----\n\(node(id).logTail(lines: lines))"
        }.joined(separator: "\n")
    }

    /// `GET /api/cluster` on node `id`, or nil if it does not answer.
    func clusterInfo(_ id: String) async -> ClusterInfo? {
        guard let response = try? await api(id).get("/api/cluster", timeout: .seconds(2)), response.status == 200 else { return nil }
        return try? response.decode(ClusterInfo.self)
    }

    /// Waits until every node of `among` (default: all running ones) that answers names the same
    /// leader in the same term, the leader itself among them; returns it with the term.
    @discardableResult
    func waitForLeader(among: [String]? = nil, excluding: Set<String> = [], timeout: Duration = .seconds(30))
        async throws -> (leader: String, term: UInt64)
    {
        try await eventually("a leader agreed on by \(among ?? ids.filter { isRunning($0) })", timeout: timeout) {
            let members = (among ?? self.ids.filter { self.isRunning($0) }).filter { !excluding.contains($0) }
            var seen: [(String, UInt64)] = []
            for id in members {
                guard let info = await self.clusterInfo(id), let leader = info.leader else { return nil }
                seen.append((leader, info.term))
            }
            guard let first = seen.first, seen.allSatisfy({ $0 == first }), members.contains(first.0),
                  !excluding.contains(first.0) else { return nil }
            return (first.0, first.1)
        }
    }

    /// The ids of running nodes other than `id`.
    func others(than id: String) -> [String] { ids.filter { $0 != id && isRunning($0) } }

    // MARK: jobs

    /// Submits `job` to node `id` and returns its id (201 expected).
    func submit(_ job: JobSubmission, to id: String) async throws -> String {
        try await api(id).post("/api/jobs", json: job).expect(201, as: Created.self).id
    }

    /// Submits `job` to node `id` as a client should right after a failover: with an
    /// `Idempotency-Key`, retrying a 503 (no leader yet, no connection to the new one, or an
    /// unknown outcome) until a 201, for at most `within`. Returns the job's id.
    func submitRetrying(_ job: JobSubmission, to id: String, key: String, within: Duration = .seconds(15)) async throws -> String {
        try await eventually("a 201 for \(key) from \(id)", timeout: within, poll: .milliseconds(200)) { () -> String? in
            let response = try await api(id).post("/api/jobs", json: job, headers: ["Idempotency-Key": key], timeout: .seconds(10))
            if response.status == 503 { return nil }
            return try response.expect(201, as: Created.self).id
        }
    }

    /// `GET /api/jobs/{job}` on node `id` (optionally stale).
    func job(_ job: String, on id: String, stale: Bool = false) async throws -> Job {
        try await api(id).get("/api/jobs/\(job)\(stale ? "?stale=true" : "")").expect(200, as: Job.self)
    }

    /// Every attempt of `job`, oldest first.
    func attempts(of job: String, on id: String) async throws -> [Attempt] {
        let items = try await api(id).get("/api/jobs/\(job)/runs").expect(200, as: Items<Attempt>.self).items
        return items.sorted { ($0.runId, $0.attempt) < ($1.runId, $1.attempt) }
    }

    /// The executors of `jobs`' latest attempts if every one of them is running, else nil.
    func executorsIfAllRunning(_ jobs: [String], on id: String) async throws -> [String]? {
        var executors: [String] = []
        for job in jobs {
            let latest = try await attempts(of: job, on: id).last
            guard let latest, latest.state == "running", let executor = latest.executor else { return nil }
            executors.append(executor)
        }
        return executors
    }

    /// Waits until `job` is in `state` as node `id` sees it; returns the job.
    @discardableResult
    func waitForJob(_ job: String, on id: String, state: String, stale: Bool = false,
                    timeout: Duration = .seconds(30)) async throws -> Job {
        var last = "never answered"
        do {
            return try await eventually("job \(job) \(state) on \(id)", timeout: timeout) {
                guard let found = try? await self.job(job, on: id, stale: stale) else { return nil }
                last = "\(found.state), attempts \(found.runs.map { "\($0.attempt):\($0.outcome ?? $0.state)@\($0.executor ?? "-")" })"
                return found.state == state ? found : nil
            }
        } catch {
            throw ClusterError("\(error); last seen: \(last)")
        }
    }
}

/// Polls `check` until it returns a value or `timeout` passes (then throws naming `what`).
/// A bounded wait on a condition: polling, never sleeping to synchronise.
@discardableResult
func eventually<T>(_ what: String, timeout: Duration = .seconds(30), poll: Duration = .milliseconds(50),
                   _ check: () async throws -> T?) async throws -> T {
    let start = ContinuousClock.now
    while true {
        if let value = try await check() { return value }
        guard ContinuousClock.now - start < timeout else {
            throw ClusterError("timed out after \(timeout) waiting for \(what)")
        }
        try await Task.sleep(for: poll)
    }
}
