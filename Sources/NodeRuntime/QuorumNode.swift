import ClusterConfig
import Executor
import Foundation
import Logging
import Node
import NodeCore
import NodeMetrics
import RaftCore
import RaftStorage
import SchedulerCore
import SchedulerPlanning
import Synchronization
import Transport

/// One running member of a cluster: the Raft driver over the WAL, the peer transport, the
/// scheduler state machine, the leader's duties, the executor and the API's replica.
///
/// ``open(_:clock:metrics:logger:)`` builds everything (and fails fast on a bad data dir or TLS file);
/// ``run()`` runs it until the task is cancelled; ``drain()`` is the graceful part of a
/// shutdown (stop taking attempts, let running ones finish, hand leadership over).
public final class QuorumNode: Sendable {
    /// What the leader checks a client's command against before proposing it, beyond what
    /// Raft and the scheduler check: `nil` to propose it, else why not (a 422 naming the
    /// field). The `quorum` executable passes the executor policy (`[executor] allow_shell`,
    /// `shell_allow`, `workdir_root`), which the runtime cannot evaluate without the API's types.
    public typealias Admission = @Sendable (Command) -> UnstampedCommand.ResolveError?

    /// The resolved config.
    public let config: NodeRuntimeConfig
    /// The timing knobs.
    public let settings: NodeSettings
    /// The replicated scheduler as this node's clients see it (the API adapts it).
    public let replica: RaftReplica
    /// Fresh job, run and DAG-run ids that no other node or earlier process of this one repeats.
    public let ids: NodeIDGenerator
    /// This node's Prometheus metrics.
    public let metrics: QuorumMetrics
    /// The full output tails of the attempts this node ran (`data/<id>/outputs/`); the
    /// replicated state keeps only their short tails.
    public let outputs: AttemptOutputStore
    /// The events of this node's applied log and its leader changes (`GET /api/events`).
    public let events: EventHub
    let driver: RaftDriver
    let store: FileLogStore
    let link: PeerLink
    let stateMachine: SchedulerStateMachine
    let host: ExecutorHost
    let duties: LeaderDuties
    let watch: ExecutorWatch
    let logger: Logger
    /// The members as the latest configuration in the log says (the config file only seeds it).
    public let membership: MembershipView
    /// Yields once the replicated configuration lists this node as removed, or a member's
    /// removal notice was believed.
    let removals: AsyncStream<RemovalSignal>
    /// Re-reads `[tls] ca`, `cert` and `key` into the running peer transport (see
    /// ``PeerTLSReload``); the `quorum` executable calls it when one of ``PeerTLSReload/files`` changes.
    public let peerTLS: PeerTLSReload
    /// The cluster this node's data directory belongs to (`CLUSTER_ID`; docs/security.md).
    public let clusterIdentity: ClusterIdentity

    private init(config: NodeRuntimeConfig, settings: NodeSettings, replica: RaftReplica, ids: NodeIDGenerator,
                 metrics: QuorumMetrics, events: EventHub, driver: RaftDriver, store: FileLogStore, link: PeerLink,
                 stateMachine: SchedulerStateMachine, host: ExecutorHost, duties: LeaderDuties, watch: ExecutorWatch,
                 outputs: AttemptOutputStore, membership: MembershipView, removals: AsyncStream<RemovalSignal>,
                 clusterIdentity: ClusterIdentity, logger: Logger) {
        self.clusterIdentity = clusterIdentity
        self.outputs = outputs
        self.membership = membership
        self.removals = removals
        self.config = config
        self.settings = settings
        self.replica = replica
        self.ids = ids
        self.metrics = metrics
        self.events = events
        self.driver = driver
        self.store = store
        self.link = link
        self.stateMachine = stateMachine
        self.host = host
        self.duties = duties
        self.watch = watch
        self.logger = logger
        self.peerTLS = PeerTLSReload(authorityFile: config.tlsCA, certificateFile: config.tlsCert,
                                     privateKeyFile: config.tlsKey, transport: link.transport, metrics: metrics, logger: logger)
    }

