import Foundation
import NIOCore
import NIOPosix

/// One `quorum chaos` run: generate and start a cluster, drive the workload and the nemesis,
/// heal, wait for quiescence, read the final state, check, and write the report.
public enum ChaosRun {
    /// Runs with `options`, printing progress with `say` (the seed first, the verdict line last).
    /// Returns whether every count is zero. Throws only when the run could not be carried out.
    public static func run(_ options: ChaosOptions, say: @escaping @Sendable (String) -> Void) async throws -> Bool {
        try options.validate()
        let out = options.outDirectory
        let which = options.existing.map { "existing cluster \($0.configPath) of " } ?? ""
        say("chaos: seed \(options.seed), \(which)\(options.nodes) nodes, \(Int(options.duration))s, nemesis "
            + "\(options.nemeses.map(\.rawValue).joined(separator: ",")), output in \(out)")
        do {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        } catch {
            throw ChaosError.setup("could not create --out \(out): \(error)")
        }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let http = ChaosHTTP(group: group)
        let cluster: LocalCluster
        do {
            if let existing = options.existing {
                cluster = try LocalCluster.attach(existing, directory: out + "/cluster")
            } else {
                cluster = try await LocalCluster.create(count: options.nodes, directory: out + "/cluster", binary: options.binary,
                                                    linkQuality: options.linkQuality, fakeClock: options.nemeses.contains(.clock),
                                                    prefetch: options.prefetch, group: group)
            }
        } catch {
            await http.shutdown()
            try? await group.shutdownGracefully()
            throw error
        }
        let result: Result<Bool, any Error>
        do {
            result = .success(try await drive(cluster, http: http, options: options, say: say))
        } catch {
            result = .failure(error)
        }
        await cluster.shutdown()
        await http.shutdown()
        try? await group.shutdownGracefully()
        return try result.get()
    }

    private static func drive(_ cluster: LocalCluster, http: ChaosHTTP, options: ChaosOptions,
                              say: @escaping @Sendable (String) -> Void) async throws -> Bool {
        let out = options.outDirectory
        let pidFile = out + "/pids"
        try cluster.startAll()
        try? cluster.pidList().write(toFile: pidFile, atomically: true, encoding: .utf8)
        guard let leader = await waitForLeader(cluster, http: http, timeout: .seconds(90)) else {
            throw ChaosError.setup("the cluster elected no leader within 90 s; node logs in \(cluster.directory)/logs")
        }
        say("chaos: cluster up in \(cluster.directory), leader \(leader)")

        let recorder = HistoryRecorder(path: out + "/history.jsonl")
        defer { recorder.close() }
        let ledgerClockOrigin = recorder.uptimeOrigin()
        let registry = WorkloadRegistry()
        let workload = Workload(http: http, ids: cluster.ids, urls: cluster.apiURLs, recorder: recorder, registry: registry,
                                ledgerPath: cluster.ledgerPath, seed: options.seed)
        let nemesis = Nemesis(cluster: cluster, http: http, recorder: recorder, unsafe: options.unsafe, pidFile: pidFile)
        let plan = FaultPlan.make(seed: options.seed, nodes: options.nodes, duration: options.duration, kinds: options.nemeses,
                                  unsafe: options.unsafe)
        let cronID = await workload.submitCron(options.clients)
        if cronID == nil { say("chaos: the forbid cron job could not be created; no forbid check this run") }
        let end = recorder.now() + options.duration
        let faults = await withTaskGroup(of: [(description: String, start: Double, end: Double)].self) { tasks in
            for client in 0..<options.clients {
                tasks.addTask { await workload.runClient(client, until: end); return [] }
            }
            if let cronID {
                tasks.addTask { await workload.runTriggers(options.clients, cronID: cronID, until: end); return [] }
            }
            tasks.addTask { await nemesis.run(plan, until: end) }
            var all: [(description: String, start: Double, end: Double)] = []
            for await applied in tasks { all += applied }
            return all
        }
        for fault in faults { say("chaos: fault \(fault.description) from \(String(format: "%.1f", fault.start))s to \(String(format: "%.1f", fault.end))s") }

        nemesis.healAll()
        say("chaos: workload done; healed everything, waiting for a leader and for every acknowledged job to finish")
        guard await waitForLeader(cluster, http: http, timeout: .seconds(60)) != nil else {
            throw ChaosError.setup("no leader within 60 s after healing; node logs in \(cluster.directory)/logs")
        }
        let operations = Operation.pair(recorder.entries)
        let observer = FinalObserver(http: http, ids: cluster.ids, urls: cluster.apiURLs)
        var observations = await settle(operations, observer: observer, registry: registry, seconds: options.settle)
        observations.ledger = ((try? String(contentsOfFile: cluster.ledgerPath, encoding: .utf8)) ?? "")
            .split(separator: "\n").map(String.init)
        observations.digests = await observer.digests(for: .seconds(20))
        if let cronID { observations.forbidRuns[cronID] = .some(await observer.runs(cronID)) }
        observations.ledgerClockOrigin = ledgerClockOrigin

        let checked = ChaosChecker.check(operations, observations, processEnds: Operation.processEnds(recorder.entries))
        let line = checked.verdict.line(jobs: checked.ackedJobs, dags: checked.ackedDAGs, faults: faults.count, seed: options.seed)
        var report = "seed \(options.seed)\nfaults:\n"
            + faults.map { "  \($0.description) \(String(format: "%.1f", $0.start))s–\(String(format: "%.1f", $0.end))s\n" }.joined()
        report += "digests (node: samples, highest applied index and its digest):\n"
        for (node, byIndex) in observations.digests.sorted(by: { $0.key < $1.key }) {
            let top = byIndex.keys.max()
            report += "  \(node): \(byIndex.count), \(top.map(String.init) ?? "none") \(top.flatMap { byIndex[$0] } ?? "")\n"
        }
        let measures = Self.measures(operations, recorder.entries, observations, nodes: cluster.ids, end: end)
        report += measures.map { "\($0)\n" }.joined()
        // Lets a reader turn the cancelled jobs' timed ledger lines into history times.
        report += "ledger clock (/proc/uptime) at time zero: \(ledgerClockOrigin.map { ChaosChecker.format($0) } ?? "unknown") s\n"
        report += "findings:\n" + checked.verdict.findings.map { "  \($0)\n" }.joined()
        report += line + "\n"
        try? report.write(toFile: out + "/report.txt", atomically: true, encoding: .utf8)
        try? LatencyPlot.svg(operations, faults: faults.map { ($0.start, $0.end) })
            .write(toFile: out + "/latency.svg", atomically: true, encoding: .utf8)
        for line in measures { say("chaos: " + line) }
        for finding in checked.verdict.findings.prefix(30) { say("chaos: " + finding) }
        if checked.verdict.findings.count > 30 { say("chaos: … \(checked.verdict.findings.count - 30) more in \(out)/report.txt") }
        say(line)
        return checked.verdict.passed
    }

