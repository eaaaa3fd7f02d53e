import NodeCore
import SchedulerSimulation
import Testing

/// A few seeded histories in the debug build (CI runs 2,000 and the mutations in release:
/// scripts/check-simulate-scheduler.sh). A failure prints the seed and its last steps;
/// `scripts/simulate.sh --scheduler --seed S` replays it.
@Suite("Scheduler simulator: seeded histories keep every invariant")
struct SchedulerSimulationTests {
    @Test("a history of crashes, lost logs, pauses, partitions and clock jumps keeps the scheduler's promises",
          arguments: Array(UInt64(1)...6))
    func history(seed: UInt64) throws {
        var world = SchedulerWorld(seed: seed)
        let stats = try world.run()
        #expect(stats.submitted > 50, "seed \(seed) acknowledged only \(stats.submitted) submissions")
        #expect(stats.faults > 10, "seed \(seed) injected only \(stats.faults) faults")
    }

    @Test("the same seed gives the same history")
    func deterministic() throws {
        var first = SchedulerWorld(seed: 42)
        var second = SchedulerWorld(seed: 42)
        let a = try first.run()
        let b = try second.run()
        #expect(a.events == b.events && a.entries == b.entries && a.attemptsStarted == b.attemptsStarted)
    }
}
