import Foundation

/// One request of the API, independent of the server that will answer it.
public struct APIRequest: Hashable, Sendable, CustomStringConvertible {
    /// The HTTP methods the API uses.
    public enum Method: String, Hashable, Sendable {
        /// Reads.
        case get = "GET"
        /// Creates and actions.
        case post = "POST"
        /// Cancels and purges.
        case delete = "DELETE"
        /// Edits.
        case patch = "PATCH"
        /// Replacements (a member's labels).
        case put = "PUT"
    }

    /// One `name=value` query parameter (unescaped).
    public struct QueryItem: Hashable, Sendable {
        /// The name.
        public var name: String
        /// The value.
        public var value: String
        /// An item.
        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    /// The method.
    public var method: Method
    /// Path segments after the server's base URL, unescaped: `["api", "jobs", id]`.
    public var pathSegments: [String]
    /// Query parameters, in order (a name may repeat).
    public var query: [QueryItem]
    /// A JSON body, sent as it is.
    public var body: [UInt8]?
    /// The `Idempotency-Key` header, if any.
    public var idempotencyKey: String?
    /// The `If-Match` header (a job version), if any.
    public var ifMatch: Int?

    /// A request.
    public init(_ method: Method, _ pathSegments: [String], query: [QueryItem] = [], body: [UInt8]? = nil,
                idempotencyKey: String? = nil, ifMatch: Int? = nil) {
        self.method = method
        self.pathSegments = pathSegments
        self.query = query
        self.body = body
        self.idempotencyKey = idempotencyKey
        self.ifMatch = ifMatch
    }

    /// Whether sending it twice is harmless, so a failure after sending may be retried on the
    /// next server: reads, writes that carry an idempotency key, and a `PATCH` with `If-Match`
    /// (a repeat of one that landed answers 412 instead of editing twice).
    public var isSafeToRepeat: Bool { method == .get || idempotencyKey != nil || (method == .patch && ifMatch != nil) }

    /// The escaped path and query: `/api/jobs/a%2Fb?state=dead`.
    public var target: String {
        let path = "/" + pathSegments.map(Self.escapeSegment).joined(separator: "/")
        guard !query.isEmpty else { return path }
        return path + "?" + query.map { "\(Self.escapeQuery($0.name))=\(Self.escapeQuery($0.value))" }.joined(separator: "&")
    }

    /// `GET /api/jobs/abc`.
    public var description: String { "\(method.rawValue) \(target)" }

    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    /// Ids are opaque, so everything outside RFC 3986's unreserved set is escaped (a `/` in an
    /// id must not become a path separator).
    static func escapeSegment(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
    }

    static func escapeQuery(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved.union(CharacterSet(charactersIn: ":"))) ?? text
    }
}

/// A server's answer: which server, the status and the body bytes exactly as sent.
public struct APIResponse: Hashable, Sendable {
    /// The base URL of the server that answered.
    public var server: String
    /// The HTTP status.
    public var status: Int
    /// The body.
    public var body: [UInt8]

    /// A response.
    public init(server: String, status: Int, body: [UInt8]) {
        self.server = server
        self.status = status
        self.body = body
    }
}

/// A decoded reply with the JSON it came from, so `--json` can print the server's own bytes.
public struct APIReply<Value: Sendable>: Sendable {
    /// The decoded body.
    public var value: Value
    /// The body exactly as the server sent it (empty for 204).
    public var json: [UInt8]
    /// The base URL of the server that answered.
    public var server: String
    /// The HTTP status (201 for a new job, 200 for an idempotent repeat).
    public var status: Int

    /// A reply.
    public init(value: Value, json: [UInt8], server: String, status: Int) {
        self.value = value
        self.json = json
        self.server = server
        self.status = status
    }
}
