import HTTPAPI
import Hummingbird
import Logging
import NodeMetrics
import NodeRuntime
import ServiceLifecycle

/// The node as a service-lifecycle `Service`: runs until a graceful shutdown (SIGTERM or
/// SIGINT) is requested, then drains (no new attempts, running ones finish up to the grace,
/// leadership handed over) and stops, closing the WAL.
struct NodeService: Service {
    let node: QuorumNode

    func run() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await node.run() }
            group.addTask {
                try await gracefulShutdown()
                await node.drain()
            }
            // Either the node failed (rethrown: exit 1) or the drain is done: stop everything.
            _ = try await group.next()
            group.cancelAll()
            try await group.waitForAll()
        }
    }
}

/// Builds the API server and the service group of one node.
enum NodeServer {
    /// The HTTP application serving the API on the node's `api` address.
    static func application(node: QuorumNode, logger: Logger) -> some ApplicationProtocol {
        // Middleware applies to routes added after it: count requests first, then render errors.
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: RequestMetricsMiddleware(metrics: node.metrics))
        router.add(middleware: APIErrorMiddleware())
        let limits = APILimits()
        QuorumRoutes(service: ReplicatedSchedulerService(replica: RaftAPIReplica(node.replica), ids: node.ids),
                    limits: limits).register(on: router)
        router.get(RouterPath(MetricsRoute.path)) { _, _ in
            await node.refreshMetrics()
            return MetricsRoute.response(node.metrics)
        }
        let address = node.config.node.api
        return Application(router: router, server: limits.httpServer,
                           configuration: limits.applicationConfiguration(address: .hostname(address.host, port: address.port)),
                           logger: logger)
    }

    /// Runs the node and its API until SIGTERM/SIGINT (exit 0 after draining) or a failure.
    static func run(node: QuorumNode, logger: Logger) async throws {
        let app = application(node: node, logger: logger)
        // Services stop in reverse order: the API closes first, then the node drains.
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: [.init(service: NodeService(node: node)), .init(service: app)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await group.run()
    }
}
