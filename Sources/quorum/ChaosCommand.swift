import ArgumentParser
import Chaos
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

    @Option(help: "Seconds to wait after healing for every acknowledged job to finish.")
    var settle = 60.0

    @Option(help: "Milliseconds every peer link holds each chunk of bytes for the whole run (0–5000).")
    var linkDelayMs = 0

    @Option(help: "Probability (0–0.5) that a peer link loses a chunk, which drops its connection, for the whole run.")
    var linkLoss = 0.0

    @Flag(help: "Allow faults that take a majority (quorum loss until healed).")
    var unsafe = false

    func run() async throws {
        let seed = seed ?? UInt64.random(in: 1...UInt64(UInt32.max))
        let directory = out ?? FileManager.default.temporaryDirectory.appendingPathComponent("quorum-chaos-\(seed)-\(UUID().uuidString.prefix(8))").path
        let binary = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var options = ChaosOptions(outDirectory: directory, binary: binary)
        options.nodes = nodes
        options.duration = duration
        options.seed = seed
        options.clients = clients
        options.settle = settle
        options.unsafe = unsafe
        options.linkQuality = LinkQuality(delayMilliseconds: linkDelayMs, loss: linkLoss)
        let passed: Bool
        do {
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
}
