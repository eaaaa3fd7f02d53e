/// One line of the history file (`history.jsonl`): an operation's invocation or its completion.
///
/// Every client request is one operation with a unique `op` number: an `invoke` line before it is
/// sent and one completion line after (`ok`: it happened; `fail`: it certainly did not;
/// `info`: its outcome is unknown, a timeout or `outcome_unknown`). Times are seconds since the
/// run started on one monotonic clock, so "completed before invoked" comparisons are real-time order.
public struct HistoryEntry: Codable, Hashable, Sendable {
    /// `invoke`, `ok`, `fail` or `info`.
    public var type: String
    /// The operation number (shared by an invocation and its completion).
    public var op: Int
    /// The client (a workload task) that issued it; `-1` for the nemesis.
    public var process: Int
    /// What it does (``OperationKind``'s raw value, or `nemesis`).
    public var f: String
    /// The node asked (`n1`…), or what the nemesis did it to.
    public var node: String
    /// Seconds since the run started.
    public var time: Double
    /// The `Idempotency-Key` of a creating request.
    public var key: String?
    /// The job (or DAG run) id: the target of a cancel or read, or the id a submit returned.
    public var id: String?
    /// A read's fine state (`missing` for a 404).
    public var state: String?
    /// A read's attempt number.
    public var attempt: Int?
    /// Anything else worth reading (an HTTP status, an error, a fault's description).
    public var detail: String?
    /// The run an accepted trigger started (its `Quorum-Run-Id`).
    public var run: String?
    /// The tool's wall clock (milliseconds since the epoch, never skewed) when an accepted trigger
    /// was answered.
    public var wallMs: Int64?

    /// An entry.
    public init(type: String, op: Int, process: Int, f: String, node: String, time: Double, key: String? = nil,
                id: String? = nil, state: String? = nil, attempt: Int? = nil, detail: String? = nil, run: String? = nil,
                wallMs: Int64? = nil) {
        self.type = type
        self.op = op
        self.process = process
        self.f = f
        self.node = node
        self.time = time
        self.key = key
        self.id = id
        self.state = state
        self.attempt = attempt
        self.detail = detail
        self.run = run
        self.wallMs = wallMs
    }
}

/// What a workload operation does.
public enum OperationKind: String, Codable, Hashable, Sendable {
    /// `POST /api/jobs` (a once job).
    case submitJob = "submit-job"
    /// `POST /api/dags` (a DAG run).
    case submitDAG = "submit-dag"
    /// `DELETE /api/jobs/{id}`.
    case cancel
    /// `GET /api/job-status/{id}`, linearizable.
    case read
    /// `GET /api/job-status/{id}?stale=true`: the asked node's own state, monotonic per node process only.
    case staleRead = "read-stale"
    /// `POST /api/jobs` of the run's one cron job (`concurrency: forbid`); not a once job, so the
    /// job checks leave it out and the `forbid` check reads its runs.
    case submitCron = "submit-cron"
    /// `POST /api/jobs/{id}/trigger` of the cron job (409 while a run is active: `fail`).
    case trigger
}

/// How an operation ended.
public enum Completion: String, Codable, Hashable, Sendable {
    /// It took effect (2xx).
    case ok
    /// It certainly did not take effect (refused connection, 4xx, 503 `unavailable`).
    case fail
    /// Unknown: a timeout, a dropped connection, 503 `outcome_unknown`.
    case info
}

/// An invocation paired with its completion: what the checker reads.
public struct Operation: Hashable, Sendable {
    /// The operation number.
    public var op: Int
    /// The client.
    public var process: Int
    /// What it did.
    public var kind: OperationKind
    /// The node asked.
    public var node: String
    /// When it was invoked (seconds since the start).
    public var invokedAt: Double
    /// When it completed; `nil` if the history ends before (treated as unknown).
    public var completedAt: Double?
    /// How it ended; `nil` with `completedAt`.
    public var completion: Completion?
    /// The idempotency key of a submit.
    public var key: String?
    /// The job or DAG id (target, or what a submit returned).
    public var id: String?
    /// A read's fine state (`missing` for a 404).
    public var state: String?
    /// A read's attempt number.
    public var attempt: Int?

    /// An operation.
    public init(op: Int, process: Int = 0, kind: OperationKind, node: String = "n1", invokedAt: Double, completedAt: Double?,
                completion: Completion?, key: String? = nil, id: String? = nil, state: String? = nil, attempt: Int? = nil) {
        self.op = op
        self.process = process
        self.kind = kind
        self.node = node
        self.invokedAt = invokedAt
        self.completedAt = completedAt
        self.completion = completion
        self.key = key
        self.id = id
        self.state = state
        self.attempt = attempt
    }

    /// For every node, the times the nemesis started a fault that ends its process (kill,
    /// restart-all, wipe): a restarted node may show an older state than before its crash until it
    /// catches up, so stale reads are compared only within one process's lifetime.
    public static func processEnds(_ entries: [HistoryEntry]) -> [String: [Double]] {
        var ends: [String: [Double]] = [:]
        for entry in entries where entry.f == "nemesis" && entry.type == "invoke" {
            guard let detail = entry.detail,
                  ["start kill", "start restart-all", "start wipe"].contains(where: detail.hasPrefix) else { continue }
            for node in entry.node.split(separator: ",") { ends[String(node), default: []].append(entry.time) }
        }
        return ends
    }

    /// Pairs invocations with completions by `op` (nemesis lines and unknown kinds are skipped),
    /// in invocation order.
    public static func pair(_ entries: [HistoryEntry]) -> [Operation] {
        var invoked: [Int: Operation] = [:]
        var order: [Int] = []
        for entry in entries {
            guard let kind = OperationKind(rawValue: entry.f) else { continue }
            if entry.type == "invoke" {
                invoked[entry.op] = Operation(op: entry.op, process: entry.process, kind: kind, node: entry.node,
                                              invokedAt: entry.time, completedAt: nil, completion: nil, key: entry.key,
                                              id: entry.id)
                order.append(entry.op)
            } else if var operation = invoked[entry.op], let completion = Completion(rawValue: entry.type) {
                operation.completedAt = entry.time
                operation.completion = completion
                operation.id = entry.id ?? operation.id
                operation.state = entry.state
                operation.attempt = entry.attempt
                invoked[entry.op] = operation
            }
        }
        return order.compactMap { invoked[$0] }
    }
}
