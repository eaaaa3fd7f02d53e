// The scheduler simulator's command line (`scripts/simulate.sh --scheduler`): runs seeded
// histories of simulated clusters (NodeCore over an abstract log, with crashes, lost logs,
// pauses, partitions — also one-way — and clock jumps) and checks the scheduler's promises.
//
// Exit status: 0 every invariant held, 1 an invariant broke (the seed and the last steps are
// printed), 2 usage errors (an unknown mutation included).
import Foundation
import SchedulerCore
import SchedulerSimulation

let usage = """
    usage: scheduler-sim [--seeds N] [--first-seed S] [--seed S] [--mutation NAME] [--nodes 3|5] [--jobs J]
      --seeds N       histories to run (default 2000): seeds S, S+1, …, S+N-1
      --first-seed S  the first seed (default 1)
      --seed S        run exactly this seed and print its statistics
      --mutation NAME a deliberate bug in every node: start-after-stop, no-fencing, one-way-lease, follower-clock,
                      unnamed-assignments, directory-named-assignments
                      (needs the simulator build, -DQUORUM_SIM_MUTATIONS; env QUORUM_SIM_MUTATION)
      --nodes N       cluster size (default 3)
      --jobs J        parallel workers (default: the number of cores)
      --prefetch P    assignments each executor may hold beyond its 2 slots, 0-8 (default 2; 0 = off;
                      above 2 is deeper than a running node allows)
    exit status: 0 every invariant held, 1 an invariant broke, 2 usage error
    """

struct Options {
    var seeds = 2_000
    var firstSeed: UInt64 = 1
    var single: UInt64?
    var mutation: String?
    var nodes = 3
    var prefetch = SchedulerSimulationSettings().prefetch
    var jobs = ProcessInfo.processInfo.activeProcessorCount
}

/// The `--prefetch` flag a replay needs (none at the default).
func prefetchFlag(_ options: Options) -> String {
    options.prefetch == SchedulerSimulationSettings().prefetch ? "" : " --prefetch \(options.prefetch)"
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("scheduler-sim: \(message)\n\(usage)\n".utf8))
    exit(2)
}

func parse(_ arguments: [String]) -> Options {
    var options = Options()
    options.mutation = ProcessInfo.processInfo.environment["QUORUM_SIM_MUTATION"].flatMap { $0.isEmpty ? nil : $0 }
    var rest = arguments[...]
    while let flag = rest.popFirst() {
        func value() -> String {
            guard let next = rest.popFirst() else { fail("\(flag) needs a value") }
            return next
        }
        func number() -> UInt64 {
            let text = value()
            guard let n = UInt64(text), n > 0 else { fail("\(flag) needs a positive integer, got \(text)") }
            return n
        }
        switch flag {
        case "--seeds": options.seeds = Int(number())
        case "--first-seed": options.firstSeed = number()
        case "--seed": options.single = number()
        case "--mutation": options.mutation = value()
        case "--nodes":
            options.nodes = Int(number())
            guard options.nodes == 3 || options.nodes == 5 else { fail("--nodes must be 3 or 5") }
        case "--jobs": options.jobs = Int(number())
        case "--prefetch":
            let text = value()
            guard let prefetch = Int(text) else { fail("--prefetch needs an integer, got \(text)") }
            options.prefetch = prefetch
            // Up to 4 × the slots: deeper than the running node allows, to study it.
            let most = 4 * SchedulerSimulationSettings().slots
            guard (0...most).contains(options.prefetch) else { fail("--prefetch must be 0-\(most) (4 × the slots)") }
        case "-h", "--help":
            print(usage)
            exit(0)
        default: fail("unknown argument \(flag)")
        }
    }
    return options
}