    /// The report's measurements (not counts): each node's longest window of refused writes
    /// (``WriteRefusals``) and how far scheduler time fell behind (``SchedulerLag``), printed and
    /// written to `report.txt`.
    static func measures(_ operations: [Operation], _ entries: [HistoryEntry], _ observations: FinalObservations,
                         nodes: [String], end: Double) -> [String] {
        let windows = WriteRefusals.longest(operations, end: end)
        let worst = windows.values.max(by: { $0.seconds < $1.seconds })
        var lines = ["writes refused per node (longest window; max \(ChaosChecker.format(worst?.seconds ?? 0)) s):"]
        lines += WriteRefusals.report(windows, nodes: nodes).map { "  " + $0 }
        let runs = observations.forbidRuns.values.compactMap { $0 }.flatMap { $0 }
        let lag = SchedulerLag.worst(entries, runs: runs)
        if let sample = lag.worst {
            lines.append("scheduler time behind real time: max \(ChaosChecker.format(sample.seconds)) s at "
                + "\(ChaosChecker.format(sample.at)) s (run \(sample.run); \(lag.samples) triggered runs)")
        } else {
            lines.append("scheduler time behind real time: not measured (no triggered run of the forbid job was read)")
        }
        return lines
    }

    /// Reads the final state until every acknowledged job and DAG run is terminal, or `seconds` pass.
    private static func settle(_ operations: [Operation], observer: FinalObserver, registry: WorkloadRegistry,
                               seconds: Double) async -> FinalObservations {
        let jobIDs = Set(operations.filter { $0.kind == .submitJob && $0.completion == .ok }.compactMap(\.id)).sorted()
        let dagIDs = Set(operations.filter { $0.kind == .submitDAG && $0.completion == .ok }.compactMap(\.id)).sorted()
        var observations = FinalObservations(tags: registry.tags)
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        var pendingJobs = jobIDs
        var pendingDAGs = dagIDs
        while true {
            var stillJobs: [String] = []
            for (id, job) in await readAll(pendingJobs, { await observer.job($0) }) {
                observations.jobs[id] = .some(job)
                if let job, !StatusOrder.terminal.contains(job.state), job.state != "missing" { stillJobs.append(id) }
                if job == nil { stillJobs.append(id) }
            }
            var stillDAGs: [String] = []
            for (id, dag) in await readAll(pendingDAGs, { await observer.dag($0) }) {
                observations.dags[id] = .some(dag)
                if dag.map({ ["running"].contains($0.state) }) ?? true { stillDAGs.append(id) }
            }
            pendingJobs = stillJobs
            pendingDAGs = stillDAGs
            if pendingJobs.isEmpty && pendingDAGs.isEmpty || ContinuousClock.now >= deadline { break }
            try? await Task.sleep(for: .seconds(1))
        }
        for key in registry.unresolvedKeys {
            observations.jobsByUnresolvedKey[key] = .some(await observer.jobs(labelled: key))
        }
        return observations
    }

    /// `read` of every id, eight at a time (a 10-minute run acknowledges thousands of jobs), in `ids` order.
    private static func readAll<T: Sendable>(_ ids: [String], _ read: @escaping @Sendable (String) async -> T?) async -> [(String, T?)] {
        var results: [Int: T?] = [:]
        await withTaskGroup(of: (Int, T?).self) { group in
            var next = 0
            for _ in 0..<min(8, ids.count) {
                let index = next
                group.addTask { (index, await read(ids[index])) }
                next += 1
            }
            for await (index, value) in group {
                results[index] = .some(value)
                if next < ids.count {
                    let index = next
                    group.addTask { (index, await read(ids[index])) }
                    next += 1
                }
            }
        }
        return ids.indices.map { (ids[$0], results[$0] ?? nil) }
    }

    /// Waits until every node answers `/api/cluster` naming the same leader; returns it.
    private static func waitForLeader(_ cluster: LocalCluster, http: ChaosHTTP, timeout: Duration) async -> String? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            var leaders: Set<String> = []
            var answered = 0
            for id in cluster.ids {
                let outcome = await http.send(.GET, "\(cluster.apiURLs[id] ?? "")/api/cluster", timeout: .seconds(1))
                if let leader = outcome.object?["leader"] as? String {
                    leaders.insert(leader)
                    answered += 1
                }
            }
            if answered == cluster.ids.count, leaders.count == 1, let leader = leaders.first { return leader }
            try? await Task.sleep(for: .milliseconds(200))
        }
        return nil
    }
}
