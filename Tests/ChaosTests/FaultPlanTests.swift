import Chaos
import Testing

/// The nemesis schedule: reproducible from the seed, one fault at a time, never more than a
/// minority unless unsafe, inside the run.
@Suite("Fault plan")
struct FaultPlanTests {
    @Test("the same seed gives the same plan; faults never overlap, fit the run, and hit a minority", arguments: [1, 2, 3, 99, 12345] as [UInt64])
    func safePlans(seed: UInt64) {
        for nodes in [3, 5] {
            let plan = FaultPlan.make(seed: seed, nodes: nodes, duration: 120, kinds: NemesisKind.allCases, unsafe: false)
            #expect(plan == FaultPlan.make(seed: seed, nodes: nodes, duration: 120, kinds: NemesisKind.allCases, unsafe: false),
                    "seed \(seed)")
            #expect(!plan.isEmpty, "seed \(seed)")
            var previousEnd = 0.0
            for fault in plan {
                #expect(fault.start >= previousEnd, "seed \(seed): \(fault)")
                #expect(fault.start + fault.length < 120, "seed \(seed): \(fault)")
                previousEnd = fault.start + fault.length
                if fault.kind == .bridge {
                    #expect(fault.targets.sorted() == Array(0..<nodes) && !fault.targetsLeader, "seed \(seed): \(fault)")
                } else if fault.kind != .restartAll {
                    #expect(fault.targets.count + (fault.targetsLeader ? 1 : 0) <= (nodes - 1) / 2, "seed \(seed): \(fault)")
                }
            }
        }
    }

    @Test("every enabled nemesis takes its turn, so a 60 s run exercises each of three", arguments: [1, 7, 20261206] as [UInt64])
    func everyKind(seed: UInt64) {
        let kinds: [NemesisKind] = [.kill, .stop, .partition]
        let plan = FaultPlan.make(seed: seed, nodes: 3, duration: 60, kinds: kinds, unsafe: false)
        #expect(Set(plan.map(\.kind)) == Set(kinds), "seed \(seed): \(plan.map(\.kind))")
        #expect(Set(plan.prefix(3).map(\.kind)).count == 3, "seed \(seed)")
    }

    @Test("a bridge keeps each node's ring neighbours (a line on 3 nodes): every node sees a majority; on 5 no majority sees one another")
    func bridge() {
        for ring in [["n2", "n5", "n1", "n4", "n3"], ["n3", "n1", "n2"]] {
            let cut = Set(FaultPlan.bridgeCuts(ring: ring).flatMap { [[$0.0, $0.1], [$0.1, $0.0]] })
            func connected(_ a: String, _ b: String) -> Bool { !cut.contains([a, b]) }
            for node in ring {
                let sees = ring.filter { $0 != node && connected(node, $0) }.count + 1
                #expect(sees >= ring.count / 2 + 1, "\(ring): \(node) sees \(sees)")
            }
            // On 5 nodes no majority is connected all to all (on 3 the line's ends merely lose each other).
            let majority = ring.count / 2 + 1
            for mask in 0..<(1 << ring.count) where mask.nonzeroBitCount == majority {
                let members = ring.indices.filter { mask & (1 << $0) != 0 }.map { ring[$0] }
                let clique = members.allSatisfy { a in members.allSatisfy { b in a == b || connected(a, b) } }
                #expect(ring.count == 3 || !clique, "\(ring): \(members) all see one another")
            }
        }
        #expect(FaultPlan.bridgeCuts(ring: ["n2", "n5", "n1", "n4", "n3"]).count == 5)
        #expect(FaultPlan.bridgeCuts(ring: ["n3", "n1", "n2"]).map { [$0.0, $0.1] } == [["n3", "n2"]])
    }

    @Test("an unknown nemesis is refused naming it and the known ones")
    func parse() throws {
        #expect(try NemesisKind.parseList("kill, stop,partition,kill") == [.kill, .stop, .partition])
        #expect(throws: ChaosError.self) { try NemesisKind.parseList("kill,clok") }
        do {
            _ = try NemesisKind.parseList("clok")
        } catch {
            #expect(error.description.contains("clok") && error.description.contains("one-way"))
        }
    }
}
