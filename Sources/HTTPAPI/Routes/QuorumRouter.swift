import Foundation
import Hummingbird
import SchedulerCore

/// Builds the router of Quorum's HTTP API over `service`: every endpoint of the public contract
/// except `/metrics` and `/api/events` (``QuorumRoutes/servedByNode``), the dashboard included,
/// with ``APIErrorMiddleware`` rendering every error. It starts no server; the node mounts it.
public func makeQuorumRouter<Service: SchedulerService>(
    service: Service, limits: APILimits = APILimits(), shellPolicy: (any ShellCommandPolicy)? = nil,
    authorizer: TokenAuthorizer? = nil, outputSource: (any AttemptOutputSource)? = nil,
    clusterSource: (any LeaderClusterSource)? = nil
) -> Router<BasicRequestContext> {
    let router = Router(context: BasicRequestContext.self)
    router.add(middleware: APIErrorMiddleware(routes: QuorumRoutes<Service>.contract))
    QuorumRoutes(service: service, limits: limits, shellPolicy: shellPolicy, outputSource: outputSource,
                 clusterSource: clusterSource).register(on: router, authorizer: authorizer)
    return router
}

/// The API's routes as data: the table the router is built from and that the OpenAPI test
/// compares with `docs/openapi.yaml`.
public struct QuorumRoutes<Service: SchedulerService>: Sendable {
    /// Routes of the contract not served yet (later issues): none today.
    public static var notYetImplemented: [APIRoute] { [] }

    /// Routes of the contract the node adds next to these (they need the node, not the
    /// service): Prometheus metrics, server-sent events (``EventStreamRoute``) and the
    /// membership writes (``ClusterAdministrationRoutes``) and the backup stream
    /// (`GET /api/cluster/snapshot`, admin).
    public static var servedByNode: [APIRoute] {
        [APIRoute("GET", "/metrics"), APIRoute("GET", "/api/events"), APIRoute("GET", "/api/cluster/snapshot")]
            + ClusterAdministrationRoutes.all
    }

    /// Every route of the contract: those registered here, those the node adds, those not built
    /// yet. A request for one of these paths with another method is a 405.
    public static var contract: [APIRoute] { all + servedByNode + notYetImplemented }

    /// Every route this type registers.
    public static var all: [APIRoute] {
        [
            APIRoute("POST", "/api/jobs"), APIRoute("GET", "/api/jobs"),
            APIRoute("POST", "/api/jobs/batch"),
            APIRoute("GET", "/api/jobs/{id}"), APIRoute("DELETE", "/api/jobs/{id}"), APIRoute("PATCH", "/api/jobs/{id}"),
            APIRoute("GET", "/api/job-status/{id}"),
            APIRoute("GET", "/api/jobs/{id}/runs"), APIRoute("GET", "/api/jobs/{id}/runs/{run_id}/output"),
            APIRoute("POST", "/api/jobs/{id}/pause"), APIRoute("POST", "/api/jobs/{id}/resume"),
            APIRoute("POST", "/api/jobs/{id}/trigger"),
            APIRoute("POST", "/api/dags"), APIRoute("GET", "/api/dags"),
            APIRoute("GET", "/api/dags/{id}"), APIRoute("DELETE", "/api/dags/{id}"),
            APIRoute("GET", "/api/dlq"), APIRoute("POST", "/api/dlq/{run_id}/requeue"),
            APIRoute("DELETE", "/api/dlq/{run_id}"),
            APIRoute("GET", "/api/cluster"), APIRoute("GET", "/api/cluster/digest"),
            APIRoute("GET", "/healthz"), APIRoute("GET", "/readyz"),
            APIRoute("GET", "/api/cron/next"), APIRoute("GET", "/api/notifications"), APIRoute("POST", "/api/notifications/test"),
            APIRoute("GET", "/"), APIRoute("GET", "/dashboard/{file}"),
        ]
    }

    /// The service behind the routes.
    public let service: Service
    /// Body and page limits.
    public let limits: APILimits
    /// What shell tasks may run (`[executor] shell_allow`, `workdir_root`); `nil`, anything.
    public let shellPolicy: (any ShellCommandPolicy)?
    /// Where full output tails come from (the node's store, or the executor node); `nil`, the
    /// output endpoint answers from the replicated short tail.
    public let outputSource: (any AttemptOutputSource)?
    /// Where a follower gets the leader's view of the members (``LeaderClusterSource``); `nil`,
    /// `/api/cluster` answers with this node's own view.
    public let clusterSource: (any LeaderClusterSource)?
    /// The wall clock the cron preview starts from.
    public let now: @Sendable () -> Date
    /// Sends test notifications (``NotificationTester``); `nil`, the test endpoint answers 503.
    public let notificationTester: (any NotificationTester)?
    /// The gate every list read passes (``ReadAdmission``, ``isListRead(_:)``); `nil`, none.
    public let readAdmission: ReadAdmission?

