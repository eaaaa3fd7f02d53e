/// Where the API finds an attempt's full output tail, which only the node that ran the attempt
/// keeps (the replicated state holds its last 4 KiB).
///
/// HTTPAPI never imports the node runtime: the `quorum` executable implements this over the
/// node's output store and, for attempts another node ran, a proxied request to that node's API.
/// Without a source the endpoint answers from the replicated short tail.
public protocol AttemptOutputSource: Sendable {
    /// The full output of the attempt `request` names, or `nil` when it cannot be had (the
    /// executor node is unreachable, no longer keeps it, or proxying is not allowed). Never
    /// throws: the caller then answers with the replicated short tail.
    func fullOutput(_ request: AttemptOutputRequest) async -> FetchedAttemptOutput?
}

/// Which attempt's output to fetch, and how the request came in.
public struct AttemptOutputRequest: Hashable, Sendable {
    /// The job.
    public var jobID: String
    /// The run.
    public var runID: String
    /// The attempt number (≥ 1).
    public var attempt: Int
    /// The node that ran the attempt (the attempt record's `executor`).
    public var executor: String
    /// The caller's `Authorization` header, forwarded as it is when proxying.
    public var authorization: String?
    /// `false` when the request was itself proxied (it carries ``proxiedHeader``): a node serves
    /// from its own store or not at all, so a request is never proxied twice.
    public var mayProxy: Bool

    /// A request.
    public init(jobID: String, runID: String, attempt: Int, executor: String, authorization: String?, mayProxy: Bool) {
        self.jobID = jobID
        self.runID = runID
        self.attempt = attempt
        self.executor = executor
        self.authorization = authorization
        self.mayProxy = mayProxy
    }

    /// The header a proxying node adds to its request (value `1`).
    public static let proxiedHeader = "X-Quorum-Proxied"
}

/// A full output fetched by an ``AttemptOutputSource``.
public struct FetchedAttemptOutput: Hashable, Sendable {
    /// The full output tail (up to 64 KiB).
    public var text: String
    /// Where it came from: ``AttemptOutputResource/Source/local`` or ``AttemptOutputResource/Source/executor``.
    public var source: AttemptOutputResource.Source

    /// An output.
    public init(text: String, source: AttemptOutputResource.Source) {
        self.text = text
        self.source = source
    }
}
