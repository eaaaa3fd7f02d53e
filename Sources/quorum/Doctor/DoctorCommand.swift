import ArgumentParser
import ClusterConfig
import Foundation
import QuorumClient
import RaftStorage

/// `quorum doctor`: checks a node or a whole cluster and says what to do about each finding.
///
/// Local checks (with `--config`) look at the files of the nodes whose certificates and data
/// directories are on this machine: the config, TLS files and their expiry, free space and sync
/// latency of the data directory, and the WAL. Cluster checks ask every node's API: reachable
/// and ready, one agreed leader, replication lag and quorum as the leader sees it, clock offsets,
/// and replica state digests at equal applied indexes. Exit 1 when anything failed, 0 otherwise
/// (warnings included), 2 on bad arguments.
struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check a node or a cluster: config, certificates, disk, WAL, leader, replication, clocks, replica digests.",
        discussion: """
            With --config, checks the files of every node of that config whose TLS files or data directory are on \
            this machine (or only --id), then asks every node's API. Without --config, only the API checks, over \
            --server. Each finding is one line (ok, WARN, FAIL) with what to do under it. Exit 1 when a check \
            failed, 0 otherwise; warnings do not fail.
            """)

    @Option(name: .long, help: ArgumentHelp("The cluster config file (TOML).", valueName: "FILE"))
    var config: String?

    @Option(name: .long, help: "Check only this node's files (certificates, data directory) here.")
    var id: String?

    @Option(name: .customLong("server"), help: ArgumentHelp(
        "API base URLs to check, comma-separated (default: every node of --config, else $QUORUM_SERVER, else the local cluster's).",
        valueName: "URL[,URL…]"))
    var servers: String?

    @Option(name: .long, help: "The API bearer token (default: $QUORUM_TOKEN); needed for /api/cluster when the cluster sets [api] tokens_file.")
    var token: String?

    @Option(name: .long, help: ArgumentHelp("Trust this CA (PEM) for https:// servers (default with --config: its [tls] ca).", valueName: "FILE"))
    var cacert: String?

    @Option(name: .long, help: ArgumentHelp("A client certificate (PEM) for nodes that require one; with --key.", valueName: "FILE"))
    var cert: String?

    @Option(name: .long, help: ArgumentHelp("The private key (PEM) of --cert.", valueName: "FILE"))
    var key: String?

    @Option(name: .long, help: "Seconds to wait for each node's answer.")
    var timeout: Double = 3

    @Flag(name: .customLong("skip-cluster"), help: "Only the local checks; ask no node's API.")
    var skipCluster = false

    func run() async throws {
        guard timeout > 0, timeout <= 600 else {
            throw CLIError.invalidInput("--timeout: \(timeout) is out of range (0, 600] seconds")
        }
        var findings: [DoctorFinding] = []
        var loaded: LoadedConfig?
        if let config {
            do {
                let result = try LoadedConfig.load(file: config)
                loaded = result
                findings.append(.ok("config", "\(config): valid, \(result.config.voters.count) voters, "
                                    + "\(result.config.nodes.count - result.config.voters.count) learners"))
                findings += result.warnings.map { .warning("config", $0.description, advice: "see docs/configuration.md") }
            } catch {
                findings.append(.failure("config", error.message, advice: "fix the file; `quorum config check \(config)` shows the resolved values"))
            }
        }
        if let loaded { findings += try localFindings(loaded) }
        if !skipCluster { findings += try await clusterFindings(loaded) }
        print(DoctorReport.render(findings))
        let code = DoctorReport.exitCode(findings)
        if code != 0 { throw ExitCode(code) }
    }

    /// Certificates, disk and WAL of the nodes whose files are here.
    private func localFindings(_ loaded: LoadedConfig) throws -> [DoctorFinding] {
        let ids = loaded.config.nodes.map(\.id)
        if let id, !ids.contains(id) {
            throw CLIError.invalidInput("--id: \(id) is not a node of \(loaded.file) (nodes: \(ids.joined(separator: ", ")))")
        }
        var findings: [DoctorFinding] = []
        for nodeID in id.map({ [$0] }) ?? ids {
            let node = try loaded.resolve(id: nodeID)
            let files = FileManager.default
            let named = id != nil
            if named || files.fileExists(atPath: node.tlsCert) {
                findings += certificates(node)
            }
            var isDirectory: ObjCBool = false
            if files.fileExists(atPath: node.dataDirectory, isDirectory: &isDirectory), isDirectory.boolValue {
                findings += dataDirectory(node)
            } else if named {
                findings.append(.warning("disk \(nodeID)", "\(node.dataDirectory) does not exist",
                                         advice: "a node that never started here has none; otherwise check [cluster] data_dir"))
            }
        }
        if findings.isEmpty {
            findings.append(.warning("local", "no node of \(loaded.file) has certificates or a data directory on this machine",
                                     advice: "run doctor on each node's machine, or give --id"))
        }
        return findings
    }

    private func certificates(_ node: NodeRuntimeConfig) -> [DoctorFinding] {
        let area = "tls \(node.node.id)"
        var texts: [String] = []
        for path in [node.tlsCA, node.tlsCert, node.tlsKey] {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                return [.failure(area, "\(path) cannot be read", advice: "create the node's files with `quorum certs init` or "
                                    + "`quorum certs issue --id \(node.node.id)`, readable by the node's user")]
            }
            texts.append(text)
        }
        return CertificateCheck.findings(id: node.node.id, caPEM: texts[0], certificatePEM: texts[1], keyPEM: texts[2],
                                         paths: (node.tlsCA, node.tlsCert, node.tlsKey), now: Date())
    }

    private func dataDirectory(_ node: NodeRuntimeConfig) -> [DoctorFinding] {
        let directory = node.dataDirectory
        var findings: [DoctorFinding] = []
        do {
            let space = try DataDirectoryCheck.freeSpace(of: directory)
            findings.append(DataDirectoryCheck.space(free: space.free, total: space.total, directory: directory, area: "disk \(node.node.id)"))
            let samples = try DataDirectoryCheck.measureSync(in: directory)
            findings.append(DataDirectoryCheck.syncLatency(samples, directory: directory, area: "fsync \(node.node.id)"))
        } catch {
            findings.append(.failure("disk \(node.node.id)", "\(error)", advice: "the node must be able to write its data directory"))
        }
        let wal = directory + "/" + WALInspectCommand.walSubdirectory
        if FileManager.default.fileExists(atPath: wal) {
            do {
                findings.append(DataDirectoryCheck.wal(try WALInspector.inspect(directory: wal), area: "wal \(node.node.id)"))
            } catch {
                findings.append(.failure("wal \(node.node.id)", "\(wal): cannot inspect: \(error)",
                                         advice: "check the permissions; `quorum wal inspect \(wal)` shows more"))
            }
        }
        return findings
    }

    /// Every node's API, concurrently; digests fetched again (a few times) until two nodes are
    /// at the same applied index, since a busy cluster's nodes rarely are at first.
    private func clusterFindings(_ loaded: LoadedConfig?) async throws -> [DoctorFinding] {
        let targets = try targets(loaded)
        let clientTLS = ClientTLS(caFile: cacert ?? loaded.flatMap { $0.config.api.tlsCert != nil ? $0.config.tls.ca : nil },
                                  certificateFile: cert, keyFile: key)
        let tls = targets.contains { $0.url.hasPrefix("https://") } ? try clientTLS.configuration() : nil
        let client = FailoverTransport.makeHTTPClient(connectTimeout: .seconds(min(timeout, 5)), tls: tls)
        let probe = ClusterProbe(client: client, token: token ?? ProcessInfo.processInfo.environment["QUORUM_TOKEN"].flatMap { $0.isEmpty ? nil : $0 },
                                 timeout: .milliseconds(Int64(timeout * 1000)))
        var observations = await withTaskGroup(of: (Int, NodeObservation).self) { group in
            for (index, target) in targets.enumerated() {
                group.addTask { (index, await probe.observe(id: target.id, url: target.url)) }
            }
            var results: [(Int, NodeObservation)] = []
            for await result in group { results.append(result) }
            return results.sorted { $0.0 < $1.0 }.map(\.1)
        }
        for _ in 0..<5 where Self.needsAnotherDigestRound(observations) {
            for index in observations.indices where observations[index].digest != nil {
                observations[index].digest = (try? await probe.digest(observations[index].url)) ?? observations[index].digest
            }
        }
        try? await client.shutdown()
        return ClusterCheck.findings(observations)
    }

    static func needsAnotherDigestRound(_ observations: [NodeObservation]) -> Bool {
        let indexes = observations.compactMap { $0.digest?.appliedIndex }
        return indexes.count > 1 && Set(indexes).count == indexes.count
    }

    private func targets(_ loaded: LoadedConfig?) throws -> [(id: String, url: String)] {
        try Self.targets(servers: servers, environment: ProcessInfo.processInfo.environment["QUORUM_SERVER"], loaded: loaded)
    }

    /// Which APIs to ask: `--server`; else every node of `--config` (by id: the config names
    /// every member, while `$QUORUM_SERVER` often lists only a few, or a load balancer); else
    /// `$QUORUM_SERVER` (`environment`; empty counts as unset), as every other client command
    /// reads it; else the local cluster's.
    static func targets(servers: String?, environment: String?, loaded: LoadedConfig?) throws -> [(id: String, url: String)] {
        if let servers {
            do {
                return try ServerList(parsing: servers).urls.map { ($0, $0) }
            } catch {
                throw CLIError.invalidInput("--server: \(error)")
            }
        }
        if loaded == nil, let environment, !environment.isEmpty {
            do {
                return try ServerList(parsing: environment).urls.map { ($0, $0) }
            } catch {
                throw CLIError.invalidInput("$QUORUM_SERVER: \(error)")
            }
        }
        if let loaded {
            let scheme = loaded.config.api.tlsCert != nil ? "https" : "http"
            return loaded.config.nodes.map { node in
                let host = node.api.host.contains(":") ? "[\(node.api.host)]" : node.api.host
                return (node.id, "\(scheme)://\(host):\(node.api.port)")
            }
        }
        return ServerList.localCluster.urls.map { ($0, $0) }
    }
}