    /// Routes over `service`.
    public init(service: Service, limits: APILimits = APILimits(), shellPolicy: (any ShellCommandPolicy)? = nil,
                outputSource: (any AttemptOutputSource)? = nil, clusterSource: (any LeaderClusterSource)? = nil,
                now: @escaping @Sendable () -> Date = { Date() }, notificationTester: (any NotificationTester)? = nil,
                readAdmission: ReadAdmission? = nil) {
        self.readAdmission = readAdmission
        self.notificationTester = notificationTester
        self.outputSource = outputSource
        self.clusterSource = clusterSource
        self.now = now
        self.service = service
        self.limits = limits
        self.shellPolicy = shellPolicy
    }

    /// Adds every route of ``all`` to `router` (add ``APIErrorMiddleware`` first to get the
    /// API's error bodies). With `authorizer` (`[api] tokens_file` set), each route first checks
    /// the request's bearer token against ``requiredRole(of:)``: 401 or 403 before anything runs.
    ///
    /// - Parameters:
    ///   - rateLimiter: with tokens, each caller's requests are taken from its bucket (429 over it).
    ///   - submissionLimiter: with tokens, each caller's creating requests (``isCreating(_:)``)
    ///     are also taken from its bucket here (`[quotas] submissions_per_second_per_token`).
    ///   - clockMs: the time the rate limiters read (milliseconds).
    ///   - audit: called once for every request to a mutating route (not GETs), after it was
    ///     answered or refused, with the caller, the route, the path's id and the status.
    public func register<Context: RequestContext>(
        on router: Router<Context>, authorizer: TokenAuthorizer? = nil, rateLimiter: TokenRateLimiter? = nil,
        submissionLimiter: TokenRateLimiter? = nil, clockMs: @escaping @Sendable () -> Int64 = { 0 }, audit: (@Sendable (AuditRecord) -> Void)? = nil
    ) {
        for route in Self.all {
            let handler = self.admitted(self.handler(for: route, context: Context.self), route: route)
            let required = Self.requiredRole(of: route)
            let audited = route.method != "GET" ? audit : nil
            let submissions = Self.isCreating(route) ? submissionLimiter : nil
            router.on(RouterPath(route.routerPath), method: HTTPRequest.Method(rawValue: route.method) ?? .get) { request, context in
                var caller: String?
                do {
                    if let authorizer, let required {
                        let proved = try authorizer.authenticate(request)
                        caller = proved.name
                        try TokenAuthorizer.check(proved, allows: required)
                        try rateLimiter?.take(for: proved.name, nowMs: clockMs())
                        try submissions?.take(for: proved.name, nowMs: clockMs())
                    }
                    let response = try await handler(request, context)
                    audited?(AuditRecord(caller: caller, route: route.description, id: Self.pathID(context), status: Int(response.status.code),
                                         created: response.status == .created ? response.headers[.location] : nil))
                    return response
                } catch {
                    audited?(AuditRecord(caller: caller, route: route.description, id: Self.pathID(context),
                                         status: APIError(mapping: error).code.statusCode))
                    throw error
                }
            }
        }
    }

    /// Whether `route` creates work — a job, a batch, a DAG run, a triggered or requeued run —
    /// which `[quotas] submissions_per_second_per_token` limits.
    public static func isCreating(_ route: APIRoute) -> Bool {
        switch (route.method, route.path) {
        case ("POST", "/api/jobs"), ("POST", "/api/jobs/batch"), ("POST", "/api/dags"), ("POST", "/api/jobs/{id}/trigger"),
             ("POST", "/api/dlq/{run_id}/requeue"): true
        default: false
        }
    }

    /// Whether `route` walks a table — a list of jobs, DAG runs, dead letters or notifications —
    /// and so passes ``readAdmission``. Single resources, writes, health checks and the event
    /// stream never do.
    public static func isListRead(_ route: APIRoute) -> Bool {
        switch (route.method, route.path) {
        case ("GET", "/api/jobs"), ("GET", "/api/dags"), ("GET", "/api/dlq"), ("GET", "/api/notifications"): true
        default: false
        }
    }

