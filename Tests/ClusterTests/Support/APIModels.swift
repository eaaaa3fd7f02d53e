import Foundation

// The parts of the API's JSON these tests read and write, written from docs/api.md on purpose
// (not the HTTPAPI module's types): a change to the wire format breaks these tests.

/// `GET /api/jobs/{id}` (the fields used here).
struct Job: Decodable, Sendable {
    var id: String
    var name: String
    var type: String
    var state: String
    var status: String
    var attempt: Int
    var runs: [Attempt]
}

/// One attempt (`/api/jobs/{id}/runs` items, a job's `runs`).
struct Attempt: Decodable, Sendable {
    var runId: String
    var attempt: Int
    var executor: String?
    var state: String
    var outcome: String?
    var scheduledAt: String
    var startedAt: String?
    var finishedAt: String?
    var exitCode: Int?
    var error: String?
    var outputTail: String?
}

/// `{"items": […]}` lists.
struct Items<Item: Decodable & Sendable>: Decodable, Sendable {
    var items: [Item]
}

/// `GET /api/dlq` items.
struct DeadLetter: Decodable, Sendable {
    var runId: String
    var jobId: String?
    var attempts: Int
    var error: String
}

/// `GET /api/cluster`.
struct ClusterInfo: Decodable, Sendable {
    struct Node: Decodable, Sendable {
        var id: String
        var role: String
        /// The recorded data-directory incarnation (`"0x…"`), absent while unrecorded.
        var incarnation: String?
        /// Whether it votes (absent from older builds).
        var voter: Bool?
    }
    var leader: String?
    var term: UInt64
    var commitIndex: UInt64
    var nodes: [Node]
}

/// `GET /api/dags/{id}`.
struct DAGRun: Decodable, Sendable {
    struct Task: Decodable, Sendable {
        var id: String
        var state: String
        var dependsOn: [String]
        var attempt: Int
        var startedAt: String?
        var finishedAt: String?
    }
    var id: String
    var state: String
    var tasks: [Task]
}

/// The `{"error": {…}}` object.
struct ErrorObject: Decodable, Sendable {
    struct Detail: Decodable, Sendable {
        var code: String
        var message: String
        var field: String?
    }
    var error: Detail
}

/// A job submission (`POST /api/jobs`); nil fields are left out.
struct JobSubmission: Encodable, Sendable {
    var name: String
    var type: String = "once"
    var schedule: String?
    var priority: Int?
    var task: TaskSpec
    var retry: RetrySpec?
    var timeoutSeconds: Double?

    enum CodingKeys: String, CodingKey {
        case name, type, schedule, priority, task, retry
        case timeoutSeconds = "timeout_seconds"
    }
}

/// A task body (`{"kind": …}`).
struct TaskSpec: Encodable, Sendable {
    var kind: String
    var command: [String]?
    var env: [String: String]?
    var seconds: Double?

    static let noop = TaskSpec(kind: "noop")
    static func sleep(_ seconds: Double) -> TaskSpec { TaskSpec(kind: "sleep", seconds: seconds) }
    static func shell(_ argv: [String], env: [String: String]? = nil) -> TaskSpec {
        TaskSpec(kind: "shell", command: argv, env: env)
    }
}

/// A retry policy.
struct RetrySpec: Encodable, Sendable {
    var maxAttempts: Int
    var initialBackoffMs: Int
    var multiplier: Double
    var maxBackoffMs: Int
    var jitter: Bool

    enum CodingKeys: String, CodingKey {
        case maxAttempts = "max_attempts"
        case initialBackoffMs = "initial_backoff_ms"
        case multiplier
        case maxBackoffMs = "max_backoff_ms"
        case jitter
    }
}

/// A DAG submission (`POST /api/dags`).
struct DAGSubmission: Encodable, Sendable {
    struct Task: Encodable, Sendable {
        var id: String
        var task: TaskSpec
        var dependsOn: [String]?
        enum CodingKeys: String, CodingKey {
            case id, task
            case dependsOn = "depends_on"
        }
    }
    var name: String
    var tasks: [Task]
}

/// `{"id": …}`: the part of a created resource the tests keep.
struct Created: Decodable, Sendable {
    var id: String
}

/// `POST /api/jobs/batch` body.
struct JobBatch: Encodable, Sendable {
    var jobs: [JobSubmission]
}

/// `POST /api/jobs/batch` answer.
struct BatchCreated: Decodable, Sendable {
    var ids: [String]
}
