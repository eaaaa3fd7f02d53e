import HTTPAPI

/// Why one server of the list was passed over.
public struct ServerAttempt: Hashable, Sendable, CustomStringConvertible {
    /// The server's base URL.
    public var server: String
    /// What happened: `connection refused`, `503 unavailable: no leader …`.
    public var reason: String

    /// An attempt.
    public init(server: String, reason: String) {
        self.server = server
        self.reason = reason
    }

    /// `server (reason)`.
    public var description: String { "\(server) (\(reason))" }
}

/// Every way a client request can fail, with a message that says what to do.
public enum QuorumClientError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A `--server` entry is not a usable base URL.
    case invalidServer(String, reason: String)
    /// The TLS flags (`--cacert`, `--cert`, `--key`) do not make a usable configuration.
    case invalidTLS(String)
    /// Every server was unreachable or answered 503; one ``ServerAttempt`` per server, in order.
    case noServerAvailable([ServerAttempt])
    /// A write was sent but no answer came back, so it may or may not have been applied.
    case outcomeUnknown(server: String, request: String, reason: String)
    /// The server answered with the API's error object (any status but 503).
    case api(server: String, status: Int, detail: ErrorDetail)
    /// The server answered something that is not the API's JSON for this request.
    case unexpectedResponse(server: String, request: String, status: Int, reason: String)

    /// Whether the user's input is at fault (a bad `--server`, or a 400/422 from the server):
    /// the CLI exits 2 for these.
    public var isInvalidInput: Bool {
        switch self {
        case .invalidServer, .invalidTLS: true
        case .api(_, let status, _): status == 400 || status == 412 || status == 422
        case .noServerAvailable, .outcomeUnknown, .unexpectedResponse: false
        }
    }

    /// The HTTP status the server answered, if it answered with an error object.
    public var status: Int? {
        if case .api(_, let status, _) = self { return status }
        return nil
    }

    /// One line for the user.
    public var description: String {
        switch self {
        case .invalidServer(let entry, let reason):
            return "--server: '\(entry)': \(reason)"
        case .invalidTLS(let reason):
            return reason
        case .noServerAvailable(let attempts):
            let tried = attempts.map(\.description).joined(separator: ", ")
            return "no Quorum node could serve the request; tried \(tried). "
                + "Check that the nodes are running (scripts/cluster-up.sh) and that --server lists their API addresses; "
                + "a 503 means the cluster has no leader yet, so retry in a few seconds."
        case .outcomeUnknown(let server, let request, let reason):
            return "\(request) to \(server) got no answer (\(reason)); it may or may not have been applied. "
                + "Check with `quorum jobs` before retrying, or retry with the same --idempotency-key."
        case .api(let server, let status, let detail):
            let field = detail.field.map { "\($0): " } ?? ""
            return "\(field)\(detail.message) (\(status) \(detail.code) from \(server))"
        case .unexpectedResponse(let server, let request, let status, let reason):
            return "\(request) to \(server) answered \(status) with an unexpected body (\(reason)); "
                + "is --server pointing at a Quorum node of the same version?"
        }
    }
}
