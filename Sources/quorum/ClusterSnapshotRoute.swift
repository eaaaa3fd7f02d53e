import HTTPAPI
import Hummingbird
import NIOCore
import NodeRuntime

/// `GET /api/cluster/snapshot` (admin): a backup of the cluster, streamed as a `QBAK` file
/// (``NodeRuntime/ClusterBackup``; docs/api.md, docs/operations.md). Any node answers: it first
/// makes its state linearizable through the leader (``NodeRuntime/QuorumNode/backup()``), so the
/// backup holds every write acknowledged before the request. 503 without a leader.
enum ClusterSnapshotRoute {
    /// The route as the contract lists it.
    static let route = APIRoute("GET", "/api/cluster/snapshot")

    /// Adds the route; with `authorizer`, the caller needs the `admin` role (a backup holds every
    /// job's `env` and `headers` secrets).
    static func register(on router: Router<BasicRequestContext>, node: QuorumNode, authorizer: TokenAuthorizer?,
                         audit: @escaping @Sendable (AuditRecord) -> Void) {
        router.get(RouterPath(route.path)) { request, _ -> Response in
            var caller: String?
            do {
                if let authorizer {
                    let proved = try authorizer.authenticate(request)
                    caller = proved.name
                    try TokenAuthorizer.check(proved, allows: .admin)
                }
                let backup: ClusterBackup
                do {
                    backup = try await node.backup()
                } catch {
                    throw APIError.unavailable(retryAfter: 1, "no consistent backup can be taken now: \((error as? ReplicaUnavailable)?.message ?? "\(error)")")
                }
                audit(AuditRecord(caller: caller, route: route.description, id: nil, status: 200))
                var headers = HTTPFields()
                headers[.contentType] = "application/octet-stream"
                headers[.contentDisposition] = "attachment; filename=\"quorum-\(backup.header.index).qbak\""
                let body = ResponseBody { writer in
                    try await ClusterBackup.stream(header: backup.header, image: backup.image) { chunk in
                        try await writer.write(ByteBuffer(bytes: chunk))
                    }
                    try await writer.finish(nil)
                }
                return Response(status: .ok, headers: headers, body: body)
            } catch let error as APIError {
                audit(AuditRecord(caller: caller, route: route.description, id: nil, status: error.code.statusCode))
                throw error
            }
        }
    }
}
