import RaftCore
import Testing

@testable import SimulationKit

/// A few dozen seeded histories; `scripts/simulate.sh` runs thousands more in release.
/// One seed replays alone: `swift test --filter RandomHistoryTests` prints the failing seed, and
/// `scripts/simulate.sh --seed S` replays it with its last steps.
@Suite("Random histories")
struct RandomHistoryTests {
    static let seeds: [UInt64] = Array(1...24)

    @Test("every invariant holds through faults and healing", arguments: seeds)
    func history(seed: UInt64) {
        let result = Simulation.HistoryRunner.run(Simulation.HistoryOptions(seed: seed, steps: 1_000))
        #expect(result.passed, "\(result.report)")
    }

    @Test("each flavour really injects its faults", arguments: Simulation.Flavour.allCases)
    func flavourInjectsFaults(flavour: Simulation.Flavour) {
        var totals = Simulation.SimulatedCluster.Statistics()
        for seed in UInt64(100)..<104 {
            let result = Simulation.HistoryRunner.run(Simulation.HistoryOptions(seed: seed, steps: 1_000, flavour: flavour))
            #expect(result.passed, "\(result.report)")
            totals.add(result.statistics)
        }
        #expect(totals.acknowledgedWrites > 0, "\(totals)")
        #expect(totals.servedReads > 0, "\(totals)")
        #expect(totals.crashes + totals.partitions > 0, "\(totals)")
        #expect(totals.elections > 4, "\(totals)")
    }

    @Test("a history is a pure function of its seed")
    func deterministic() {
        let first = Simulation.HistoryRunner.run(Simulation.HistoryOptions(seed: 7, steps: 500))
        let second = Simulation.HistoryRunner.run(Simulation.HistoryOptions(seed: 7, steps: 500))
        #expect(first.steps == second.steps)
        #expect(first.simulatedTime == second.simulatedTime)
        #expect(first.statistics.description == second.statistics.description)
    }
}
