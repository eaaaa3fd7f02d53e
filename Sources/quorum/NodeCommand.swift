import ArgumentParser
import ClusterConfig
import Executor
import Foundation
import Logging
import Metrics
import NodeMetrics
import NodeRuntime
import QuorumClient
import ServiceLifecycle

/// `quorum node --config FILE --id ID`: run one member of a cluster.
struct NodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node",
        abstract: "Run one node of a cluster (validates the config and TLS files first)."
    )

    @Option(name: .long, help: "The cluster config file (TOML).")
    var config: String

    @Option(name: .long, help: "This node's id, one of the config's [[nodes]].")
    var id: String

    @Option(name: .long, help: ArgumentHelp(
        "Join a running cluster: start with no configuration (never campaign), ask the cluster at URL[,URL…] (its API "
            + "addresses) to add this node as a learner — with an admin token (QUORUM_TOKEN or --token-file) when the "
            + "cluster has tokens, else after an operator's `quorum cluster add` — and wait for its leader to replicate to it.",
        valueName: "URL[,URL…]"))
    var join: String?

    @Flag(name: .long, help: "With --join: ask the cluster to promote this node to a voter once it has caught up.")
    var voter = false

    @Option(name: .long, help: ArgumentHelp("With --join: a file holding the admin token to ask with (default: $QUORUM_TOKEN).",
                                            valueName: "FILE"))
    var tokenFile: String?

    @Option(name: .long, help: "trace, debug, info, notice, warning, error or critical (default: QUORUM_LOG_LEVEL, else info).")
    var logLevel: String?

    @Flag(name: .customLong("force-new-cluster"), help: ArgumentHelp(
        "DISASTER RECOVERY ONLY, after a permanent loss of quorum: make this node the only voter of a NEW cluster, keeping "
            + "its log and state. Entries the lost nodes committed that never reached this node are lost; the lost nodes "
            + "can never rejoin (new cluster id). Run it on one survivor, once. See docs/operations.md."))
    var forceNewCluster = false

    func run() async throws {
        let level = try LogSetup.level(flag: logLevel, environment: ProcessInfo.processInfo.environment)
        let joining = try joinOptions()
        let loaded = try LoadedConfig.load(file: config)
        let node = try loaded.resolve(id: id)
        // Before anything else: shell tasks must never run as the node's user by mistake.
        if let user = node.cluster.executor.runAs, case .failure(let refusal) = RunAsAccount.lookup(user) {
            throw CLIError.invalidInput(ConfigError(file: config, key: "executor.run_as", reason: refusal.reason).description)
        }
        if let missing = node.missingTLSFiles().first {
            throw CLIError.invalidInput(
                ConfigError(file: config, key: missing.key, reason: "\(missing.path) does not exist; create certificates with `quorum certs init --config \(config) --out certs`").description)
        }
        if let refusal = node.unsafeAPIRefusal {
            throw CLIError.invalidInput(ConfigError(file: config, key: "api", reason: refusal).description)
        }
        // Before anything starts: a node told to check tokens never serves without them.
        let tokens = try node.tokensFile.map { path throws(CLIError) in try TokenFileWatcher.loadWithStamp(path: path) }
        var tls: APITLS?
        if let certificate = node.apiTLSCert, let key = node.apiTLSKey {
            tls = try APITLS(certificate: certificate, key: key, clientCA: node.apiClientCA)
        }
        if forceNewCluster && join != nil {
            throw CLIError.invalidInput("--force-new-cluster and --join exclude each other: a forced node starts a new cluster alone")
        }
        // Before the first line is written: a node whose output nobody reads any more (the log
        // collector on the other end of its stdout or stderr went away) must go on serving, with
        // the lines lost, not die of SIGPIPE. SwiftNIO ignores the signal too, but only once it
        // creates its first socket, after the first lines. Programs that shell tasks start get
        // the default action back (swift-subprocess resets every signal in the child).
        signal(SIGPIPE, SIG_IGN)
        LogSetup.bootstrap(level: level, forcedNewCluster: forceNewCluster)
        let logger = Logger(label: "quorum.node")
        // Before the node starts threads of its own: they inherit the policy.
        ThreadSchedulingPolicy.apply(node.cluster.cluster.cpuScheduling, logger: logger)
        if forceNewCluster {
            do {
                let outcome = try await ClusterRebuild.forceNewCluster(node, logger: logger)
                logger.warning("""
                    this node is the only voter of a new cluster; add new members with `quorum cluster add` and `quorum node --join`, \
                    never restart the lost nodes with their old data directories
                    """,
                               metadata: ["cluster_id": "\(outcome.clusterID)", "index": "\(outcome.index)"])
            } catch {
                throw CLIError.failure("quorum node \(id) --force-new-cluster failed; the data directory is unchanged unless the log says "
                    + "otherwise: \(error)")
            }
        }
        for warning in loaded.warnings { logger.warning("\(warning.description)") }
        if let warning = node.insecureAPIWarning { logger.warning("\(warning)") }
        logger.info(
            "configuration valid",
            metadata: ["node": "\(id)", "cluster": "\(loaded.config.cluster.name)", "data_dir": "\(node.dataDirectory)"])
        // Before the WAL exists: its fsync timer reports through swift-metrics into this node's registry.
        let metrics = QuorumMetrics()
        MetricsSystem.bootstrap(metrics.metricsFactory)
        // Before the node loads them: a change from here on is picked up by the peer TLS watcher.
        let peerTLSStamps = [node.tlsCA, node.tlsCert, node.tlsKey].map(FileChangePoller.stamp(of:))
        let notificationSender: NotificationSender
        do {
            notificationSender = try NodeNotificationSender.make(node, logger: logger)
        } catch {
            throw CLIError.invalidInput("quorum node \(id): [notify] in \(config): \(error)")
        }
        let started: QuorumNode
        do {
            started = try await QuorumNode.open(node, metrics: metrics, admission: LeaderShellAdmission.admission(for: node),
                                                joining: join != nil, notificationSender: notificationSender, logger: logger)
        } catch {
            throw CLIError.failure("quorum node \(id) could not start: \(error)")
        }
        logger.info("node starting", metadata: ["raft": "\(node.node.raft)", "api": "\(node.node.api)"])
        var extraServices: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if let joining {
            // Done asking is not done running: the node goes on.
            extraServices.append(.init(service: joinRequester(joining, node: node, started: started, logger: logger),
                                       successTerminationBehavior: .ignore))
        }
        do {
            try await NodeServer.run(node: started, tokens: tokens, tls: tls, peerTLSStamps: peerTLSStamps,
                                     extraServices: extraServices, logger: logger)
        } catch {
            if "\(error)".contains("Address already in use") {
                throw CLIError.failure("quorum node \(id) could not listen: an address is already in use (api \(node.node.api), "
                    + "raft \(node.node.raft)); stop the other process or change the address in \(config)")
            }
            if let removed = error as? NodeRemovedError { throw CLIError.failure("quorum node \(id) stopped: \(removed)") }
            if let refused = error as? JoinRefusedError { throw CLIError.failure("quorum node \(id) could not join: \(refused)") }
            throw CLIError.failure("quorum node \(id) stopped: \(error)")
        }
        logger.info("node exited cleanly")
    }

    /// `--join`'s servers and admin token (nil without `--join`), checked before anything
    /// starts: a bad URL or token file is a usage error, not a node that opened its WAL first.
    private func joinOptions() throws -> (servers: ServerList, token: String?)? {
        guard let join else {
            if voter || tokenFile != nil { throw CLIError.invalidInput("--voter and --token-file only apply with --join") }
            return nil
        }
        let servers: ServerList
        do {
            servers = try ServerList(parsing: join)
        } catch {
            throw CLIError.invalidInput("--join: \(error)")
        }
        var token = ProcessInfo.processInfo.environment["QUORUM_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        if let tokenFile {
            guard let text = try? String(contentsOfFile: tokenFile, encoding: .utf8) else {
                throw CLIError.invalidInput("--token-file: cannot read \(tokenFile)")
            }
            let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !trimmed.isEmpty else { throw CLIError.invalidInput("--token-file: \(tokenFile) is empty; put the admin token in it") }
            token = trimmed
        }
        return (servers, token)
    }

    /// The join request for `options` (``joinOptions()``) once the node is open.
    private func joinRequester(_ options: (servers: ServerList, token: String?), node: NodeRuntimeConfig, started: QuorumNode,
                               logger: Logger) -> JoinRequester {
        // https:// servers present the cluster's API certificate, signed by [tls] ca; one that
        // wants a client certificate ([api] client_ca) gets this node's.
        let mutual = node.apiClientCA != nil
        let tls = ClientTLS(caFile: node.tlsCA, certificateFile: mutual ? node.tlsCert : nil, keyFile: mutual ? node.tlsKey : nil)
        let membership = started.membership
        let selfID = node.node.id
        return JoinRequester(
            id: selfID, raft: node.node.raft.description, api: node.node.api.description, servers: options.servers,
            token: options.token, tls: tls, voter: voter,
            isMember: { membership.membership.members.contains { $0.rawValue == selfID } },
            isVoter: { membership.membership.voters.contains { $0.rawValue == selfID } },
            logger: logger)
    }
}