    /// `handler` behind ``readAdmission`` when `route` is a list read: the whole request —
    /// ReadIndex round, walk, rendering and encoding — runs once admitted, on the gate's executor.
    func admitted<Context: RequestContext>(_ handler: @escaping Handler<Context>, route: APIRoute) -> Handler<Context> {
        guard let gate = readAdmission, Self.isListRead(route) else { return handler }
        return { request, context in try await gate.run { try await handler(request, context) } }
    }

    /// The id a route's path names (`{id}` or `{run_id}`), as the client sent it.
    static func pathID<Context: RequestContext>(_ context: Context) -> String? {
        context.parameters.get("id") ?? context.parameters.get("run_id")
    }

    /// The role a route needs when tokens are configured, as the contract's table says; `nil`
    /// for the open routes (`/healthz`, `/readyz`, the dashboard's page and files: they hold no
    /// data, the page asks for a token before it reads any). Every other GET needs `read`;
    /// creating and changing work needs `submit`; purging the DLQ needs `admin`.
    public static func requiredRole(of route: APIRoute) -> APIRole? {
        switch (route.method, route.path) {
        case ("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/"), ("GET", "/dashboard/{file}"): nil
        case ("GET", _): .read
        case ("DELETE", "/api/dlq/{run_id}"): .admin
        case ("POST", "/api/notifications/test"): .admin
        case ("POST", let path) where path.hasPrefix("/api/cluster"): .admin
        case ("DELETE", let path) where path.hasPrefix("/api/cluster"): .admin
        default: .submit
        }
    }

    typealias Handler<Context> = @Sendable (Request, Context) async throws -> Response

