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
}
