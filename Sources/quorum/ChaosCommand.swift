import ArgumentParser
import Chaos
import ClusterConfig
import Foundation

/// `quorum chaos`: starts its own local cluster of this executable's nodes, runs a workload
/// under a seeded nemesis, heals, checks the history, and prints the verdict line last
/// (docs/chaos.md). Exit 0 only when every count is zero; 1 when a check failed or the run
/// could not be carried out; 2 for a bad option.
struct ChaosCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chaos",
        abstract: "Run a workload against a fresh local cluster under kills, pauses and partitions, then check it.")

    @Option(help: "Nodes in the generated cluster: 3 or 5.")
    var nodes = 3

    @Option(help: "Seconds of workload and faults (healing, quiescence and the checks follow).")
    var duration = 60.0

    @Option(help: "The seed of the nemesis schedule and the workload's choices (random when omitted; printed first).")
    var seed: UInt64?

    @Option(help: "Comma-separated nemeses: kill, stop, partition, one-way, bridge, clock, restart-all, wipe.")
    var nemesis = "kill,stop,partition"

    @Option(help: "Directory for the history, report, picture, cluster files and node logs (default: a new temporary one).")
    var out: String?

    @Option(help: "Concurrent workload clients.")
    var clients = 4

    @Option(help: "[executor] prefetch of the generated cluster: assignments each node holds beyond its 4 slots (0–4).")
    var prefetch = 0

    @Option(help: "Seconds to wait after healing for every acknowledged job to finish.")
    var settle = 60.0

    @Option(help: "Milliseconds every peer link holds each chunk of bytes for the whole run (0–5000).")
    var linkDelayMs = 0

    @Option(help: "Probability (0–0.5) that a peer link loses a chunk, which drops its connection, for the whole run.")
    var linkLoss = 0.0

    @Flag(help: "Allow faults that take a majority (quorum loss until healed).")
    var unsafe = false

    @Option(help: ArgumentHelp("Run against this existing cluster (its config file) instead of starting one: nemeses kill, stop and restart-all only.",
                               valueName: "file"))
    var config: String?

    @Option(help: ArgumentHelp("With --config: the file holding each node's pid, {id} for the node (needed by stop, kill, restart-all).",
                               valueName: "path"))
    var pidFile: String?

    @Option(help: ArgumentHelp("With --config: the command that starts node {id} in the foreground, run by /bin/sh in the config's directory (needed by kill, restart-all).",
                               valueName: "command"))
    var startCommand: String?

    func run() async throws {
        let seed = seed ?? UInt64.random(in: 1...UInt64(UInt32.max))
        let directory = out ?? FileManager.default.temporaryDirectory.appendingPathComponent("quorum-chaos-\(seed)-\(UUID().uuidString.prefix(8))").path
        // QUORUM_CHAOS_NODE_BINARY runs the nodes from another build (an A/B of a node change under
        // the same tool and checker; docs/chaos.md). The preload is still looked up beside this tool.
        let own = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let binary = ProcessInfo.processInfo.environment["QUORUM_CHAOS_NODE_BINARY"].flatMap { $0.isEmpty ? nil : $0 } ?? own
        var options = ChaosOptions(outDirectory: directory, binary: binary)
        options.nodes = nodes
        options.duration = duration
        options.seed = seed
        options.clients = clients
        options.prefetch = prefetch
        options.settle = settle
        options.unsafe = unsafe
        options.linkQuality = LinkQuality(delayMilliseconds: linkDelayMs, loss: linkLoss)
        let passed: Bool
        do {
            if let config {
                options.existing = try Self.existingCluster(config, pidFile: pidFile, startCommand: startCommand)
                options.nodes = options.existing?.ids.count ?? 0
            } else if pidFile != nil || startCommand != nil {
                throw ChaosError.invalid("--pid-file and --start-command are for --config (an existing cluster)")
            }
            options.nemeses = try NemesisKind.parseList(nemesis)
            guard !options.nemeses.isEmpty else { throw ChaosError.invalid("--nemesis names no nemesis") }
            passed = try await ChaosRun.run(options) { line in
                FileHandle.standardOutput.write(Data((line + "\n").utf8))
            }
        } catch let error as ChaosError {
            switch error {
            case .invalid(let message): throw CLIError.invalidInput(message)
            case .setup(let message): throw CLIError.failure("chaos: \(message) (output in \(directory))")
            }
        }
        guard passed else {
            throw CLIError.failure("chaos: checks failed; the report is \(directory)/report.txt")
        }
    }

    /// The cluster in config file `path`, reached at its members' API addresses: refused when
    /// the API needs a token or TLS (this tool sends neither) or listens off loopback (chaos
    /// traffic stays on this machine).
    static func existingCluster(_ path: String, pidFile: String?, startCommand: String?) throws -> ExistingCluster {
        let config: ClusterConfig
        do {
            config = try ConfigLoader.load(path: path)
        } catch {
            throw ChaosError.invalid("--config \(path): \(error)")
        }
        if config.api.tokensFile != nil || config.api.tlsCert != nil {
            throw ChaosError.invalid("--config \(path): the cluster's API needs a token or TLS ([api] tokens_file or tls_cert), "
                + "and quorum chaos sends plain HTTP without a token; run it against a loopback development cluster without them")
        }
        var urls: [String: String] = [:]
        for node in config.nodes {
            guard node.api.isLoopback else {
                throw ChaosError.invalid("--config \(path): node \(node.id)'s API \(node.api) is not a loopback address; "
                    + "quorum chaos only drives nodes on this machine")
            }
            let host = node.api.host.contains(":") ? "[\(node.api.host)]" : node.api.host
            urls[node.id] = "http://\(host):\(node.api.port)"
        }
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        return ExistingCluster(ids: config.nodes.map(\.id), apiURLs: urls, configPath: absolute, pidFile: pidFile, startCommand: startCommand)
    }
}
