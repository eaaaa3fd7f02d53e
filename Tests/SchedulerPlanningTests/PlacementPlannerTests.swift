@testable import SchedulerPlanning
import SchedulerCore
import Testing

@Suite("Placement: constraints, spread, max_per_node, draining and the waiting reason")
struct PlacementPlannerTests {
    let t0 = Timestamp(1_800_000_000_000)

    /// Queued once jobs `id → placement`, submitted in order (so FIFO in that order).
    func state(_ jobs: [(String, Placement)]) -> SchedulerState {
        var state = SchedulerState()
        for (id, placement) in jobs {
            let spec = JobSpec(name: id, placement: placement)
            _ = state.apply(.submitJob(SubmitJob(jobID: JobID(id), spec: spec, runID: RunID("r-" + id))), at: t0)
        }
        return state
    }

    func node(_ id: String, slots: Int = 4, labels: [String: String] = [:], draining: Bool = false,
              reachable: Bool = true) -> ExecutorCapacity {
        ExecutorCapacity(id: ExecutorID(id), slots: slots, isLeader: false, isReachable: reachable, labels: labels,
                         isDraining: draining)
    }

    func assignments(_ state: SchedulerState, _ executors: [ExecutorCapacity], max: Int = 100) -> [String: String] {
        let commands = DutyPlanner.plan(state: state, now: t0, executors: executors, lost: [], maxAssignments: max) { RunID("fire") }
        var result: [String: String] = [:]
        for command in commands {
            if case .assignAttempt(let a) = command { result[a.runID.rawValue] = a.executor.rawValue }
        }
        return result
    }

    let gpu = Placement(constraints: [KeyValue("gpu", "true")])

    @Test("a constrained run goes only to a node whose labels match; unconstrained runs go anywhere")
    func matching() {
        let state = state([("train", gpu), ("plain", .none)])
        let result = assignments(state, [node("n1"), node("n2", slots: 1, labels: ["gpu": "true", "zone": "a"]), node("n3")])
        #expect(result["r-train"] == "n2")
        #expect(result["r-plain"] != nil)
    }

    @Test("a run no node matches stays queued and does not block the runs behind it")
    func noMatchDoesNotBlock() {
        let state = state([("train", gpu), ("a", .none), ("b", .none)])
        let result = assignments(state, [node("n1", slots: 2)], max: 2)
        #expect(result["r-train"] == nil)
        #expect(result["r-a"] == "n1")
        #expect(result["r-b"] == "n1")
    }

    @Test("every constraint must match, value included")
    func allConstraints() {
        let both = Placement(constraints: [KeyValue("gpu", "true"), KeyValue("zone", "b")])
        let state = state([("x", both)])
        #expect(assignments(state, [node("n1", labels: ["gpu": "true", "zone": "a"]), node("n2", labels: ["gpu": "false", "zone": "b"])]).isEmpty)
        #expect(assignments(state, [node("n1", labels: ["gpu": "true", "zone": "a"]), node("n2", labels: ["gpu": "true", "zone": "b"])])["r-x"] == "n2")
    }

    @Test("load spreads: least busy first, so 6 runs on 3 equal nodes are 2 each")
    func spread() {
        let state = state((0..<6).map { ("j\($0)", Placement.none) })
        let result = assignments(state, [node("n1"), node("n2"), node("n3")])
        let counts = Dictionary(grouping: result.values, by: { $0 }).mapValues(\.count)
        #expect(counts == ["n1": 2, "n2": 2, "n3": 2])
    }

    @Test("a draining node gets no new attempts; its running attempt is left alone")
    func draining() {
        var state = state([("a", .none), ("b", .none)])
        _ = state.apply(.assignAttempt(AssignAttempt(runID: "r-a", executor: "n1", attempt: 1, deadline: t0.adding(milliseconds: 60_000))), at: t0)
        let commands = DutyPlanner.plan(state: state, now: t0, executors: [node("n1", draining: true), node("n2")], lost: [],
                                        maxAssignments: 10) { RunID("fire") }
        #expect(!commands.contains { if case .expireAttempt = $0 { true } else { false } })
        #expect(assignments(state, [node("n1", draining: true), node("n2")]) == ["r-b": "n2"])
        #expect(assignments(state, [node("n1", draining: true)]).isEmpty)
    }

    @Test("max_per_node bounds one job's attempts per node, counting the ones already running")
    func maxPerNode() throws {
        // A once job has one run, so a DAG's tasks (one group: the DAG run) show the limit.
        let tasks = (0..<4).map { DAGTaskSpec(id: "t\($0)", placement: Placement(maxPerNode: 1)) }
        var state = SchedulerState()
        let dag = try DAGSpec.validated(name: "fan", tasks: tasks, priority: 0, labels: [])
        _ = state.apply(.submitDAG(SubmitDAG(dagRunID: "d1", spec: dag, retentionMs: JobSpec.defaultRetentionMs)), at: t0)
        let result = assignments(state, [node("n1"), node("n2"), node("n3")])
        #expect(result.count == 3)
        #expect(Set(result.values) == ["n1", "n2", "n3"])
        guard let (run, executor) = result.first else { return }
        _ = state.apply(.assignAttempt(AssignAttempt(runID: RunID(run), executor: ExecutorID(executor), attempt: 1,
                                                     deadline: t0.adding(milliseconds: 60_000))), at: t0)
        let next = assignments(state, [node("n1"), node("n2"), node("n3")])
        #expect(next.count == 2)
        #expect(!next.values.contains(executor))
    }

