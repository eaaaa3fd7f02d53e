/// One configurable request limit of the HTTP API: a key of the `[api.limits]` table.
///
/// The config layer knows only names, ranges and defaults; the `quorum` executable maps each
/// case onto the API's own limits value (`ClusterConfig` must not depend on `HTTPAPI`). The
/// defaults are the documented ones (docs/api.md, "Limits"); every key is optional.
///
/// Limits are checked by the node that receives a request, before anything is proposed, so
/// give every node the same values (one cluster file does that). Apply never reads them.
public enum APIRequestLimit: String, CaseIterable, Sendable, Hashable {
    case maxBodyBytes = "max_body_bytes"
    case maxBatchBodyBytes = "max_batch_body_bytes"
    case maxBatchJobs = "max_batch_jobs"
    case defaultPageSize = "default_page_size"
    case maxPageSize = "max_page_size"
    case maxIdempotencyKeyBytes = "max_idempotency_key_bytes"
    case maxLabels = "max_labels"
    case maxLabelKeyBytes = "max_label_key_bytes"
    case maxLabelValueBytes = "max_label_value_bytes"
    case maxArgvItems = "max_argv_items"
    case maxArgvBytes = "max_argv_bytes"
    case maxEnvEntries = "max_env_entries"
    case maxEnvBytes = "max_env_bytes"
    case maxHTTPHeaders = "max_http_headers"
    case maxHTTPHeaderBytes = "max_http_header_bytes"
    case maxHTTPBodyBytes = "max_http_body_bytes"
    case maxDAGTasks = "max_dag_tasks"
    case maxDAGEdges = "max_dag_edges"
    case maxListResponseBytes = "max_list_response_bytes"
    case idleTimeoutSeconds = "idle_timeout_seconds"
    case maxConnections = "max_connections"

    /// The `[api.limits]` key.
    public var key: String { rawValue }

    /// The value when the key is absent.
    public var defaultValue: Int {
        switch self {
        case .maxBodyBytes: 1 << 20
        case .maxBatchBodyBytes: 32 << 20
        case .maxBatchJobs: 10_000
        case .defaultPageSize: 100
        case .maxPageSize: 1_000
        case .maxIdempotencyKeyBytes: 256
        case .maxLabels: 64
        case .maxLabelKeyBytes: 63
        case .maxLabelValueBytes: 256
        case .maxArgvItems: 1_024
        case .maxArgvBytes: 128 << 10
        case .maxEnvEntries: 256
        case .maxEnvBytes: 64 << 10
        case .maxHTTPHeaders: 64
        case .maxHTTPHeaderBytes: 16 << 10
        case .maxHTTPBodyBytes: 256 << 10
        case .maxDAGTasks: 1_000
        case .maxDAGEdges: 10_000
        case .maxListResponseBytes: 8 << 20
        case .idleTimeoutSeconds: 60
        case .maxConnections: 1_024
        }
    }

    /// The values a config may set. The upper bounds keep one request within what a node can
    /// hold and replicate: a body never needs to exceed the largest entry a peer frame carries
    /// (48 MiB; `raft.max_entry_bytes` refuses larger commands anyway), a DAG's tasks are all
    /// walked by every apply that touches it, and a list page is built in memory.
    public var allowed: ClosedRange<Int> {
        switch self {
        case .maxBodyBytes: 1_024...(48 << 20)
        case .maxBatchBodyBytes: 1_024...(48 << 20)
        case .maxBatchJobs: 1...100_000
        case .defaultPageSize: 1...10_000
        case .maxPageSize: 1...10_000
        case .maxIdempotencyKeyBytes: 16...4_096
        case .maxLabels: 0...1_024
        case .maxLabelKeyBytes: 1...1_024
        case .maxLabelValueBytes: 0...65_536
        case .maxArgvItems: 1...65_536
        case .maxArgvBytes: 1...(16 << 20)
        case .maxEnvEntries: 0...65_536
        case .maxEnvBytes: 0...(16 << 20)
        case .maxHTTPHeaders: 0...1_024
        case .maxHTTPHeaderBytes: 0...(1 << 20)
        case .maxHTTPBodyBytes: 0...(16 << 20)
        case .maxDAGTasks: 1...100_000
        case .maxDAGEdges: 0...1_000_000
        case .maxListResponseBytes: (64 << 10)...(256 << 20)
        case .idleTimeoutSeconds: 1...86_400
        case .maxConnections: 1...1_000_000
        }
    }
}

/// The `[api.limits]` table: the limits a config sets, each within ``APIRequestLimit/allowed``.
public struct APIRequestLimits: Sendable, Equatable {
    /// The keys the file set; absent keys take ``APIRequestLimit/defaultValue``.
    public private(set) var overrides: [APIRequestLimit: Int] = [:]

    /// No overrides: every limit at its default.
    public init() {}

    /// The value in force for `limit`.
    public subscript(limit: APIRequestLimit) -> Int {
        get { overrides[limit] ?? limit.defaultValue }
        set { overrides[limit] = newValue }
    }
}