    // swiftlint:disable:next cyclomatic_complexity function_body_length
    func handler<Context: RequestContext>(for route: APIRoute, context: Context.Type) -> Handler<Context> {
        let service = self.service
        let limits = self.limits
        let outputSource = self.outputSource
        let clusterSource = self.clusterSource
        let now = self.now
        let submissionLimits = SubmissionLimits(limits: limits, shellPolicy: shellPolicy)
        typealias R = RequestReading
        switch (route.method, route.path) {
        case ("POST", "/api/jobs"):
            return { request, _ in
                let body = try await R.body(request, limit: limits.maxBodyBytes)
                let submission = try StrictJSON.decodeSubmission(from: body)
                try submissionLimits.check(submission)
                let key = try R.idempotencyKey(request, body: body, limits: limits)
                let created = try await service.submitJob(submission, idempotency: key)
                return try R.createdJob(created.value, status: created.isNew ? .created : .ok, preference: ReturnPreference(request.headers))
            }
        case ("GET", "/api/jobs"):
            return { request, _ in
                var query = JobListQuery(state: try Self.jobState(request), labels: try Self.labels(request),
                                         limit: try R.limit(request, limits: limits), cursor: R.cursor(request))
                let consistency = try R.consistency(request)
                return R.json(buffer: try await ListResponseBudget.fittedJobsJSON(limit: query.limit, maxBytes: limits.maxListResponseBytes) { limit throws(APIError) in
                    query.limit = limit
                    return try await service.listJobs(query, consistency: consistency)
                })
            }
        case ("POST", "/api/jobs/batch"):
            return { request, _ in
                let body = try await R.body(request, limit: limits.maxBatchBodyBytes)
                let batch = try StrictJSON.decodeBatch(from: body)
                guard let jobs = batch.jobs else { throw APIError.invalid(field: "jobs", "required: an array of jobs") }
                guard !jobs.isEmpty, jobs.count <= limits.maxBatchJobs else {
                    throw APIError.invalid(field: "jobs", "must hold 1 to \(limits.maxBatchJobs) jobs, got \(jobs.count)")
                }
                for (index, job) in jobs.enumerated() {
                    try submissionLimits.check(job, fieldPrefix: "jobs[\(index)]")
                }
                let key = try R.idempotencyKey(request, body: body, limits: limits)
                let created = try await service.submitBatch(jobs, idempotency: key)
                return try R.json(BatchResult(ids: created.value), status: created.isNew ? .created : .ok)
            }
        case ("GET", "/api/jobs/{id}"):
            return { request, context in
                try R.jobJSON(try await service.job(try R.pathParameter("id", context), consistency: try R.consistency(request)))
            }
        case ("PATCH", "/api/jobs/{id}"):
            return { request, context in
                let id = try R.pathParameter("id", context)
                let body = try await R.body(request, limit: limits.maxBodyBytes)
                let patch = try StrictJSON.decode(JobPatch.self, from: body)
                try SubmissionLimits(limits: limits).check(patch.asSubmissionForLimits)
                return try R.jobJSON(try await service.editJob(id, patch: patch, ifMatch: try R.ifMatch(request)))
            }
        case ("DELETE", "/api/jobs/{id}"):
            return { _, context in
                try R.json(try await service.cancelJob(try R.pathParameter("id", context)))
            }
        case ("GET", "/api/job-status/{id}"):
            return { request, context in
                try R.json(try await service.jobStatus(try R.pathParameter("id", context), consistency: try R.consistency(request)))
            }
        case ("GET", "/api/jobs/{id}/runs"):
            return { request, context in
                let items = try await service.runs(ofJob: try R.pathParameter("id", context), consistency: try R.consistency(request))
                return try R.json(AttemptList(items: items))
            }
        case ("GET", "/api/jobs/{id}/runs/{run_id}/output"):
            return { request, context in
                let jobID = try R.pathParameter("id", context)
                let runID = try R.pathParameter("run_id", context)
                let attempt = try R.attempt(request)
                let items = try await service.runs(ofJob: jobID, consistency: try R.consistency(request))
                var output = try AttemptOutputResource.find(jobID: jobID, runID: runID, attempt: attempt, in: items)
                // A running attempt has no output yet; a finished one's full tail is on its executor
                // unless the replicated tail is already all of it.
                if output.outcome != nil, AttemptOutputResource.isWhole(replicated: output.outputTail) {
                    output.complete = true
                } else if output.outcome != nil, let outputSource {
                    let fetch = AttemptOutputRequest(
                        jobID: jobID, runID: runID, attempt: output.attempt, executor: output.executor,
                        authorization: request.headers[.authorization],
                        mayProxy: !request.headers.contains { $0.name.canonicalName == AttemptOutputRequest.proxiedHeader.lowercased() })
                    if let fetched = await outputSource.fullOutput(fetch) {
                        output.outputTail = fetched.text
                        output.complete = true
                        output.source = fetched.source
                    }
                }
                return try R.json(output)
            }
        case ("POST", "/api/jobs/{id}/pause"):
            return { _, context in try R.json(try await service.pauseJob(try R.pathParameter("id", context))) }
        case ("POST", "/api/jobs/{id}/resume"):
            return { _, context in try R.json(try await service.resumeJob(try R.pathParameter("id", context))) }
        case ("POST", "/api/jobs/{id}/trigger"):
            return { request, context in
                let id = try R.pathParameter("id", context)
                let key = try R.idempotencyKey(request, scope: "trigger \(id)", limits: limits)
                let triggered = try await service.triggerJob(id, idempotency: key)
                var response = try R.json(triggered.job)
                if let runID = triggered.runID, let name = R.runIDHeader { response.headers[name] = runID }
                return response
            }
        case ("POST", "/api/dags"):
            return { request, _ in
                let body = try await R.body(request, limit: limits.maxBodyBytes)
                let submission = try StrictJSON.decode(DAGSubmission.self, from: body)
                try submissionLimits.check(submission)
                let key = try R.idempotencyKey(request, body: body, limits: limits)
                let created = try await service.submitDAG(submission, idempotency: key)
                let status: HTTPResponse.Status = created.isNew ? .created : .ok
                switch created.value {
                // Location says which: a DAG run, or the cron job a scheduled DAG is.
                case .run(let run): return try R.created(run, status: status, at: "/api/dags", id: run.id)
                case .cronJob(let job): return try R.createdJob(job, status: status, preference: .representation)
                }
            }
        case ("GET", "/api/dags"):
            return { request, _ in
                var query = DAGListQuery(state: request.uri.queryParameters.get("state"),
                                         limit: try R.limit(request, limits: limits), cursor: R.cursor(request))
                let consistency = try R.consistency(request)
                return R.json(buffer: try await ListResponseBudget.fittedJSON(limit: query.limit, maxBytes: limits.maxListResponseBytes) { limit throws(APIError) in
                    query.limit = limit
                    return try await service.listDAGRuns(query, consistency: consistency)
                })
            }
        case ("GET", "/api/dags/{id}"):
            return { request, context in
                try R.json(try await service.dagRun(try R.pathParameter("id", context), consistency: try R.consistency(request)))
            }
        case ("DELETE", "/api/dags/{id}"):
            return { _, context in try R.json(try await service.cancelDAGRun(try R.pathParameter("id", context))) }
        case ("GET", "/api/notifications"):
            return { request, _ in
                let query = NotificationQuery(state: try Self.notificationState(request), jobID: request.uri.queryParameters.get("job"),
                                              limit: try R.limit(request, limits: limits))
                return try R.json(try await service.notifications(query, consistency: try R.consistency(request)))
            }
        case ("POST", "/api/notifications/test"):
            let tester = notificationTester
            return { request, _ in
                let body = try await R.body(request, limit: limits.maxBodyBytes)
                let test = try StrictJSON.decode(NotificationTestRequest.self, from: body)
                guard test.channel == "webhook" || test.channel == "email" else {
                    throw APIError.invalid(field: "channel", "unknown channel '\(FieldProblem.shortened(test.channel))'; use webhook or email")
                }
                guard let tester else { throw APIError.unavailable(retryAfter: 1, "this server sends no notifications") }
                return try R.json(try await tester.sendTest(channel: test.channel))
            }
        case ("GET", "/api/dlq"):
            return { request, _ in
                var query = PageQuery(limit: try R.limit(request, limits: limits), cursor: R.cursor(request))
                let consistency = try R.consistency(request)
                return R.json(buffer: try await ListResponseBudget.fittedJSON(limit: query.limit, maxBytes: limits.maxListResponseBytes) { limit throws(APIError) in
                    query.limit = limit
                    return try await service.listDeadLetters(query, consistency: consistency)
                })
            }
        case ("POST", "/api/dlq/{run_id}/requeue"):
            return { request, context in
                let runID = try R.pathParameter("run_id", context)
                let key = try R.idempotencyKey(request, scope: "requeue \(runID)", limits: limits)
                return try R.json(try await service.requeueDeadLetter(runID, idempotency: key))
            }
        case ("DELETE", "/api/dlq/{run_id}"):
            return { _, context in
                try await service.purgeDeadLetter(try R.pathParameter("run_id", context))
                return Response(status: .noContent)
            }
        case ("GET", "/api/cluster"):
            return { request, _ in
                var view = try await service.cluster()
                view.source = .local
                view.viewAgeMs = 0
                // A follower answers with the leader's members (only the leader knows how far each
                // one got), unless the request came from another node (never asked on).
                let proxied = request.headers.contains { $0.name.canonicalName == AttemptOutputRequest.proxiedHeader.lowercased() }
                if let clusterSource, !proxied, let leader = view.leader, leader != view.node,
                   let fetched = await clusterSource.leaderView(of: leader, authorization: request.headers[.authorization]) {
                    view.nodes = fetched.view.nodes
                    view.source = .leader
                    view.viewAgeMs = fetched.ageMs
                }
                return try R.json(view)
            }
        case ("GET", "/api/cron/next"):
            return { request, _ in try R.json(try CronPreview.preview(request, now: now())) }
        case ("GET", "/"):
            return { request, _ in try DashboardAssets.response(for: "index.html", request: request) }
        case ("GET", "/dashboard/{file}"):
            return { request, context in
                try DashboardAssets.response(for: try R.pathParameter("file", context), request: request)
            }
        case ("GET", "/api/cluster/digest"):
            return { _, _ in try R.json(try await service.stateDigest()) }
        case ("GET", "/healthz"):
            return { _, _ in try R.json(["status": "ok"]) }
        case ("GET", "/readyz"):
            return { _, _ in
                try await service.checkReady()
                return try R.json(["status": "ready"])
            }
        default:
            preconditionFailure("route \(route) is listed in QuorumRoutes.all but has no handler")
        }
    }