    /// Opens the data directory (recovering the WAL), loads the TLS credentials and wires the
    /// node together. Nothing listens until ``run()``.
    ///
    /// Bootstrap swift-metrics with `metrics.metricsFactory` before calling this, so the WAL's
    /// fsync timer reports into `metrics`. Every part of the node reads time and sleeps on
    /// `clock` (the system's clocks unless a test injects one).
    ///
    /// `joining`: this node is not a founding member (`quorum node --join`): it starts with no
    /// configuration, so it never campaigns, and waits for the leader an operator told to add
    /// it (`POST /api/cluster/nodes`) to replicate to it.
    public static func open(_ config: NodeRuntimeConfig, clock: NodeClock = .system(), metrics: QuorumMetrics = QuorumMetrics(),
                            admission: Admission? = nil, joining: Bool = false, notificationSender: NotificationSender? = nil,
                            logger: Logger) async throws -> QuorumNode {
        let settings = NodeSettings(config: config.cluster, clock: clock)
        let coreSettings = settings.coreSettings(for: config.cluster)
        // First: a node that cannot run shell tasks as configured (run_as) does not start at all.
        let executorConfiguration = try ExecutorSetup.configuration(config, killGrace: settings.killGrace)
        let id = Raft.NodeID(config.node.id)
        let credentials = try Transport.TLSCredentials(authorityFile: config.tlsCA, certificateFile: config.tlsCert,
                                                       privateKeyFile: config.tlsKey, expectedID: id)
        if let warning = try DataDirectory.create(config.dataDirectory) { logger.warning("\(warning)") }
        let incarnation = try Self.openIncarnation(dataDirectory: config.dataDirectory, logger: logger)
        // Drawn afresh at every start: assignments name it, so a restarted process never starts
        // what was given to the one before it (docs/node.md, "Executors, leases and fencing").
        let processIncarnation = UInt64.random(in: 1...UInt64.max)
        let clusterIdentity = try Self.openClusterIdentity(config, joining: joining, logger: logger)
        let store = try await FileLogStore.open(directory: config.dataDirectory + "/wal",
                                                options: FileLogStore.Options(logger: logger))
        var transportConfiguration = Transport.Configuration(
            credentials: credentials,
            listen: Transport.PeerAddress(host: config.node.raft.host, port: config.node.raft.port),
            // The value the config validator checks max_entry_bytes against.
            maximumFrameLength: ClusterConfig.Limits.peerFrameBytes,
            connectTimeout: .seconds(1),
            onDroppedFrames: { metrics.transportFramesDropped($1, reason: $0.rawValue) })
        // A follower learns of a killed leader from its closed connection, not an election timeout.
        transportConfiguration.announcesClosedConnections = true
        let transport = try Transport.PeerTransport(configuration: transportConfiguration, logger: logger)
        let founding = joining ? Raft.Membership(voters: [])
            : Raft.Membership(voters: Set(config.cluster.voters.map { Raft.NodeID($0.id) }),
                              learners: Set(config.cluster.nodes.filter { !$0.voter }.map { Raft.NodeID($0.id) }))
        let link = PeerLink(transport: transport, settings: coreSettings, clock: settings.clock, incarnation: incarnation.id,
                            processIncarnation: processIncarnation, clusterIdentity: clusterIdentity,
                            onForeignFrame: { metrics.transportFramesDropped(1, reason: "foreign_cluster") }, logger: logger)
        let (removals, removalInput) = AsyncStream.makeStream(of: RemovalSignal.self, bufferingPolicy: .bufferingNewest(4))
        let slotsPerNode = config.cluster.executor.slots
        // Points the transport and the leader's executor slots at the founding members now, and
        // at the log's members once the driver recovered or replicated a configuration.
        let membershipView = MembershipView(
            selfID: id, seed: MembershipView.seed(from: config.cluster.nodes), membership: founding, transport: transport,
            logger: logger, linger: settings.electionTimeout * 2, sleep: { [clock = settings.clock] in try await clock.sleep(for: $0) },
            onChange: { membership, directory in
                var slots: [ExecutorID: Int] = [:]
                for removed in membership.removed { slots[ExecutorID(removed.rawValue)] = 0 }
                for member in membership.members { slots[ExecutorID(member.rawValue)] = slotsPerNode }
                link.membersChanged(voters: membership.voters, slots: slots, directory: directory)
            },
            onRemoved: { removalInput.yield(.configuration) })
        // A removed node that dials in after its farewell window is told so, not refused.
        transport.setRemovalNotices { removed in
            RemovalNotice.frame(cluster: clusterIdentity.isProvisional ? nil : clusterIdentity.current,
                                removedAt: membershipView.finalRemoval(of: removed))
        }

        let executorID = ExecutorID(config.node.id)
        // Shell attempts a crashed predecessor left running are killed before anything starts:
        // their attempts are retried (elsewhere, or here once reported lost).
        let journal = try ProcessGroupJournal(directory: config.dataDirectory + "/attempt-groups")
        let leftovers = journal.killLeftovers()
        if !leftovers.isEmpty {
            logger.warning("killed shell attempts left running by the previous run of this node",
                           metadata: ["process_groups": "\(leftovers)"])
        }
        let outputs = try AttemptOutputStore(
            directory: config.dataDirectory + "/outputs",
            bounds: AttemptOutputStore.Bounds(maxFiles: config.cluster.executor.outputFiles, maxBytes: config.cluster.executor.outputBytes))
        let runner = AttemptRunner(configuration: executorConfiguration,
                                   clock: settings.clock.monotonicClock, logger: logger, processGroups: journal)
        let voters = founding.voters
        let stampClock = StampClock(clock: settings.clock, link: link, metrics: metrics, logger: logger)
        let clock: @Sendable () -> Timestamp = { stampClock.now() }
        let ids = NodeIDGenerator(node: config.node.id, startMillis: stampClock.wall().milliseconds)

        // The state machine reports to the host and the duties, which need the replica, which
        // needs the driver, which needs the state machine: close the loop through a box.
        let reactions = AppliedReactions()
        let events = EventHub(capacity: config.cluster.events.window)
        link.setDigestMismatchHandler { metrics.replicaDigestMismatched() }
        link.setRemovalNoticeHandler { notice, sender in
            let ownCluster = clusterIdentity.isProvisional ? nil : clusterIdentity.current
            guard notice.isBelieved(from: sender, by: id, ownCluster: ownCluster, members: membershipView.memberIDs) else {
                logger.warning("ignored a removal notice: not from a member of this node's own cluster",
                               metadata: ["from": "\(sender)", "notice_cluster_id": "\(notice.cluster)",
                                          "cluster_id": "\(ownCluster.map { "\($0)" } ?? "unknown")"])
                return
            }
            removalInput.yield(.notice(notice, from: sender))
        }
        let digester = ReplicaDigester(interval: coreSettings.digestInterval, clock: settings.clock,
                                       paces: { link.pacesDigests() },
                                       onPassed: { index, outcome in
                                           link.checkpointPassed(index, digesting: outcome == .digested)
                                           metrics.replicaCheckpointPassed(outcome.rawValue)
                                       },
                                       onReset: { link.forgetOwnDigests() }) { digest, paced, took in
            logger.debug("state digest at a checkpoint", metadata: ["index": "\(digest.index)", "digest": "\(digest.hex)",
                                                                    "took": "\(took)"])
            link.ownDigest(digest, paced: paced)
        }
        let stateMachine = SchedulerStateMachine(executorID: executorID, replayThrough: store.lastIndex, incarnation: incarnation.id,
                                                 processIncarnation: processIncarnation,
                                                 metrics: metrics, eventHub: events,
                                                 startedWall: stampClock.wall(), leaseProven: { link.executorLeaseProven() },
                                                 leaseExpired: { link.executorMustFence() },
                                                 leaseLapseEnded: { link.executorLapseEnded() },
                                                 wallClock: { stampClock.wall() },
                                                 killGraceMs: Int64(config.cluster.executor.killGraceMilliseconds),
                                                 digester: digester, logger: logger) {
            if let stamp = $0.lastLiveStamp { link.observe(logStamp: stamp, own: stampClock.wall()) }
            link.noteApplied(time: $0.appliedTime)
            reactions.handle($0)
        }
        let learners = founding.learners
        var raftConfig = Raft.Config(
            id: id,
            electionTicks: max(2, config.cluster.raft.electionTimeoutMilliseconds.lowerBound / max(1, config.cluster.raft.heartbeatMilliseconds)),
            heartbeatTicks: 1,
            // Staggered per node so the replicas do not all snapshot at the same index.
            snapshotInterval: SnapshotStagger.interval(settings.snapshotEntries, for: id, among: voters.union(learners)),
            snapshotIntervalBytes: SnapshotStagger.interval(settings.snapshotBytes, for: id, among: voters.union(learners)),
            snapshotImageDivisor: settings.snapshotImageDivisor,
            snapshotMaxInterval: SnapshotStagger.interval(settings.snapshotMaxEntries, for: id, among: voters.union(learners)))
        raftConfig.incarnation = incarnation.id
        raftConfig.incarnationIsNew = incarnation.isNew
        let driver = try RaftDriver(
            config: raftConfig, bootstrapMembership: founding, store: store,
            stateMachine: stateMachine, messenger: link,
            options: RaftDriver.Options(tickInterval: settings.tick, maxEntryBytes: config.cluster.raft.maxEntryBytes,
                                        onLogWrite: { metrics.observeAppend(seconds: Double($0.components.seconds) + Double($0.components.attoseconds) / 1e18) },
                                        onDroppedMessage: { metrics.raftMessageDropped(reason: $0.reason.rawValue) },
                                        onMembershipChanged: { membershipView.update($0) },
                                        onMembershipCommitted: { membershipView.committed($0, at: $1) }),
            clock: settings.clock.monotonicClock, logger: logger, seed: UInt64.random(in: .min ... .max))
        membershipView.update(driver.initialMembership)
        let clusterView = ClusterView(driver: driver, stateMachine: stateMachine, link: link, config: config.cluster,
                                      membership: membershipView, settings: settings, clusterIdentity: clusterIdentity)
        let quotas = config.cluster.quotas
        let resolver = LeaderResolver(clock: clock, builds: { link.memberBuilds() },
                                      members: { membershipView.memberIDs }, selfID: id,
                                      defaults: coreSettings.submissionDefaults, admission: admission,
                                      quotas: (AdmissionQuotas(maxPendingJobs: quotas.maxPendingJobs, maxStateBytes: quotas.maxStateBytes),
                                               stateMachine.admissionGauges),
                                      onQuotaRefusal: { metrics.quotaRefused($0.quota.rawValue) })
        let appends = LeaderAppendGate(driver: driver)
        let replica = RaftReplica(driver: driver, stateMachine: stateMachine, link: link, clusterView: clusterView,
                                  clock: clock, resolver: resolver, appends: appends, settings: settings, logger: logger)
        let host = ExecutorHost(slots: config.cluster.executor.slots, runner: runner, clock: settings.clock, logger: logger,
                                outputs: outputs, maxRoundBytes: config.cluster.raft.maxEntryBytes / 2,
                                killGraceMs: Int64(config.cluster.executor.killGraceMilliseconds),
                                holdsAssignments: config.cluster.executor.prefetch > 0) { command in
            do {
                _ = try await replica.propose(command)
                return true
            } catch {
                return false
            }
        }
        let courier = notificationSender.map { send in
            NotificationCourier(send: send, propose: { outcomes in
                do {
                    _ = try await driver.propose(CommandCodec.encode(.notificationOutcomes(outcomes), at: clock()))
                    return true
                } catch {
                    return false
                }
            }, clock: clock, logger: logger, onOutcome: { metrics.notificationTried($0, channel: $1.channel) })
        }
        let duties = LeaderDuties(driver: driver, stateMachine: stateMachine, link: link, settings: settings,
                                  clock: clock, ids: RunIDSource(generator: ids), logger: logger, courier: courier)
        reactions.connect(host: host, duties: duties)
        link.attach(driver: driver, forwardHandler: { request in
            await ForwardHandler.propose(request, through: appends, resolver: resolver)
        }, batchHandler: { requests in
            await ForwardHandler.propose(batch: requests, through: appends, resolver: resolver)
        })
        let watch = ExecutorWatch(driver: driver, stateMachine: stateMachine, link: link, host: host, replica: replica,
                                  settings: settings, executorID: executorID, logger: logger)
        return QuorumNode(config: config, settings: settings, replica: replica, ids: ids, metrics: metrics, events: events, driver: driver,
                          store: store, link: link, stateMachine: stateMachine, host: host, duties: duties, watch: watch,
                          outputs: outputs, membership: membershipView, removals: removals,
                          clusterIdentity: clusterIdentity, logger: logger)
    }

