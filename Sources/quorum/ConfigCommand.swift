import ArgumentParser
import ClusterConfig
import Foundation

/// `quorum config …`: work with a cluster config file.
struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Check a cluster configuration file.",
        subcommands: [ConfigCheckCommand.self]
    )
}

/// `quorum config check FILE [--id ID]`: validate and print the resolved configuration.
struct ConfigCheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate a cluster config and print it resolved (exit 2 when invalid).",
        discussion: "Missing TLS files are warnings here (certificates may not exist yet); `quorum node` refuses them."
    )

    @Argument(help: "The cluster config file (TOML).")
    var file: String

    @Option(name: .long, help: "Also resolve the paths of this node.")
    var id: String?

    func run() async throws {
        let loaded = try LoadedConfig.load(file: file)
        for warning in loaded.warnings { StandardError.write(warning.description) }
        let ids = id.map { [$0] } ?? loaded.config.nodes.map(\.id)
        var resolved: [NodeRuntimeConfig] = []
        for nodeID in ids {
            resolved.append(try loaded.resolve(id: nodeID))
        }
        // Certificates may not exist yet when a config is first checked, so missing TLS files
        // are warnings here; `quorum node` refuses to start without its own.
        var warned: Set<String> = []
        for node in resolved {
            for missing in node.missingTLSFiles() where warned.insert(missing.path).inserted {
                StandardError.write(
                    ConfigWarning(
                        file: file, key: missing.key,
                        reason: "\(missing.path) does not exist (node \(node.node.id) cannot start without it; run `quorum certs init`)"
                    ).description)
            }
        }
        print(ConfigSummary.render(loaded.config, file: file, resolved: resolved))
    }
}

/// A config file that parsed and validated, with its warnings.
struct LoadedConfig {
    var file: String
    var config: ClusterConfig
    var warnings: [ConfigWarning]

    /// Loads and validates `file`, turning a config error into exit code 2.
    static func load(file: String) throws(CLIError) -> LoadedConfig {
        do {
            let config = try ConfigLoader.load(path: file)
            let warnings = try ConfigValidator.validate(config, file: file)
            try config.notify.validateForNotify(file: file)
            return LoadedConfig(file: file, config: config, warnings: warnings)
        } catch {
            throw CLIError.invalidInput(error.description)
        }
    }

    /// Resolves the paths of node `id` from the current directory and environment.
    func resolve(id: String) throws(CLIError) -> NodeRuntimeConfig {
        do {
            return try NodeRuntimeConfig.resolve(
                config, id: id, file: file,
                environment: ProcessInfo.processInfo.environment,
                workingDirectory: FileManager.default.currentDirectoryPath)
        } catch {
            throw CLIError.invalidInput(error.description)
        }
    }
}

/// The human-readable form `quorum config check` prints.
enum ConfigSummary {
    static func render(_ config: ClusterConfig, file: String, resolved: [NodeRuntimeConfig]) -> String {
        let learners = config.nodes.count - config.voters.count
        var lines: [String] = []
        lines.append("\(file): valid")
        lines.append("cluster     \(config.cluster.name): \(config.voters.count) voters, \(learners) learners")
        lines.append(
            "raft        heartbeat \(config.raft.heartbeatMilliseconds) ms, election timeout \(config.raft.electionTimeoutMilliseconds.lowerBound)-\(config.raft.electionTimeoutMilliseconds.upperBound) ms, max entry \(config.raft.maxEntryBytes) bytes"
        )
        lines.append("executor    \(config.executor.slots) slots per node, shell tasks \(Self.shellSummary(config.executor))")
        let deny = config.executor.httpDeny.map(\.description), allow = config.executor.httpAllow.map(\.description)
        lines.append("http tasks  built-in deny list" + (deny.isEmpty ? "" : " + http_deny \(deny.joined(separator: ", "))")
                     + (allow.isEmpty ? ", no exceptions" : "; allowed anyway: \(allow.joined(separator: ", "))"))
        lines.append("nodes")
        for node in resolved {
            let role = node.node.voter ? "voter" : "learner"
            lines.append(
                "  \(node.node.id.padding(toLength: 6, withPad: " ", startingAt: 0)) \(role.padding(toLength: 8, withPad: " ", startingAt: 0)) raft \(node.node.raft)  api \(node.node.api)"
            )
            lines.append("         data \(node.dataDirectory)")
            lines.append("         tls  ca \(node.tlsCA)  cert \(node.tlsCert)  key \(node.tlsKey)")
        }
        return lines.joined(separator: "\n")
    }

    /// `refused`, or `allowed: /bin/*, /usr/bin/*, in /srv/jobs, as quorum-task`.
    static func shellSummary(_ executor: ClusterConfig.Executor) -> String {
        guard executor.allowShell else { return "refused" }
        var text = "allowed: " + executor.shellAllow.joined(separator: ", ")
        if let root = executor.workdirRoot { text += ", in \(root)" }
        text += ", as \(executor.runAs ?? "the node's user")"
        return text
    }
}