    /// The job states a list can filter by.
    static var jobStates: [String] { ["pending", "queued", "running", "succeeded", "dead", "cancelled", "scheduled", "paused"] }

    /// `?state=` of `GET /api/notifications`: `pending`, `delivered` or `failed`, or absent.
    static func notificationState(_ request: Request) throws(APIError) -> NotificationRecord.State? {
        guard let text = request.uri.queryParameters.get("state") else { return nil }
        guard let state = NotificationRecord.State.allCases.first(where: { $0.description == text }) else {
            throw .invalid(field: "state", "unknown notification state '\(FieldProblem.shortened(text))'; use pending, delivered or failed")
        }
        return state
    }

    static func jobState(_ request: Request) throws(APIError) -> String? {
        guard let state = request.uri.queryParameters.get("state") else { return nil }
        guard jobStates.contains(state) else {
            throw .invalid(field: "state", "unknown job state '\(FieldProblem.shortened(state))'; use one of \(jobStates.joined(separator: ", "))")
        }
        return state
    }

    static func labels(_ request: Request) throws(APIError) -> [LabelFilter] {
        var filters: [LabelFilter] = []
        for text in request.uri.queryParameters.getAll("label") {
            guard let colon = text.firstIndex(of: ":"), colon != text.startIndex else {
                throw .invalid(field: "label", "'\(FieldProblem.shortened(text))' is not key:value")
            }
            filters.append(LabelFilter(key: String(text[..<colon]), value: String(text[text.index(after: colon)...])))
        }
        return filters
    }
}