    /// Runs the node until the calling task is cancelled or the driver fails (throws).
    /// The WAL is closed (everything written is durable) before it returns.
    public func run() async throws {
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    do {
                        try await self.link.transport.run()
                    } catch is CancellationError {
                        // Stopping: the listener and connections are closed.
                    }
                }
                group.addTask { await self.link.runInbound() }
                group.addTask { try await self.driver.run() }
                group.addTask { await self.duties.run() }
                group.addTask { await self.watch.run() }
                group.addTask { await self.followLeadership() }
                group.addTask { await self.recordDirectoryWhenLeading() }
                group.addTask { try await self.exitOnceRemoved() }
                group.addTask {
                    await NodeHealthEvents(link: self.link, peers: { [membership = self.membership] in membership.memberIDs.map(\.rawValue) },
                                           ownID: self.config.node.id,
                                           events: self.events, settings: self.settings).run()
                }
                _ = try await group.next()
                group.cancelAll()
                try await group.waitForAll()
            }
        } catch {
            await store.close()
            throw error
        }
        await store.close()
        logger.info("node stopped; the WAL is closed")
    }

    /// Logs leader changes and counts them (`quorum_raft_leader_changes_total`), and tells
    /// event clients (a `leader` event whose state is the leader's id, or `none` when this
    /// node lost it).
    private func followLeadership() async {
        var leader: Raft.NodeID?
        var announced: Raft.NodeID??
        for await change in driver.leadership.subscribe() {
            if announced != .some(change.leader) {
                announced = .some(change.leader)
                events.append([ChangeEvent(id: nil, kind: .leader, at: settings.clock.wall(), state: change.leader.map { "\($0)" } ?? "none")])
            }
            guard let newLeader = change.leader, newLeader != leader else { continue }
            leader = newLeader
            if newLeader == driver.id { clusterIdentity.confirmLeading() }
            metrics.leaderChanged()
            logger.info("leader is \(newLeader)", metadata: ["term": "\(change.term)"])
        }
    }

    /// The highest log index this node knows is committed.
    public func committedIndex() async -> UInt64 { await driver.status.commitIndex.rawValue }

    /// Brings the gauges that are read, not counted, up to date (call before a scrape).
    public func refreshMetrics() async {
        let status = await driver.status
        metrics.raftStatusChanged(term: status.term.rawValue, isLeader: status.leader == driver.id,
                                  commitIndex: status.commitIndex.rawValue, appliedIndex: status.appliedIndex.rawValue)
        let occupancy = host.occupancy
        metrics.setExecutor(slots: host.slots, busy: occupancy.executing, held: occupancy.held)
        await refreshPlacementMetrics(leading: status.leader == driver.id)
    }

    /// `quorum_node_draining{node}` from the member directory (every node knows it) and
    /// `quorum_jobs_unplaceable`, counted only on the leader: only it knows which members are
    /// live (a follower hears from the leader alone), so other nodes export 0 and
    /// `max(quorum_jobs_unplaceable)` is the cluster's figure.
    private func refreshPlacementMetrics(leading: Bool) async {
        let cluster = await replica.cluster()
        metrics.setDraining(byNode: Dictionary(cluster.members.map { ($0.id, $0.draining) }, uniquingKeysWith: { _, last in last }))
        guard leading else { return metrics.setUnplaceable(0) }
        let nodes = cluster.members.map {
            PlacementReason.Node(id: $0.id, labels: $0.labels, isDraining: $0.draining, isReachable: $0.reachable,
                                 slots: $0.slots, busy: $0.busy)
        }
        metrics.setUnplaceable(await stateMachine.read { UnplaceableRuns.count(in: $0, nodes: nodes) })
    }

    /// The graceful part of shutting down: stop taking attempts and let running ones finish
    /// (up to the configured grace), then hand leadership to the most caught-up follower.
    public func drain() async {
        logger.info("draining: no new attempts; running ones may finish", metadata: ["grace": "\(settings.shutdownGrace)"])
        await host.drain(grace: settings.shutdownGrace)
        let status = await driver.status
        guard status.leader == driver.id else { return }
        var best: (id: Raft.NodeID, match: Raft.LogIndex)?
        for id in membership.voterIDs.sorted() where id != driver.id {
            guard let match = await driver.matchIndex(of: id) else { continue }
            if let current = best, current.match >= match { continue }
            best = (id, match)
        }
        guard let target = best?.id else { return }
        logger.info("transferring leadership before exit", metadata: ["to": "\(target)"])
        do {
            try await driver.transferLeadership(to: target)
        } catch {
            logger.warning("leadership transfer not started", metadata: ["error": "\(error)"])
            return
        }
        let deadline = settings.clock.monotonic() + .seconds(2)
        while settings.clock.monotonic() < deadline, await driver.status.leader == driver.id {
            try? await settings.clock.sleep(for: .milliseconds(20))
        }
    }
}

/// Routes the state machine's applied changes to the executor host and the leader's duties,
/// which are created after the state machine.
final class AppliedReactions: Sendable {
    private struct Targets: Sendable {
        var host: ExecutorHost?
        var duties: LeaderDuties?
    }
    private let targets = Mutex(Targets())

    func connect(host: ExecutorHost, duties: LeaderDuties) {
        targets.withLock { $0 = Targets(host: host, duties: duties) }
    }

    func handle(_ changes: AppliedChanges) {
        let (host, duties) = targets.withLock { ($0.host, $0.duties) }
        host?.accept(changes)
        duties?.wake()
    }
}
