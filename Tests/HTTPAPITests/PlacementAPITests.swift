import Foundation
@testable import HTTPAPI
import SchedulerCore
import SchedulerPlanning
import Synchronization
import Testing

/// `constraints` and `max_per_node` on job and DAG submissions (docs/scheduling.md, "Placement").
@Suite("Placement in the API")
struct PlacementAPITests {
    @Test("constraints and max_per_node are kept and shown; a DAG's apply to its tasks, a task's add to them")
    func keptAndShown() async throws {
        try await withAPI(makeLocalService()) { client in
            let job = try await client.send(.post, "/api/jobs", json: #"{"name":"a","constraints":{"gpu":"true"},"max_per_node":2}"#)
            #expect(job.status == .created)
            let resource = try job.decoded(JobResource.self)
            #expect(resource.constraints == ["gpu": "true"])
            #expect(resource.maxPerNode == 2)
            let plain = try await client.send(.post, "/api/jobs", json: #"{"name":"b"}"#)
            #expect(!plain.text.contains("constraints"))
            #expect(!plain.text.contains("max_per_node"))
        }
        let planned = try SubmissionPlanner.planDAG(
            DAGSubmission(name: "d", tasks: [DAGTaskBody(id: "a"), DAGTaskBody(id: "b", constraints: ["zone": "b", "gpu": "false"], maxPerNode: .integer(1))],
                          constraints: ["gpu": "true"], maxPerNode: .integer(3)),
            now: startOfTest)
        guard case .run(let dag, _, _) = planned else {
            Issue.record("not a DAG run")
            return
        }
        #expect(dag.tasks[0].placement == Placement(constraints: [KeyValue("gpu", "true")], maxPerNode: 3))
        #expect(dag.tasks[1].placement == Placement(constraints: [KeyValue("gpu", "false"), KeyValue("zone", "b")], maxPerNode: 1))
    }

    @Test("a bad constraint or max_per_node is 422 naming the field (the key for a constraint)",
          arguments: [
            (#""constraints":{"g pu":"true"}"#, "constraints.g pu"),
            (#""constraints":{"gpu":""}"#, "constraints.gpu"),
            (#""constraints":{"-gpu":"x"}"#, "constraints.-gpu"),
            (#""max_per_node":0"#, "max_per_node"),
            (#""max_per_node":1025"#, "max_per_node"),
            (#""max_per_node":1.5"#, "max_per_node"),
          ])
    func validates(_ fragment: String, _ field: String) async throws {
        try await withAPI(makeLocalService()) { client in
            let job = try await client.send(.post, "/api/jobs", json: #"{"name":"a","# + fragment + "}")
            #expect(job.status == .unprocessableContent)
            #expect(job.apiError?.field == field)
            let task = try await client.send(.post, "/api/dags", json: #"{"name":"d","tasks":[{"id":"a","# + fragment + "}]}")
            #expect(task.status == .unprocessableContent)
            #expect(task.apiError?.field == "tasks[0]." + field)
        }
    }

    @Test("more than 16 constraints is 422 constraints")
    func tooMany() async throws {
        let many = (0..<17).map { "\"k\($0)\":\"v\"" }.joined(separator: ",")
        try await withAPI(makeLocalService()) { client in
            let job = try await client.send(.post, "/api/jobs", json: #"{"name":"a","constraints":{"# + many + "}}")
            #expect(job.status == .unprocessableContent)
            #expect(job.apiError?.field == "constraints")
        }
    }

    @Test("a queued job's reason comes from the members: no match, all draining, none when one may take it")
    func reasons() async throws {
        func cluster(_ nodes: [ClusterNodeResource]) -> ClusterResource {
            ClusterResource(leader: "n1", term: 1, commitIndex: 1, nodes: nodes)
        }
        func node(_ id: String, labels: [String: String], draining: Bool = false) -> ClusterNodeResource {
            ClusterNodeResource(id: id, role: "follower", api: "", raft: "", reachable: true, matchIndex: 0, slots: 2, busy: 0,
                                labels: labels, draining: draining)
        }
        let job = Mutex<JobResource?>(nil)
        try await withAPI(makeLocalService()) { client in
            let created = try await client.send(.post, "/api/jobs", json: #"{"name":"a","constraints":{"gpu":"true"}}"#)
            let decoded = try created.decoded(JobResource.self)
            job.withLock { $0 = decoded }
        }
        var queued = try #require(job.withLock { $0 })
        queued.state = "queued"
        #expect(JobWaitReasons.annotate([queued], cluster: cluster([node("n1", labels: [:])])).first?.reason == "no node with gpu=true")
        #expect(JobWaitReasons.annotate([queued], cluster: cluster([node("n1", labels: ["gpu": "true"], draining: true)])).first?.reason
                == "all nodes with gpu=true are draining")
        #expect(JobWaitReasons.annotate([queued], cluster: cluster([node("n1", labels: ["gpu": "true"])])).first?.reason == nil)
        var limited = queued
        limited.maxPerNode = 1
        #expect(JobWaitReasons.annotate([limited], cluster: cluster([node("n1", labels: ["gpu": "true"])]),
                                        running: [limited.id: ["n1": 1]]).first?.reason
                == "every live node with gpu=true with a free slot already runs max_per_node=1 of its attempts")
        var running = queued
        running.state = "running"
        #expect(JobWaitReasons.annotate([running], cluster: cluster([])).first?.reason == nil)
    }

    /// What the duty planner assigns now on `nodes` (run id → node): the placement is read from
    /// the job's spec each round, so an edit reaches runs already queued.
    static func placed(_ service: LocalSchedulerService, on nodes: [ExecutorCapacity]) async throws -> [String: String] {
        try await service.replica.read(.stale) { state in
            var result: [String: String] = [:]
            for command in DutyPlanner.plan(state: state, now: startOfTest, executors: nodes, lost: [], maxAssignments: 10, nextRunID: { RunID("fire") }) {
                if case .assignAttempt(let a) = command { result[a.runID.rawValue] = a.executor.rawValue }
            }
            return result
        }
    }

    @Test("a queued job waiting for 'no node with gpu=true' is placed once PATCH edits its constraints; If-Match is honoured")
    func editedConstraintsPlace() async throws {
        let service = makeLocalService()
        let plain = [ExecutorCapacity(id: "n1", slots: 2, isLeader: false, isReachable: true, labels: ["zone": "a"], isDraining: false)]
        let members = ClusterResource(leader: "n1", term: 1, commitIndex: 1, nodes: [
            ClusterNodeResource(id: "n1", role: "leader", api: "", raft: "", reachable: true, matchIndex: 0, slots: 2, busy: 0,
                                labels: ["zone": "a"], draining: false),
        ])
        let queued = Mutex<JobResource?>(nil)
        try await withAPI(service) { client in
            let created = try await client.send(.post, "/api/jobs", json: #"{"name":"train","constraints":{"gpu":"true"},"max_per_node":1}"#)
            let job = try created.decoded(JobResource.self)
            queued.withLock { $0 = job }
            #expect(job.state == "queued")
            #expect(JobWaitReasons.annotate([job], cluster: members).first?.reason == "no node with gpu=true")
            #expect(try await Self.placed(service, on: plain).isEmpty)

            let stale = try await client.send(.patch, "/api/jobs/\(job.id)", json: #"{"constraints":{"zone":"a"}}"#,
                                              headers: [.init("If-Match")!: #""7""#])
            #expect(stale.status == .preconditionFailed, "\(stale.text)")
            let patched = try await client.send(.patch, "/api/jobs/\(job.id)", json: #"{"constraints":{"zone":"a"}}"#,
                                                headers: [.init("If-Match")!: #""1""#])
            #expect(patched.status == .ok, "\(patched.text)")
            let edited = try patched.decoded(JobResource.self)
            #expect(edited.constraints == ["zone": "a"] && edited.maxPerNode == 1 && edited.version == 2,
                    "constraints replaced whole, max_per_node kept")
            #expect(JobWaitReasons.annotate([edited], cluster: members).first?.reason == nil)
            #expect(Array(try await Self.placed(service, on: plain).values) == ["n1"], "the queued run goes to n1 now")

            let limit = try await client.send(.patch, "/api/jobs/\(job.id)", json: #"{"max_per_node":3,"constraints":{}}"#)
            #expect(limit.status == .ok, "\(limit.text)")
            let unconstrained = try limit.decoded(JobResource.self)
            #expect(unconstrained.constraints == nil && unconstrained.maxPerNode == 3, "{} removes every constraint")
        }
        #expect(queued.withLock { $0 } != nil)
    }

    @Test("a PATCH of constraints or max_per_node is checked as on submission (422 naming the field); a scheduled DAG's is refused",
          arguments: [
            (#""constraints":{"g pu":"true"}"#, "constraints.g pu"),
            (#""constraints":{"gpu":""}"#, "constraints.gpu"),
            (#""max_per_node":0"#, "max_per_node"),
            (#""max_per_node":1025"#, "max_per_node"),
            (#""max_per_node":1.5"#, "max_per_node"),
          ])
    func editValidates(_ fragment: String, _ field: String) async throws {
        try await withAPI(makeLocalService()) { client in
            let job = try await client.send(.post, "/api/jobs", json: #"{"name":"a","schedule":"0 * * * *"}"#).decoded(JobResource.self)
            let patched = try await client.send(.patch, "/api/jobs/\(job.id)", json: "{" + fragment + "}")
            #expect(patched.status == .unprocessableContent, "\(patched.text)")
            #expect(patched.apiError?.field == field)
            let dag = try await client.send(.post, "/api/dags", json: #"{"name":"d","schedule":"0 * * * *","tasks":[{"id":"a"}]}"#)
            let dagJob = try dag.decoded(JobResource.self)
            let refused = try await client.send(.patch, "/api/jobs/\(dagJob.id)", json: #"{"constraints":{"gpu":"true"}}"#)
            #expect(refused.status == .unprocessableContent, "\(refused.text)")
            #expect(refused.apiError?.field == "constraints")
        }
    }

    @Test("a queued DAG task carries the reason a job would, from its own placement, in GET /api/dags/{id} and the list")
    func dagTaskReasons() async throws {
        try await withAPI(makeLocalService()) { client in
            let body = #"{"name":"d","tasks":[{"id":"train","constraints":{"gpu":"true"}},{"id":"after","depends_on":["train"]}]}"#
            let created = try await client.send(.post, "/api/dags", json: body)
            #expect(created.status == .created, "\(created.text)")
            let dag = try created.decoded(DAGRunResource.self)
            let read = try await client.send(.get, "/api/dags/\(dag.id)").decoded(DAGRunResource.self)
            let train = try #require(read.tasks.first { $0.id == "train" })
            #expect(train.state == "queued")
            // The local service is one node without labels: nothing carries gpu=true.
            #expect(train.reason == "no node with gpu=true")
            #expect(read.tasks.first { $0.id == "after" }?.reason == nil, "a pending task waits for its dependency, not a node")
            let list = try await client.send(.get, "/api/dags").decoded(ListPage<DAGRunResource>.self)
            #expect(list.items.first?.tasks.first { $0.id == "train" }?.reason == "no node with gpu=true")
            let job = try await client.send(.post, "/api/jobs", json: #"{"name":"j","constraints":{"gpu":"true"}}"#).decoded(JobResource.self)
            let jobRead = try await client.send(.get, "/api/jobs/\(job.id)").decoded(JobResource.self)
            #expect(jobRead.reason == train.reason, "the same text as a job's")
        }
    }
}