/// Logging set-up for long-running commands: swift-log to standard error.
enum LogSetup {
    /// The level from `--log-level`, else `QUORUM_LOG_LEVEL`, else `info`.
    static func level(flag: String?, environment: [String: String]) throws(CLIError) -> Logger.Level {
        let (source, text) = flag.map { ("--log-level", $0) } ?? ("QUORUM_LOG_LEVEL", environment["QUORUM_LOG_LEVEL"] ?? "info")
        guard let level = Logger.Level(rawValue: text.lowercased()) else {
            let known = Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")
            throw CLIError.invalidInput("\(source): \"\(text)\" is not a log level (use one of \(known))")
        }
        return level
    }

    /// Installs the process-wide log handler once. `forcedNewCluster` (`quorum node
    /// --force-new-cluster`) puts a warning on every line this process logs, so nobody reading
    /// any part of the log can miss that the cluster was forced.
    static func bootstrap(level: Logger.Level, forcedNewCluster: Bool = false) {
        LoggingSystem.bootstrap { label in
            var handler = NodeLogHandler(label: label, level: level)
            if forcedNewCluster {
                handler.metadata["FORCE_NEW_CLUSTER"] = "started with --force-new-cluster: the only voter of a new cluster, data the lost nodes committed may be gone"
            }
            return handler
        }
    }
}
