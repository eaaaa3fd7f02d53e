import ArgumentParser
import ClusterConfig
import Executor
import Foundation
import Logging
import Metrics
import NodeMetrics
import NodeRuntime

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
        "Join a running cluster: start with no configuration (never campaign) and wait for its leader, told by "
            + "`quorum cluster add`, to replicate to this node. URL[,URL…] are the cluster's API addresses, for the log.",
        valueName: "URL[,URL…]"))
    var join: String?

    @Option(name: .long, help: "trace, debug, info, notice, warning, error or critical (default: QUORUM_LOG_LEVEL, else info).")
    var logLevel: String?

    func run() async throws {
        let level = try LogSetup.level(flag: logLevel, environment: ProcessInfo.processInfo.environment)
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
        LogSetup.bootstrap(level: level)
        let logger = Logger(label: "quorum.node")
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
        if let join, started.membership.membership.members.isEmpty {
            let hint = "quorum cluster add \(id) --raft \(node.node.raft) --api \(node.node.api)"
            logger.notice("joining: waiting for the leader to replicate to this node; an operator must first run `\(hint)` against the cluster",
                          metadata: ["cluster": "\(join)"])
        }
        do {
            try await NodeServer.run(node: started, tokens: tokens, tls: tls, peerTLSStamps: peerTLSStamps, logger: logger)
        } catch {
            if "\(error)".contains("Address already in use") {
                throw CLIError.failure("quorum node \(id) could not listen: an address is already in use (api \(node.node.api), "
                    + "raft \(node.node.raft)); stop the other process or change the address in \(config)")
            }
            if let removed = error as? NodeRemovedError { throw CLIError.failure("quorum node \(id) stopped: \(removed)") }
            throw CLIError.failure("quorum node \(id) stopped: \(error)")
        }
        logger.info("node exited cleanly")
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

    /// Installs the process-wide log handler once.
    static func bootstrap(level: Logger.Level) {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}
