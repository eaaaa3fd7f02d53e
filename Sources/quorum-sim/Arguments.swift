/// The parsed command line of `quorum-sim`.
///
/// Parsed by hand so the simulator's build needs nothing but RaftCore and SimulationKit.
struct Arguments {
    enum Command: String {
        case simulate
        case bench
    }

    struct UsageError: Error, CustomStringConvertible {
        var description: String
    }

    var command: Command = .simulate
    var seeds = 5_000
    var firstSeed: UInt64 = 1
    var singleSeed: UInt64?
    var steps = 1_000
    var mutation: String?
    var jobs: Int?
    var flavour: String?
    var nodes: Int?
    var verbose = false
    var keepGoing = false
    var entries = 200_000

    static let usage = """
        usage: quorum-sim [simulate] [--seeds N] [--first-seed S] [--seed S] [--steps K] [--mutation NAME]
                          [--flavour chaos|leader-churn|crash-before-sync|partitioned-reads|lost-log|membership] [--nodes 3|5]
                          [--jobs J] [--verbose] [--keep-going]
               quorum-sim bench [--entries N]
          --seeds N       histories to run (default 5000), seeds S, S+1, … S+N-1
          --first-seed S  the first seed (default 1)
          --seed S        run exactly this one seed and print its report
          --steps K       events per history before the faults heal (default 1000, at least 1000 in CI)
          --mutation NAME a deliberate bug in every node (needs -DQUORUM_SIM_MUTATIONS; env QUORUM_SIM_MUTATION)
          --jobs J        worker tasks (default: the number of cores)
          --keep-going    run every seed even after a failure, and count failures by invariant
        exit status: 0 every invariant held, 1 an invariant broke (the report names it), 2 usage error
        """

    init(_ raw: [String], environmentMutation: String?) throws(UsageError) {
        mutation = environmentMutation.flatMap { $0.isEmpty ? nil : $0 }
        var rest = raw[...]
        if let first = rest.first, let command = Command(rawValue: first) {
            self.command = command
            rest = rest.dropFirst()
        }
        while let flag = rest.popFirst() {
            func value() throws(UsageError) -> String {
                guard let next = rest.popFirst() else { throw UsageError(description: "\(flag) needs a value") }
                return next
            }
            func integer() throws(UsageError) -> Int {
                let text = try value()
                guard let number = Int(text), number > 0 else {
                    throw UsageError(description: "\(flag) needs a positive integer, got \(text)")
                }
                return number
            }
            switch flag {
            case "--seeds": seeds = try integer()
            case "--first-seed": firstSeed = UInt64(try integer())
            case "--seed":
                let text = try value()
                guard let seed = UInt64(text) else { throw UsageError(description: "--seed needs an unsigned integer, got \(text)") }
                singleSeed = seed
            case "--steps": steps = try integer()
            case "--mutation": mutation = try value()
            case "--jobs": jobs = try integer()
            case "--flavour", "--flavor": flavour = try value()
            case "--nodes":
                let count = try integer()
                guard count == 3 || count == 5 else { throw UsageError(description: "--nodes must be 3 or 5, got \(count)") }
                nodes = count
            case "--entries": entries = try integer()
            case "--verbose", "-v": verbose = true
            case "--keep-going": keepGoing = true
            case "--help", "-h": throw UsageError(description: "")
            default: throw UsageError(description: "unknown argument \(flag)")
            }
        }
    }
}