    // MARK: Reasons

    func view(_ id: String, labels: [String: String] = [:], draining: Bool = false, reachable: Bool = true,
              slots: Int = 4, busy: Int = 0) -> PlacementReason.Node {
        PlacementReason.Node(id: id, labels: labels, isDraining: draining, isReachable: reachable, slots: slots, busy: busy)
    }

    @Test("the reason names the missing label, draining, unreachable and full nodes, in that order")
    func reasons() {
        #expect(PlacementReason.reason(for: gpu, nodes: [view("n1"), view("n2")]) == "no node with gpu=true")
        #expect(PlacementReason.reason(for: gpu, nodes: [view("n1", labels: ["gpu": "true"], draining: true)])
                == "all nodes with gpu=true are draining")
        #expect(PlacementReason.reason(for: .none, nodes: [view("n1", draining: true), view("n2", draining: true)])
                == "all nodes are draining")
        #expect(PlacementReason.reason(for: gpu, nodes: [view("n1", labels: ["gpu": "true"], reachable: false)])
                == "no live node among the nodes with gpu=true (n1 not reachable)")
        #expect(PlacementReason.reason(for: gpu, nodes: [view("n1", labels: ["gpu": "true"], slots: 2, busy: 2)])
                == "all live nodes with gpu=true are full")
        #expect(PlacementReason.reason(for: gpu, nodes: [view("n1", labels: ["gpu": "true"])]) == nil)
        let limited = Placement(constraints: [KeyValue("gpu", "true")], maxPerNode: 1)
        #expect(PlacementReason.reason(for: limited, nodes: [view("n1", labels: ["gpu": "true"])], runningHere: { _ in 1 })
                == "every live node with gpu=true with a free slot already runs max_per_node=1 of its attempts")
    }

    @Test("label rules: charset, length, count; the message names the key")
    func labelRules() {
        #expect(NodeLabelRules.problem(key: "gpu", value: "true") == nil)
        #expect(NodeLabelRules.problem(key: "zone.eu-1_a", value: "A-1.b_c") == nil)
        #expect(NodeLabelRules.problem(key: "", value: "x") == "key must not be empty")
        #expect(NodeLabelRules.problem(key: "-gpu", value: "x") == "key '-gpu' must start with a letter or a digit")
        #expect(NodeLabelRules.problem(key: "g pu", value: "x")?.contains("only ASCII letters") == true)
        #expect(NodeLabelRules.problem(key: "gpu", value: "")?.contains("value of 'gpu' must not be empty") == true)
        #expect(NodeLabelRules.problem(key: String(repeating: "k", count: 64), value: "x")?.contains("64 bytes; at most 63") == true)
        let many = Dictionary(uniqueKeysWithValues: (0..<17).map { ("k\($0)", "v") })
        #expect(NodeLabelRules.problem(labels: many)?.message == "at most 16 labels, got 17")
        #expect(NodeLabelRules.problem(labels: ["ok": "1", "bad key": "2"])?.key == "bad key")
    }

    @Test("quorum_jobs_unplaceable counts queued runs no live, undrained node with slots matches; a full node is load, not placement")
    func unplaceableCount() {
        let state = state([("train", gpu), ("plain", .none), ("zone", Placement(constraints: [KeyValue("zone", "b")]))])
        func reasonNode(_ id: String, labels: [String: String] = [:], draining: Bool = false, reachable: Bool = true,
                        slots: Int = 2, busy: Int = 0) -> PlacementReason.Node {
            PlacementReason.Node(id: id, labels: labels, isDraining: draining, isReachable: reachable, slots: slots, busy: busy)
        }
        #expect(UnplaceableRuns.count(in: state, nodes: [reasonNode("n1")]) == 2, "gpu and zone match no node")
        #expect(UnplaceableRuns.count(in: state, nodes: [reasonNode("n1"), reasonNode("n2", labels: ["gpu": "true"], busy: 2)]) == 1,
                "a full GPU node still places the GPU run once a slot frees")
        #expect(UnplaceableRuns.count(in: state, nodes: [reasonNode("n1"), reasonNode("n2", labels: ["gpu": "true"], draining: true)]) == 2)
        #expect(UnplaceableRuns.count(in: state, nodes: [reasonNode("n1"), reasonNode("n2", labels: ["gpu": "true"], reachable: false)]) == 2)
        #expect(UnplaceableRuns.count(in: state, nodes: [reasonNode("n1", draining: true)]) == 3, "every node draining: nothing places")
        #expect(UnplaceableRuns.count(in: state, nodes: [reasonNode("n1")], limit: 1) == 1, "only the first runs in queue order are examined")
    }
}