func mutationSwitch(_ name: String?) -> MutationSwitch {
    guard let name else { return MutationSwitch() }
    #if QUORUM_SIM_MUTATIONS
    guard let mutation = SchedulerMutation(rawValue: name) else {
        fail("unknown mutation \(name); known: \(SchedulerMutation.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    return MutationSwitch(mutation)
    #else
    fail("this build has no mutations (build with -DQUORUM_SIM_MUTATIONS, as scripts/simulate.sh --scheduler does)")
    #endif
}

let options = parse(Array(CommandLine.arguments.dropFirst()))
let settings: SchedulerSimulationSettings = {
    var settings = SchedulerSimulationSettings()
    settings.nodes = options.nodes
    settings.prefetch = options.prefetch
    settings.mutations = mutationSwitch(options.mutation)
    return settings
}()
let label = options.mutation.map { " with mutation \($0)" } ?? ""

if let seed = options.single {
    var world = SchedulerWorld(seed: seed, settings: settings)
    world.verboseSteps = true
    do throws(SchedulerViolation) {
        let stats = try world.run()
        print("scheduler simulate: seed \(seed)\(label): every invariant held — \(stats.submitted) submitted, "
            + "\(stats.attemptsStarted) attempts (\(stats.attemptsHeld) held for a slot, \(stats.heldGivenBack) of them given back), \(stats.faults) faults, \(stats.entries) entries, \(stats.events) events")
        exit(0)
    } catch {
        print(error.description)
        print("replay: scripts/simulate.sh --scheduler --seed \(seed)\(options.mutation.map { " --mutation \($0)" } ?? "")\(prefetchFlag(options))")
        exit(1)
    }
}

/// What the histories of a run add up to.
struct Totals: Sendable {
    var histories = 0, attempts = 0, held = 0, givenBack = 0, faults = 0, events = 0

    mutating func add(_ other: Totals) {
        histories += other.histories
        attempts += other.attempts
        held += other.held
        givenBack += other.givenBack
        faults += other.faults
        events += other.events
    }
}

/// Runs every seed on `jobs` workers; stops at the first violation (lowest seed wins the report).
func runAll(_ options: Options, _ settings: SchedulerSimulationSettings) async -> (violation: SchedulerViolation?, totals: Totals) {
    let seeds = (0..<UInt64(options.seeds)).map { options.firstSeed + $0 }
    let workers = max(1, options.jobs)
    return await withTaskGroup(of: (SchedulerViolation?, Totals).self) { group in
        for worker in 0..<workers {
            group.addTask {
                var totals = Totals()
                for (position, seed) in seeds.enumerated() where position % workers == worker {
                    var world = SchedulerWorld(seed: seed, settings: settings)
                    do throws(SchedulerViolation) {
                        let stats = try world.run()
                        totals.attempts += stats.attemptsStarted
                        totals.held += stats.attemptsHeld
                        totals.givenBack += stats.heldGivenBack
                        totals.faults += stats.faults
                        totals.events += stats.events
                        totals.histories += 1
                    } catch {
                        return (error, totals)
                    }
                }
                return (nil, totals)
            }
        }
        var first: SchedulerViolation?
        var totals = Totals()
        for await (violation, part) in group {
            totals.add(part)
            if let violation, first.map({ violation.seed < $0.seed }) ?? true { first = violation }
        }
        return (first, totals)
    }
}

let started = Date()
let result = await runAll(options, settings)
let seconds = Date().timeIntervalSince(started)
if let violation = result.violation {
    print(violation.description)
    print("replay: scripts/simulate.sh --scheduler --seed \(violation.seed)\(options.mutation.map { " --mutation \($0)" } ?? "")\(prefetchFlag(options))")
    exit(1)
}
let totals = result.totals
print("scheduler simulate: \(totals.histories) histories\(label) (seeds \(options.firstSeed)…\(options.firstSeed + UInt64(options.seeds) - 1)), "
    + "\(totals.attempts) attempts (\(totals.held) held for a slot, \(totals.givenBack) of them given back), "
    + "\(totals.faults) faults, \(totals.events) events in \(String(format: "%.1f", seconds)) s: "
    + "every invariant held")
exit(0)
