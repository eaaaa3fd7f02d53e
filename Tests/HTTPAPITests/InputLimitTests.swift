import Foundation
import HTTPAPI
import Hummingbird
import HummingbirdTesting
import SchedulerCore
import Testing

/// Issue #12: every input limit of `APILimits`, at the limit (accepted) and one past it
/// (422 `invalid` naming the exact field and the limit), with the default numbers.
@Suite("Input limits")
struct InputLimitTests {
    static let limits = APILimits()

    static func json<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try JSONEncoder().encode(value), as: UTF8.self)
    }

    /// `count` labels whose keys and values have the given sizes.
    static func labels(_ count: Int, keyBytes: Int = 4, valueBytes: Int = 1) -> [String: String] {
        var labels: [String: String] = [:]
        for i in 0..<count {
            let stem = String(i)
            labels[stem + String(repeating: "k", count: max(0, keyBytes - stem.utf8.count))] = String(repeating: "v", count: valueBytes)
        }
        return labels
    }

    static func shell(argv: [String] = ["/bin/true"], env: [String: String]? = nil) -> TaskBody {
        .shell(command: argv, env: env, workdir: nil)
    }

    static func http(headers: [String: String]? = nil, body: String? = nil) -> TaskBody {
        .http(method: "POST", url: "http://example.com/hook", headers: headers, body: body)
    }

    /// Posts `job` to /api/jobs and returns the status and the error's field.
    static func submit(_ client: any TestClientProtocol, _ job: JobSubmission) async throws -> (HTTPResponse.Status, String?, String) {
        let response = try await client.send(.post, "/api/jobs", json: try json(job))
        return (response.status, response.apiError?.field, response.apiError?.message ?? "")
    }

    /// One case: a job at the limit and one past it, and the field the refusal must name.
    struct Case: Sendable, CustomStringConvertible {
        var description: String
        var atLimit: JobSubmission
        var overLimit: JobSubmission
        var field: String
        var limitText: String
    }

    static let cases: [Case] = {
        let l = limits
        let item = String(repeating: "a", count: 128)
        func job(_ task: TaskBody? = nil, labels: [String: String]? = nil) -> JobSubmission {
            JobSubmission(name: "j", task: task, labels: labels)
        }
        func env(_ count: Int, valueBytes: Int = 1) -> [String: String] {
            Dictionary(uniqueKeysWithValues: (0..<count).map { ("V\($0)", String(repeating: "x", count: valueBytes)) })
        }
        func headers(_ count: Int, valueBytes: Int = 1) -> [String: String] {
            Dictionary(uniqueKeysWithValues: (0..<count).map { ("X-H\($0)", String(repeating: "x", count: valueBytes)) })
        }
        return [
            Case(description: "label count", atLimit: job(labels: labels(l.maxLabels)), overLimit: job(labels: labels(l.maxLabels + 1)),
                 field: "labels", limitText: "\(l.maxLabels)"),
            Case(description: "label key bytes", atLimit: job(labels: labels(1, keyBytes: l.maxLabelKeyBytes)),
                 overLimit: job(labels: labels(1, keyBytes: l.maxLabelKeyBytes + 1)), field: "labels", limitText: "\(l.maxLabelKeyBytes)"),
            Case(description: "label value bytes", atLimit: job(labels: labels(1, valueBytes: l.maxLabelValueBytes)),
                 overLimit: job(labels: labels(1, valueBytes: l.maxLabelValueBytes + 1)), field: "labels", limitText: "\(l.maxLabelValueBytes)"),
            Case(description: "argv items", atLimit: job(shell(argv: ["/bin/true"] + Array(repeating: "x", count: l.maxArgvItems - 1))),
                 overLimit: job(shell(argv: ["/bin/true"] + Array(repeating: "x", count: l.maxArgvItems))),
                 field: "task.command", limitText: "\(l.maxArgvItems)"),
            Case(description: "argv bytes", atLimit: job(shell(argv: Array(repeating: item, count: l.maxArgvBytes / 128))),
                 overLimit: job(shell(argv: Array(repeating: item, count: l.maxArgvBytes / 128 - 1) + [item + "b"])),
                 field: "task.command", limitText: "\(l.maxArgvBytes)"),
            Case(description: "env entries", atLimit: job(shell(env: env(l.maxEnvEntries))), overLimit: job(shell(env: env(l.maxEnvEntries + 1))),
                 field: "task.env", limitText: "\(l.maxEnvEntries)"),
            // One variable "V0=<value>": 3 + value bytes.
            Case(description: "env bytes", atLimit: job(shell(env: env(1, valueBytes: l.maxEnvBytes - 3))),
                 overLimit: job(shell(env: env(1, valueBytes: l.maxEnvBytes - 2))), field: "task.env", limitText: "\(l.maxEnvBytes)"),
            Case(description: "http header count", atLimit: job(http(headers: headers(l.maxHTTPHeaders))),
                 overLimit: job(http(headers: headers(l.maxHTTPHeaders + 1))), field: "task.headers", limitText: "\(l.maxHTTPHeaders)"),
            // One header "X-H0" + value: 4 + value bytes.
            Case(description: "http header bytes", atLimit: job(http(headers: headers(1, valueBytes: l.maxHTTPHeaderBytes - 4))),
                 overLimit: job(http(headers: headers(1, valueBytes: l.maxHTTPHeaderBytes - 3))), field: "task.headers",
                 limitText: "\(l.maxHTTPHeaderBytes)"),
            Case(description: "http body bytes", atLimit: job(http(body: String(repeating: "b", count: l.maxHTTPBodyBytes))),
                 overLimit: job(http(body: String(repeating: "b", count: l.maxHTTPBodyBytes + 1))), field: "task.body",
                 limitText: "\(l.maxHTTPBodyBytes)"),
        ]
    }()

    @Test("a job at each limit is accepted; one past it is 422 naming the field and the limit", arguments: cases)
    func jobLimits(_ c: Case) async throws {
        try await withAPI(makeLocalService()) { client in
            let (okStatus, _, okMessage) = try await Self.submit(client, c.atLimit)
            #expect(okStatus == .created, "\(c): \(okMessage)")
            let (status, field, message) = try await Self.submit(client, c.overLimit)
            #expect(status == .unprocessableContent, "\(c)")
            #expect(field == c.field, "\(c): \(message)")
            #expect(message.contains(c.limitText), "\(c): \(message)")
        }
    }

    @Test("in a batch the field is named under jobs[i]")
    func batchField() async throws {
        try await withAPI(makeLocalService()) { client in
            let jobs = (0..<4).map { i in
                JobSubmission(name: "j\(i)", labels: i == 3 ? Self.labels(Self.limits.maxLabels + 1) : ["a": "b"])
            }
            let response = try await client.send(.post, "/api/jobs/batch", json: try Self.json(BatchSubmission(jobs: jobs)))
            #expect(response.status == .unprocessableContent)
            #expect(response.apiError?.field == "jobs[3].labels")
        }
    }

    @Test("a DAG of 1,000 tasks and 10,000 edges is accepted; 1,001 tasks or 10,001 edges are 422")
    func dagLimits() async throws {
        let l = Self.limits
        /// `tasks` tasks; the last ones depend on the first ten until `edges` edges are used.
        @Sendable func dag(tasks: Int, edges: Int) -> DAGSubmission {
            var remaining = edges
            let bodies = (0..<tasks).map { i -> DAGTaskBody in
                let count = i >= 10 ? min(10, remaining) : 0
                remaining -= count
                return DAGTaskBody(id: "t\(i)", dependsOn: count == 0 ? nil : (0..<count).map { "t\($0)" })
            }
            return DAGSubmission(name: "big", tasks: bodies)
        }
        try await withAPI(makeLocalService()) { client in
            let ok = try await client.send(.post, "/api/dags", json: try Self.json(dag(tasks: l.maxDAGTasks, edges: l.maxDAGEdges - 1000)))
            #expect(ok.status == .created, "\(ok.text.prefix(300))")
            // 990 tasks with 10 edges each is 9,900; an eleventh edge on the last 100 tasks reaches 10,000.
            var full = dag(tasks: l.maxDAGTasks, edges: 9_900)
            for i in 900..<1000 { full.tasks?[i].dependsOn?.append("t10") }
            let atLimit = try await client.send(.post, "/api/dags", json: try Self.json(full))
            #expect(atLimit.status == .created, "\(atLimit.text.prefix(300))")
            full.tasks?[999].dependsOn?.append("t11")
            let overEdges = try await client.send(.post, "/api/dags", json: try Self.json(full))
            #expect(overEdges.status == .unprocessableContent)
            #expect(overEdges.apiError?.field == "tasks[999].depends_on")
            #expect(overEdges.apiError?.message.contains("10000") == true, "\(overEdges.text)")
            let overTasks = try await client.send(.post, "/api/dags", json: try Self.json(dag(tasks: l.maxDAGTasks + 1, edges: 0)))
            #expect(overTasks.status == .unprocessableContent)
            #expect(overTasks.apiError?.field == "tasks")
            #expect(overTasks.apiError?.message.contains("1000") == true)
            let taskLabel = DAGSubmission(name: "d", labels: Self.labels(l.maxLabels + 1), tasks: [DAGTaskBody(id: "a")])
            #expect(try await client.send(.post, "/api/dags", json: try Self.json(taskLabel)).apiError?.field == "labels")
            let taskArgv = DAGSubmission(name: "d", tasks: [DAGTaskBody(id: "a"), DAGTaskBody(
                id: "b", task: Self.shell(argv: Array(repeating: "x", count: l.maxArgvItems + 1)))])
            #expect(try await client.send(.post, "/api/dags", json: try Self.json(taskArgv)).apiError?.field == "tasks[1].task.command")
        }
    }

    @Test("a list page whose JSON would pass the budget ends early with next_cursor; the cursors cover every item once")
    func listBudget() async throws {
        var configured = APILimits()
        configured.maxListResponseBytes = 4_000
        let limits = configured
        let service = makeLocalService()
        try await withAPI(service, limits: limits) { client in
            for i in 0..<12 {
                let job = JobSubmission(name: "job-\(i)", labels: ["note": String(repeating: "n", count: 200)])
                #expect(try await client.send(.post, "/api/jobs", json: try Self.json(job)).status == .created)
            }
            var seen: [String] = []
            var cursor: String?
            var pages = 0
            repeat {
                let response = try await client.send(.get, "/api/jobs?limit=100" + (cursor.map { "&cursor=\($0)" } ?? ""))
                #expect(response.status == .ok)
                #expect(response.body.readableBytes <= limits.maxListResponseBytes, "page of \(response.body.readableBytes) bytes")
                let page = try response.decoded(ListPage<JobResource>.self)
                #expect(!page.items.isEmpty)
                seen += page.items.map(\.id)
                cursor = page.nextCursor
                pages += 1
            } while cursor != nil && pages < 20
            #expect(pages > 1)
            #expect(seen.count == 12)
            #expect(Set(seen).count == 12)
        }
    }
}
