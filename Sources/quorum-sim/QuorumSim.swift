import Foundation
import SimulationKit
import Synchronization

/// `quorum-sim`: runs seeded Raft cluster histories (and the core benchmark) in release mode.
@main
struct QuorumSim {
    static func main() async {
        let arguments: Arguments
        do {
            arguments = try Arguments(Array(CommandLine.arguments.dropFirst()),
                                      environmentMutation: ProcessInfo.processInfo.environment["QUORUM_SIM_MUTATION"])
        } catch {
            if !error.description.isEmpty { print("quorum-sim: \(error.description)") }
            print(Arguments.usage)
            exit(2)
        }
        switch arguments.command {
        case .simulate: exit(await simulate(arguments))
        case .bench: exit(bench(arguments))
        }
    }

    static func simulate(_ arguments: Arguments) async -> Int32 {
        if let mutation = arguments.mutation {
            guard Simulation.SimulatedCluster.mutationsAvailable else {
                print("quorum-sim: --mutation \(mutation) needs a build with -DQUORUM_SIM_MUTATIONS; use scripts/simulate.sh")
                return 2
            }
            guard Simulation.SimulatedCluster.mutationNames.contains(mutation) else {
                print("quorum-sim: unknown mutation \(mutation); known: \(Simulation.SimulatedCluster.mutationNames.joined(separator: ", "))")
                return 2
            }
        }
        var flavour: Simulation.Flavour?
        if let name = arguments.flavour {
            guard let known = Simulation.Flavour(rawValue: name) else {
                print("quorum-sim: unknown flavour \(name); known: \(Simulation.Flavour.allCases.map(\.rawValue).joined(separator: ", "))")
                return 2
            }
            flavour = known
        }
        let template = Simulation.HistoryOptions(seed: 0, steps: arguments.steps, nodeCount: arguments.nodes,
                                                 flavour: flavour, mutation: arguments.mutation)
        if let seed = arguments.singleSeed {
            var options = template
            options.seed = seed
            let result = Simulation.HistoryRunner.run(options)
            print(result.report)
            return result.passed ? 0 : 1
        }
        let clock = ContinuousClock()
        let started = clock.now
        let jobs = arguments.jobs ?? ProcessInfo.processInfo.activeProcessorCount
        let summary = await SeedSweep.run(first: arguments.firstSeed, count: arguments.seeds, jobs: jobs,
                                          template: template, verbose: arguments.verbose, keepGoing: arguments.keepGoing)
        let elapsed = clock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let rate = Double(summary.steps) / max(seconds, 1e-9)
        print("ran \(summary.histories) histories (seeds \(arguments.firstSeed)…), \(summary.steps) steps in \(String(format: "%.1f", seconds)) s with \(jobs) jobs (\(Int(rate)) steps/s)")
        print("flavours: \(summary.flavours.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))")
        print("totals: \(summary.totals)")
        if !summary.failuresByInvariant.isEmpty {
            print("failures: \(summary.failuresByInvariant.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))")
        }
        if let failure = summary.firstFailure {
            print(failure.report)
            print("first failing seed: \(failure.seed) (invariant \(failure.failure?.violation.invariant.rawValue ?? "?"))")
            return 1
        }
        print("OK: every invariant held" + (arguments.mutation.map { " (mutation \($0) NOT caught)" } ?? ""))
        return 0
    }

    static func bench(_ arguments: Arguments) -> Int32 {
        let clock = ContinuousClock()
        print("Raft core benchmark: 3-node simulated cluster, healthy network, batching (≤256 entries per append)")
        for batch in [1, 16, 64] {
            let started = clock.now
            let result = Simulation.CoreBenchmark.run(entries: arguments.entries, proposalsPerRound: batch)
            let elapsed = clock.now - started
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            print("  proposals per client round \(batch): \(result.committed) entries committed in \(String(format: "%.2f", seconds)) s wall = \(Int(Double(result.committed) / seconds)) entries/s; \(result.messages) messages, \(String(format: "%.1f", Double(result.appendedEntries) / Double(max(result.appends, 1)))) entries per AppendEntries")
        }
        return 0
    }
}

/// Runs a range of seeds on several workers; reports the lowest failing seed.
enum SeedSweep {
    /// The next seed to hand out, and the lowest failing seed so far (workers skip seeds above it).
    final class SharedProgress: Sendable {
        let nextSeed: Mutex<UInt64>
        let lowestFailure = Mutex(UInt64.max)
        init(first: UInt64) { nextSeed = Mutex(first) }
    }

    struct Summary: Sendable {
        var histories = 0
        var steps = 0
        var flavours: [String: Int] = [:]
        var totals = Simulation.SimulatedCluster.Statistics()
        var firstFailure: Simulation.HistoryResult?
        var failuresByInvariant: [String: Int] = [:]
    }

    static func run(first: UInt64, count: Int, jobs: Int, template: Simulation.HistoryOptions, verbose: Bool,
                    keepGoing: Bool) async -> Summary {
        let shared = SharedProgress(first: first)
        let end = first + UInt64(count)
        return await withTaskGroup(of: Summary.self) { group in
            for _ in 0..<max(jobs, 1) {
                group.addTask {
                    var summary = Summary()
                    while true {
                        let seed = shared.nextSeed.withLock { value -> UInt64 in
                            defer { value += 1 }
                            return value
                        }
                        guard seed < end, seed < shared.lowestFailure.withLock({ $0 }) else { break }
                        var options = template
                        options.seed = seed
                        let result = Simulation.HistoryRunner.run(options)
                        summary.histories += 1
                        summary.steps += result.steps
                        summary.flavours[result.setup.flavour.rawValue, default: 0] += 1
                        summary.totals.add(result.statistics)
                        if verbose { print(result.report) }
                        if !result.passed {
                            if !keepGoing { shared.lowestFailure.withLock { $0 = min($0, seed) } }
                            summary.failuresByInvariant[result.failure?.violation.invariant.rawValue ?? "?", default: 0] += 1
                            if summary.firstFailure.map({ seed < $0.seed }) ?? true { summary.firstFailure = result }
                        }
                    }
                    return summary
                }
            }
            var total = Summary()
            for await part in group {
                total.histories += part.histories
                total.steps += part.steps
                total.flavours.merge(part.flavours, uniquingKeysWith: +)
                total.totals.add(part.totals)
                total.failuresByInvariant.merge(part.failuresByInvariant, uniquingKeysWith: +)
                if let failure = part.firstFailure, total.firstFailure.map({ failure.seed < $0.seed }) ?? true {
                    total.firstFailure = failure
                }
            }
            return total
        }
    }
}
