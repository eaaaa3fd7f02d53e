import AsyncHTTPClient
import Executor
import Foundation
import HTTPAPI
import Hummingbird
import HummingbirdTLS
import Logging
import NodeMetrics
import NIOCore
import NIOSSL
import NodeRuntime
import QuorumClient
import ServiceLifecycle
import UnixSignals

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
    /// The HTTP application serving the API on the node's `api` address; with `authorizer`
    /// (`[api] tokens_file`), every route but the open ones checks the bearer token.
    static func application(node: QuorumNode, authorizer: TokenAuthorizer?, tls: APITLS?, outputSource: NodeOutputSource,
                            logger: Logger) throws -> some ApplicationProtocol {
        // Middleware applies to routes added after it: count requests first, then render errors.
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: RequestMetricsMiddleware(metrics: node.metrics))
        router.add(middleware: APIErrorMiddleware(routes: QuorumRoutes<ReplicatedSchedulerService<RaftAPIReplica>>.contract))
        // Browsers: foreign origins and (without tokens, on loopback) non-loopback Host names are
        // refused before routing; listed origins get CORS headers, preflights included.
        let apiConfig = node.config.cluster.api
        router.add(middleware: BrowserGuard(allowedOrigins: apiConfig.corsOrigins,
                                            loopbackHostsOnly: authorizer == nil && node.config.node.api.isLoopback))
        router.add(middleware: BrowserGuard<BasicRequestContext>.corsMiddleware())
        // Inside CORS, so that a route's error is already a response when CORS adds its headers
        // (CORS would otherwise wrap the error in a type this API does not render).
        router.add(middleware: APIErrorMiddleware(routes: QuorumRoutes<ReplicatedSchedulerService<RaftAPIReplica>>.contract))
        var limits = APILimits(node.config.cluster.api.limits)
        limits.shellTasksAllowed = node.config.cluster.executor.allowShell
        let shellPolicy = NodeShellCommandPolicy(policy: ShellPolicy(allowedExecutables: node.config.cluster.executor.shellAllow,
                                                                     workdirRoot: node.config.workdirRoot))
        limits.httpAddressPolicy = node.config.cluster.executor.httpAddressPolicy
        let clusterSource = NodeLeaderClusterSource(peerAPIs: outputSource.peerAPIs, client: outputSource.client,
                                                    timeout: .seconds(2), logger: logger)
        // List reads wait their turn and run on the low-priority reader thread (issue #12).
        // Within [api] max_read_cpu_percent of a core, charged with the reader thread's CPU.
        let nodeClock = node.settings.clock
        let readBudget = apiConfig.maxReadCPUPercent == 0 ? nil
            : ReadAdmission.Budget(bucket: ReadCPUBudget(percentOfCore: apiConfig.maxReadCPUPercent),
                                   spent: { ReadExecutor.lists.cpuTime() }, now: { nodeClock.monotonic().sinceOrigin },
                                   sleep: { try await nodeClock.sleep(for: $0) })
        let readAdmission = ReadAdmission(maxInFlight: apiConfig.maxConcurrentReads, maxQueued: apiConfig.maxQueuedReads,
                                          executor: ReadExecutor.lists, budget: readBudget,
                                          onRejected: { node.metrics.readRejected() },
                                          onBudgetWait: { node.metrics.readWaitedForBudget($0) })
        QuorumRoutes(service: ReplicatedSchedulerService(replica: RaftAPIReplica(node.replica), ids: node.ids),
                    limits: limits, shellPolicy: shellPolicy, outputSource: outputSource, clusterSource: clusterSource,
                    notificationTester: try? NodeNotificationTester(node.config), readAdmission: readAdmission).register(
                        on: router, authorizer: authorizer, rateLimiter: apiConfig.rateLimitPerToken.map { TokenRateLimiter(rate: $0) },
                        submissionLimiter: node.config.cluster.quotas.submissionsPerSecondPerToken.map { rate in
                            TokenRateLimiter.submissions(rate: rate) { node.metrics.quotaRefused("submissions_per_second_per_token") }
                        },
                        clockMs: { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) },
                        audit: { record in AuditLog.write(record) })
        let client = outputSource.client
        ClusterAdministrationRoutes(
            admin: NodeClusterAdministration(node: node, apiScheme: tls != nil ? "https://" : "http://"), limits: limits,
            forwarder: { method, path, body, authorization, leader in
                // Like other writes, a follower sends a membership change on to the leader; the
                // mark keeps the leader (or a node that just lost leadership) from sending it on again.
                var outgoing = HTTPClientRequest(url: leader + path)
                outgoing.method = .init(rawValue: method)
                outgoing.headers.add(name: ClusterAdministrationRoutes.forwardedHeader, value: "1")
                if let authorization { outgoing.headers.add(name: "Authorization", value: authorization) }
                if let body {
                    outgoing.headers.add(name: "Content-Type", value: "application/json")
                    outgoing.body = .bytes(body)
                }
                let response = try await client.execute(outgoing, timeout: .seconds(30))
                let bytes = try await response.body.collect(upTo: 4 << 20)
                return (Int(response.status.code), Array(buffer: bytes))
            })
            .register(on: router, authorizer: authorizer, audit: { record in AuditLog.write(record) })
        ClusterSnapshotRoute.register(on: router, node: node, authorizer: authorizer, audit: { record in AuditLog.write(record) })
        var eventSettings = EventStreamSettings()
        eventSettings.clientBuffer = node.config.cluster.events.buffer
        eventSettings.heartbeat = .seconds(node.config.cluster.events.heartbeatSeconds)
        let feed = RaftEventFeed(hub: node.events, metrics: node.metrics, logger: logger,
                                 committedIndex: { await node.committedIndex() })
        let eventSlots = EventStreamSlots(maxStreams: node.config.cluster.events.maxStreams,
                                          maxStreamsPerToken: node.config.cluster.events.maxStreamsPerToken)
        EventStreamRoute(feed: feed, settings: eventSettings, slots: eventSlots)
            .register(on: router, authorizer: authorizer)
        let metricsAuthorizer = node.config.cluster.api.metricsPublic ? nil : authorizer
        router.get(RouterPath(MetricsRoute.path)) { request, _ in
            if let metricsAuthorizer { _ = try metricsAuthorizer.authorize(request, required: .read) }
            await node.refreshMetrics()
            let reads = readAdmission.counts
            node.metrics.setReadAdmission(inFlight: reads.inFlight, queued: reads.queued)
            return MetricsRoute.response(node.metrics)
        }
        let address = node.config.node.api
        var server = limits.httpServer
        if let tls {
            do {
                server = try .tls(server, configuration: try tls.serverConfiguration())
            } catch let error as CLIError {
                throw error
            } catch {
                throw CLIError.invalidInput("[api] TLS could not be set up: \(error)")
            }
        }
        return Application(router: router, server: server,
                           configuration: limits.applicationConfiguration(address: .hostname(address.host, port: address.port)),
                           logger: logger)
    }

    /// The source of full output tails: this node's store, and the other nodes' APIs (`https`
    /// with `[api] tls_cert`, trusting `[tls] ca`; with `[api] client_ca`, presenting `[tls] cert`;
    /// see ``NodeOutputSource``).
    static func outputSource(node: QuorumNode, apiTLS: Bool, logger: Logger) throws -> NodeOutputSource {
        let config = node.config
        var tls: TLSConfiguration?
        if apiTLS {
            // With client_ca the other node wants a client certificate: the node's peer
            // certificate (clientAuth usage; the API certificate is serverAuth only).
            let mutual = config.apiClientCA != nil
            do {
                tls = try ClientTLS(caFile: config.tlsCA, certificateFile: mutual ? config.tlsCert : nil,
                                    keyFile: mutual ? config.tlsKey : nil).configuration()
            } catch {
                throw CLIError.invalidInput("[api] TLS for fetching outputs from other nodes could not be set up: \(error)")
            }
        }
        let scheme = apiTLS ? "https://" : "http://"
        let peers: @Sendable () -> [String: String] = { [membership = node.membership, selfID = config.node.id] in
            var peers: [String: String] = [:]
            for member in membership.members where member.id.rawValue != selfID {
                if let api = member.record?.api { peers[member.id.rawValue] = scheme + api.description }
            }
            return peers
        }
        return NodeOutputSource(selfID: config.node.id, store: node.outputs, peerAPIs: peers,
                                client: FailoverTransport.makeHTTPClient(connectTimeout: .seconds(1), tls: tls),
                                timeout: .seconds(5), metrics: node.metrics, logger: logger)
    }

    /// Runs the node and its API until SIGTERM/SIGINT (exit 0 after draining) or a failure.
    /// `tokens` is the tokens file read at start (`[api] tokens_file`), watched from then on.
    /// `peerTLSStamps` are the metadata of the `[tls]` files taken just before the node loaded them.
    /// `extraServices` run beside the node (the join request of `quorum node --join`).
    static func run(node: QuorumNode, tokens: TokenFileWatcher.Loaded?, tls: APITLS?, peerTLSStamps: [[String]],
                    extraServices: [ServiceGroupConfiguration.ServiceConfiguration] = [], logger: Logger) async throws {
        let authorizer = tokens.map { TokenAuthorizer($0.file) }
        let outputSource = try outputSource(node: node, apiTLS: tls != nil, logger: logger)
        let app = try application(node: node, authorizer: authorizer, tls: tls, outputSource: outputSource, logger: logger)
        // Trapped before the API listens, so a SIGHUP sent once it answers never kills the node.
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: NodeService(node: node)), .init(service: app)]
        services.append(.init(service: EventStreamCloser(hub: node.events, logger: logger)))
        var reloads: [SIGHUPReloader.Reload] = []
        if let authorizer, let tokens, let path = node.config.tokensFile {
            let watcher = TokenFileWatcher(path: path, authorizer: authorizer, logger: logger, loadedStamp: tokens.stamp)
            services.append(.init(service: watcher))
            reloads.append(watcher.reload(trigger:))
        }
        if let tls {
            let watcher = APITLSWatcher(tls: tls, metrics: node.metrics, logger: logger)
            services.append(.init(service: watcher))
            reloads.append(watcher.reload(trigger:))
        }
        services.append(.init(service: PeerTLSWatcher(reload: node.peerTLS, loadedStamps: peerTLSStamps)))
        reloads.append({ [peerTLS = node.peerTLS] _ in peerTLS.reload() })
        services.append(.init(service: SIGHUPReloader(signals: hangups, reloads: reloads, logger: logger)))
        services.append(contentsOf: extraServices)
        // Services stop in reverse order: the API closes first, then the node drains.
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: services,
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        do {
            try await group.run()
        } catch {
            try? await outputSource.client.shutdown()
            throw error
        }
        try? await outputSource.client.shutdown()
    }
}
