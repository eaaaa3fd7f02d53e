/// One mutating API request, for the node's audit log: who (the token's name), what (the
/// route), on what (the id in the path) and how it ended (the status). The API builds it; the
/// node writes it (`quorum.audit` log lines), so this module stays free of logging.
public struct AuditRecord: Sendable, Hashable {
    /// The token's name, or `nil` on a node without tokens (or a request refused before one was
    /// proved: 401).
    public var caller: String?
    /// The route, as in the contract (`POST /api/jobs/{id}/trigger`).
    public var route: String
    /// The id the path names (job, DAG run or run), if any.
    public var id: String?
    /// The HTTP status answered.
    public var status: Int

    /// A record.
    public init(caller: String?, route: String, id: String?, status: Int) {
        self.caller = caller
        self.route = route
        self.id = id
        self.status = status
    }
}
