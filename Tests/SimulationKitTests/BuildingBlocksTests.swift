import RaftCore
import Testing

@testable import SimulationKit

@Suite("Simulator building blocks")
struct BuildingBlocksTests {
    @Test("the generator is a pure function of its seed")
    func generatorIsDeterministic() {
        var a = Simulation.SeededRandom(seed: 42)
        var b = Simulation.SeededRandom(seed: 42)
        var c = Simulation.SeededRandom(seed: 43)
        let first = (0..<8).map { _ in a.next() }
        #expect(first == (0..<8).map { _ in b.next() })
        #expect(first != (0..<8).map { _ in c.next() })
    }

    @Test("bounded draws stay in range and cover it")
    func boundedDraws() {
        var random = Simulation.SeededRandom(seed: 7)
        var seen = Set<UInt64>()
        for _ in 0..<1_000 {
            let value = random.uniform(in: UInt64(3)...9)
            #expect((3...9).contains(value))
            seen.insert(value)
        }
        #expect(seen.count == 7)
    }

    @Test("events come out by time, ties in insertion order")
    func eventQueueOrder() {
        var queue = Simulation.EventQueue<String>()
        queue.schedule("c", at: 30)
        queue.schedule("a1", at: 10)
        queue.schedule("b", at: 20)
        queue.schedule("a2", at: 10)
        queue.removeAll { $0 == "b" }
        var order: [String] = []
        while let next = queue.popNext() { order.append(next.event) }
        #expect(order == ["a1", "a2", "c"])
    }

    @Test("a one-way cut drops one direction only")
    func oneWayCut() {
        var network = Simulation.SimulatedNetwork()
        var random = Simulation.SeededRandom(seed: 1)
        network.cut(from: "n1", to: "n2")
        #expect(network.deliveryDelays(from: "n1", to: "n2", random: &random).isEmpty)
        #expect(network.deliveryDelays(from: "n2", to: "n1", random: &random).count == 1)
        network.heal()
        #expect(network.isOpen(from: "n1", to: "n2"))
    }

    @Test("a crash loses unsynced writes and keeps synced ones")
    func crashLosesUnsynced() {
        var disk = Simulation.SimulatedDisk()
        let entry = Raft.Entry(term: Raft.Term(1), index: Raft.LogIndex(1), data: [1])
        let first = disk.write(.entries([entry]))
        disk.write(.hardState(Raft.HardState(term: Raft.Term(2), vote: "n2")))
        disk.sync(through: first)
        disk.crash()
        #expect(disk.durable.entries == [entry])
        #expect(disk.durable.hardState.vote == nil)
    }

    @Test("two leaders in one term break election safety")
    func electionSafety() throws {
        var checker = Simulation.SafetyChecker(names: ["n1", "n2", "n3"])
        try checker.leaderElected(0, term: Raft.Term(1))
        #expect(throws: Simulation.InvariantViolation.self) { try checker.leaderElected(1, term: Raft.Term(1)) }
    }

    @Test("the same index and term over different prefixes breaks log matching")
    func logMatching() throws {
        var checker = Simulation.SafetyChecker(names: ["n1", "n2"])
        let e = { (term: UInt64, index: UInt64, byte: UInt8) in
            Raft.Entry(term: Raft.Term(term), index: Raft.LogIndex(index), data: [byte])
        }
        try checker.entriesWritten(0, [e(1, 1, 1), e(2, 2, 2)])
        try checker.entriesWritten(1, [e(3, 1, 1)])
        do {
            try checker.entriesWritten(1, [e(2, 2, 2)])
            Issue.record("log matching was not caught")
        } catch {
            #expect(error.invariant == .logMatching)
        }
    }

    @Test("a read older than an acknowledged write breaks linearizability")
    func staleRead() throws {
        var checker = Simulation.SafetyChecker(names: ["n1"])
        checker.acknowledged(through: 5)
        let floor = checker.acknowledgedFloor
        #expect(throws: Simulation.InvariantViolation.self) {
            try checker.readServed(0, readID: 1, floor: floor, servedIndex: 4)
        }
    }
}
