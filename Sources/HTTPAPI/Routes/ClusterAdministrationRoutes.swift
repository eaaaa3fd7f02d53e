import Hummingbird
import NIOCore

/// A membership write sent on to the leader's API: method, path, JSON body, the caller's
/// `Authorization` header, the leader's API base URL. Answers the leader's status and body.
public typealias ClusterWriteForwarder = @Sendable (_ method: String, _ path: String, _ body: [UInt8]?,
                                                    _ authorization: String?, _ leaderBase: String) async throws -> (status: Int, body: [UInt8])

/// The membership writes of the API (`/api/cluster/nodes…`, `/api/cluster/leader`) and clearing a
/// replica check (`/api/cluster/nodes/{id}/clear-divergence`), registered
/// by the node next to ``QuorumRoutes`` (docs/api.md, "Membership changes"). Every one needs
/// the `admin` role when tokens are on, and is audited like the other writes.
public struct ClusterAdministrationRoutes: Sendable {
    /// The routes, as the contract lists them.
    public static var all: [APIRoute] {
        [
            APIRoute("POST", "/api/cluster/nodes"), APIRoute("POST", "/api/cluster/nodes/{id}/promote"),
            APIRoute("DELETE", "/api/cluster/nodes/{id}"), APIRoute("POST", "/api/cluster/leader"),
            APIRoute("POST", "/api/cluster/nodes/{id}/clear-divergence"),
        ]
    }

    /// Marks a request a follower forwarded: it is never forwarded again (no loops).
    public static let forwardedHeader = "Quorum-Forwarded"

    /// What carries the changes out.
    public let admin: any ClusterAdministration
    /// Sends a write that reached a follower on to the leader (like other writes); `nil`: the
    /// follower answers 503 naming the leader and the client moves on.
    public let forwarder: ClusterWriteForwarder?
    /// The body limit.
    public let limits: APILimits

    /// Routes over `admin`.
    public init(admin: any ClusterAdministration, limits: APILimits = APILimits(), forwarder: ClusterWriteForwarder? = nil) {
        self.admin = admin
        self.forwarder = forwarder
        self.limits = limits
    }

    /// Adds the routes to `router`; with `authorizer`, the caller needs the `admin` role.
    public func register<Context: RequestContext>(on router: Router<Context>, authorizer: TokenAuthorizer? = nil,
                                                  audit: (@Sendable (AuditRecord) -> Void)? = nil) {
        let admin = self.admin
        let limits = self.limits
        let forwarder = self.forwarder
        typealias R = RequestReading
        for route in Self.all {
            router.on(RouterPath(route.routerPath), method: HTTPRequest.Method(rawValue: route.method) ?? .post) { (request: Request, context: Context) async throws -> Response in
                var caller: String?
                let id = context.parameters.get("id")
                do {
                    if let authorizer {
                        let proved = try authorizer.authenticate(request)
                        caller = proved.name
                        try TokenAuthorizer.check(proved, allows: .admin)
                    }
                    let mayForward = !request.headers.contains { $0.name.canonicalName == Self.forwardedHeader.lowercased() }
                    if let forwarder, mayForward, let leader = await admin.leaderAPIBase() {
                        let body = route.method == "DELETE" || route.path.hasSuffix("/promote")
                            || route.path.hasSuffix("/clear-divergence") ? nil
                            : try await R.body(request, limit: limits.maxBodyBytes)
                        let response = try await Self.forward(request, body: body, to: leader, with: forwarder)
                        audit?(AuditRecord(caller: caller, route: route.description, id: id, status: Int(response.status.code)))
                        return response
                    }
                    let response: Response
                    switch (route.method, route.path) {
                    case ("POST", "/api/cluster/nodes"):
                        let body = try await R.body(request, limit: limits.maxBodyBytes)
                        let added = try StrictJSON.decode(AddNodeRequest.self, from: body)
                        response = try R.json(try await admin.addNode(added), status: .created)
                    case ("POST", "/api/cluster/nodes/{id}/promote"):
                        response = try R.json(try await admin.promoteNode(try R.pathParameter("id", context)))
                    case ("POST", "/api/cluster/nodes/{id}/clear-divergence"):
                        response = try R.json(try await admin.clearDivergence(try R.pathParameter("id", context)))
                    case ("DELETE", "/api/cluster/nodes/{id}"):
                        let removed = try R.pathParameter("id", context)
                        do {
                            response = try R.json(try await admin.removeNode(removed))
                        } catch let error as APIError where error.code == .unavailable && forwarder != nil && mayForward {
                            // The leader removing itself handed over first: the new leader removes it.
                            guard let forwarder, let leader = await admin.leaderAPIBase() else { throw error }
                            response = try await Self.forward(request, body: nil, to: leader, with: forwarder)
                        }
                    default:
                        let body = try await R.body(request, limit: limits.maxBodyBytes)
                        let transfer = try StrictJSON.decode(TransferLeaderRequest.self, from: body)
                        response = try R.json(try await admin.transferLeadership(to: transfer.to))
                    }
                    audit?(AuditRecord(caller: caller, route: route.description, id: id, status: Int(response.status.code)))
                    return response
                } catch let error as APIError {
                    audit?(AuditRecord(caller: caller, route: route.description, id: id, status: error.code.statusCode))
                    throw error
                } catch {
                    audit?(AuditRecord(caller: caller, route: route.description, id: id, status: APIError(mapping: error).code.statusCode))
                    throw error
                }
            }
        }
    }

    /// Sends `request` (its path, `body`, `Authorization`) to `leader` and answers what it answered.
    /// A leader that cannot be reached is a 503 `unavailable`: nothing was changed.
    static func forward(_ request: Request, body: [UInt8]?, to leader: String,
                        with forwarder: ClusterWriteForwarder) async throws(APIError) -> Response {
        let answer: (status: Int, body: [UInt8])
        do {
            answer = try await forwarder(request.method.rawValue, request.uri.path, body, request.headers[.authorization], leader)
        } catch {
            throw .unavailable(retryAfter: 1, "the leader at \(leader) did not answer the forwarded membership change (\(error)); "
                + "nothing was changed here: retry")
        }
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: HTTPResponse.Status(code: answer.status), headers: headers,
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: answer.body)))
    }
}
