import Hummingbird

/// The membership writes of the API (`/api/cluster/nodes…`, `/api/cluster/leader`), registered
/// by the node next to ``QuorumRoutes`` (docs/api.md, "Membership changes"). Every one needs
/// the `admin` role when tokens are on, and is audited like the other writes.
public struct ClusterAdministrationRoutes: Sendable {
    /// The routes, as the contract lists them.
    public static var all: [APIRoute] {
        [
            APIRoute("POST", "/api/cluster/nodes"), APIRoute("POST", "/api/cluster/nodes/{id}/promote"),
            APIRoute("DELETE", "/api/cluster/nodes/{id}"), APIRoute("POST", "/api/cluster/leader"),
        ]
    }

    /// What carries the changes out.
    public let admin: any ClusterAdministration
    /// The body limit.
    public let limits: APILimits

    /// Routes over `admin`.
    public init(admin: any ClusterAdministration, limits: APILimits = APILimits()) {
        self.admin = admin
        self.limits = limits
    }

    /// Adds the routes to `router`; with `authorizer`, the caller needs the `admin` role.
    public func register<Context: RequestContext>(on router: Router<Context>, authorizer: TokenAuthorizer? = nil,
                                                  audit: (@Sendable (AuditRecord) -> Void)? = nil) {
        let admin = self.admin
        let limits = self.limits
        typealias R = RequestReading
        for route in Self.all {
            router.on(RouterPath(route.routerPath), method: HTTPRequest.Method(rawValue: route.method) ?? .post) { request, context in
                var caller: String?
                let id = context.parameters.get("id")
                do {
                    if let authorizer {
                        let proved = try authorizer.authenticate(request)
                        caller = proved.name
                        try TokenAuthorizer.check(proved, allows: .admin)
                    }
                    let response: Response
                    switch (route.method, route.path) {
                    case ("POST", "/api/cluster/nodes"):
                        let body = try await R.body(request, limit: limits.maxBodyBytes)
                        let added = try StrictJSON.decode(AddNodeRequest.self, from: body)
                        response = try R.json(try await admin.addNode(added), status: .created)
                    case ("POST", "/api/cluster/nodes/{id}/promote"):
                        response = try R.json(try await admin.promoteNode(try R.pathParameter("id", context)))
                    case ("DELETE", "/api/cluster/nodes/{id}"):
                        response = try R.json(try await admin.removeNode(try R.pathParameter("id", context)))
                    default:
                        let body = try await R.body(request, limit: limits.maxBodyBytes)
                        let transfer = try StrictJSON.decode(TransferLeaderRequest.self, from: body)
                        response = try R.json(try await admin.transferLeadership(to: transfer.to))
                    }
                    audit?(AuditRecord(caller: caller, route: route.description, id: id, status: Int(response.status.code)))
                    return response
                } catch {
                    audit?(AuditRecord(caller: caller, route: route.description, id: id, status: APIError(mapping: error).code.statusCode))
                    throw error
                }
            }
        }
    }
}
