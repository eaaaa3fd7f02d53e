import Prometheus
import SchedulerCore
import Synchronization

/// One node's Prometheus metrics: every metric of `docs/api.md` ("Metrics"), in a registry this
/// instance owns.
///
/// Nothing here is process-global, so tests and several in-process nodes each have their own.
/// The node runtime calls the typed methods (Raft status, log appends, executor slots), the
/// scheduler adapter (``recordApplied(_:state:replaying:gauges:)``) updates the scheduler metrics from
/// applied commands, ``RequestMetricsMiddleware`` counts HTTP requests, and ``MetricsRoute``
/// serves ``exposition()`` at `GET /metrics`. Every method is thread-safe and cheap (a lock and
/// an add), so it may be called on hot paths.
public final class QuorumMetrics: Sendable {
    /// The registry all metrics live in (for ``metricsFactory`` and for tests).
    public let registry: PrometheusCollectorRegistry

    private let raftTerm: Gauge
    private let raftIsLeader: Gauge
    private let raftCommitIndex: Gauge
    private let raftAppliedIndex: Gauge
    private let leaderChanges: Counter
    private let clockJumps: Counter
    private let clockBehind: Counter
    private let eventClientsCutOff: Counter
    /// `quorum_output_proxy_requests_total{outcome}`, by outcome label.
    private let outputProxyRequests: [String: Counter]
    /// A `DurationHistogram` (not a value histogram) so that swift-metrics `Timer`s with the same
    /// label — RaftStorage's WAL writer records `quorum_wal_fsync_seconds` through one — can be
    /// routed to the very same histogram by ``metricsFactory``.
    let walFsync: DurationHistogram
    let raftAppend: DurationHistogram
    private let jobsSubmittedCounter: Counter
    private let runsFinished: [AttemptOutcome: Counter]
    private let dlqSize: Gauge
    private let runDuration: ValueHistogram
    private let scheduleLagHistogram: ValueHistogram
    private let executorSlots: Gauge
    private let executorBusy: Gauge
    private let executorHeld: Gauge
    /// The exported `quorum_queue_depth{priority}` series, by label value (a priority or
    /// `other`; see ``QueueDepthSeries``).
    private let queueDepths: Mutex<[String: Gauge]>
    /// `quorum_http_requests_total` series by route and status, so a request costs one lookup
    /// here instead of the registry's name and label validation.
    private let httpRequestCounters = Mutex<[RouteStatus: Counter]>([:])
    /// `quorum_raft_dropped_messages_total{reason}`.
    let raftDrops: DropCounters
    /// `quorum_transport_dropped_frames_total{reason}`.
    let transportDrops: DropCounters
    /// `quorum_tls_reloads_total{target,outcome}`, by ``tlsReloadKey(_:_:)``.
    let tlsReloads: Mutex<[String: Counter]>
    /// `quorum_quota_refusals_total{quota}`, `quorum_pending_jobs`, `quorum_state_bytes`.
    let quotaMetrics: QuotaMetrics
    let notificationMetrics: NotificationMetrics
    /// `quorum_replica_digest_mismatch_total`.
    let replicaDigestMismatches: Counter
    /// `quorum_replica_checkpoints_total{outcome}`, by outcome.
    let replicaCheckpoints: [String: Counter]
    let placementMetrics: PlacementMetrics
    /// `quorum_api_reads_in_flight`, `quorum_api_reads_queued`, `quorum_api_reads_rejected_total`.
    let readAdmissionMetrics: ReadAdmissionMetrics

    private struct RouteStatus: Hashable {
        var route: String
        var status: Int
    }

    private static let queueDepthHelp = MetricHelp.text(for: MetricNames.queueDepth)
    private static let httpRequestsHelp = MetricHelp.text(for: MetricNames.httpRequests)

    /// The priority whose queue-depth series is always exported (the API's default priority), so
    /// the family never disappears and `sum(quorum_queue_depth)` is 0, not empty, when idle.
    public static let alwaysExportedPriority = 0

    /// Every outcome label of `quorum_runs_finished_total`, each exported from 0 at start.
    public static let outcomes: [AttemptOutcome] = [.succeeded, .failed, .timedOut, .cancelled, .lost]

    /// Fresh metrics, all zero, in a new registry.
    public init() {
        let registry = PrometheusCollectorRegistry()
        self.registry = registry
        typealias N = MetricNames
        raftTerm = registry.makeGauge(descriptor: Self.descriptor(N.raftTerm))
        raftIsLeader = registry.makeGauge(descriptor: Self.descriptor(N.raftIsLeader))
        raftCommitIndex = registry.makeGauge(descriptor: Self.descriptor(N.raftCommitIndex))
        raftAppliedIndex = registry.makeGauge(descriptor: Self.descriptor(N.raftAppliedIndex))
        leaderChanges = registry.makeCounter(descriptor: Self.descriptor(N.raftLeaderChanges))
        clockJumps = registry.makeCounter(descriptor: Self.descriptor(N.clockJumps))
        clockBehind = registry.makeCounter(descriptor: Self.descriptor(N.clockBehind))
        eventClientsCutOff = registry.makeCounter(descriptor: Self.descriptor(N.eventClientsCutOff))
        var outputProxyRequests: [String: Counter] = [:]
        for outcome in N.outputProxyOutcomes {
            outputProxyRequests[outcome] = registry.makeCounter(
                descriptor: Self.descriptor(N.outputProxyRequests), labels: [("outcome", outcome)])
        }
        self.outputProxyRequests = outputProxyRequests
        raftAppend = registry.makeDurationHistogram(descriptor: Self.descriptor(N.raftAppend), buckets: MetricBuckets.storage)
        walFsync = registry.makeDurationHistogram(descriptor: Self.descriptor(N.walFsync), buckets: MetricBuckets.storage)
        jobsSubmittedCounter = registry.makeCounter(descriptor: Self.descriptor(N.jobsSubmitted))
        var runsFinished: [AttemptOutcome: Counter] = [:]
        for outcome in Self.outcomes {
            runsFinished[outcome] = registry.makeCounter(
                descriptor: Self.descriptor(N.runsFinished), labels: [("outcome", outcome.description)])
        }
        self.runsFinished = runsFinished
        dlqSize = registry.makeGauge(descriptor: Self.descriptor(N.dlqSize))
        runDuration = registry.makeValueHistogram(descriptor: Self.descriptor(N.runDuration), buckets: MetricBuckets.runDuration)
        scheduleLagHistogram = registry.makeValueHistogram(
            descriptor: Self.descriptor(N.scheduleLag), buckets: MetricBuckets.scheduleLag)
        executorSlots = registry.makeGauge(descriptor: Self.descriptor(N.executorSlots))
        executorBusy = registry.makeGauge(descriptor: Self.descriptor(N.executorBusy))
        executorHeld = registry.makeGauge(descriptor: Self.descriptor(N.executorHeld))
        let idle = registry.makeGauge(
            descriptor: Self.descriptor(N.queueDepth), labels: [("priority", String(Self.alwaysExportedPriority))])
        queueDepths = Mutex([String(Self.alwaysExportedPriority): idle])
        raftDrops = DropCounters(registry: registry, name: N.raftDroppedMessages, reasons: N.raftDropReasons)
        transportDrops = DropCounters(registry: registry, name: N.transportDroppedFrames, reasons: N.transportDropReasons)
        tlsReloads = Mutex(Self.makeTLSReloadCounters(registry))
        quotaMetrics = QuotaMetrics(registry: registry)
        notificationMetrics = NotificationMetrics(registry: registry)
        replicaDigestMismatches = registry.makeCounter(descriptor: Self.descriptor(N.replicaDigestMismatches))
        var checkpoints: [String: Counter] = [:]
        for outcome in N.replicaCheckpointOutcomes {
            checkpoints[outcome] = registry.makeCounter(descriptor: Self.descriptor(N.replicaCheckpoints), labels: [("outcome", outcome)])
        }
        replicaCheckpoints = checkpoints
        placementMetrics = PlacementMetrics(registry: registry)
        readAdmissionMetrics = ReadAdmissionMetrics(registry: registry)
    }

    // MARK: Raft

    /// Sets `quorum_raft_term`, `quorum_raft_is_leader`, `quorum_raft_commit_index` and
    /// `quorum_raft_applied_index`. Call whenever the Raft driver's status changes (after each
    /// step is enough); values are absolute, so calling too often is harmless.
    public func raftStatusChanged(term: UInt64, isLeader: Bool, commitIndex: UInt64, appliedIndex: UInt64) {
        raftTerm.set(to: Double(term))
        raftIsLeader.set(to: isLeader ? 1 : 0)
        raftCommitIndex.set(to: Double(commitIndex))
        raftAppliedIndex.set(to: Double(appliedIndex))
    }

    /// Counts one leader change in `quorum_raft_leader_changes_total`: call when this node learns
    /// of a new leader (another node, or itself), not when the leader merely becomes unknown.
    /// A healthy cluster under load adds nothing here; a rising rate means elections.
    public func leaderChanged() {
        leaderChanges.increment()
    }

    /// Counts one stamp the leader bounded because its clock ran ahead of its peers'
    /// (`quorum_clock_jumps_total`).
    public func clockJumped() {
        clockJumps.increment()
    }

    /// Counts one stamp the leader raised because its clock fell behind its peers'
    /// (`quorum_clock_behind_total`).
    public func clockFellBehind() {
        clockBehind.increment()
    }

    /// Counts one `GET /api/events` client cut off for being slow
    /// (`quorum_events_clients_cut_off_total`).
    public func eventClientCutOff() {
        eventClientsCutOff.increment()
    }

    /// Counts one request to another node for an attempt's full output tail
    /// (`quorum_output_proxy_requests_total{outcome="ok"|"failed"}`).
    public func outputProxyRequested(succeeded: Bool) {
        outputProxyRequests[succeeded ? "ok" : "failed"]?.increment()
    }

    /// Records one local log append (entries written to the log store, before the fsync is
    /// counted separately) in `quorum_raft_append_seconds`.
    public func observeAppend(seconds: Double) {
        raftAppend.record(Self.duration(seconds))
    }

    /// Records one write-ahead-log sync in `quorum_wal_fsync_seconds`. RaftStorage records its
    /// own syncs through swift-metrics; bootstrap ``metricsFactory`` and do not call this for
    /// those too.
    public func observeFsync(seconds: Double) {
        walFsync.record(Self.duration(seconds))
    }

    // MARK: Scheduler

    /// Adds `n` to `quorum_jobs_submitted_total` (jobs created by applied commands; duplicates
    /// answered from the idempotency table are not new jobs).
    public func jobsSubmitted(_ n: Int) {
        guard n > 0 else { return }
        jobsSubmittedCounter.increment(by: Int64(n))
    }

    /// Counts one ended attempt in `quorum_runs_finished_total{outcome}` and, if known, its
    /// duration (end minus start) in `quorum_run_duration_seconds`.
    public func runFinished(outcome: AttemptOutcome, durationSeconds: Double?) {
        runsFinished[outcome]?.increment()
        if let durationSeconds, !durationSeconds.isNaN {
            runDuration.record(max(0, durationSeconds))
        }
    }

    /// Records one attempt's start minus its due time in `quorum_schedule_lag_seconds` (negative
    /// lags — a run triggered before its `run_at` — count as 0). ``recordApplied(_:state:replaying:gauges:)``
    /// calls this for the attempts it can time; call it directly only for attempts it does not see.
    public func scheduleLag(seconds: Double) {
        guard !seconds.isNaN else { return }
        scheduleLagHistogram.record(max(0, seconds))
    }

    /// Sets `quorum_queue_depth{priority}` to the queued runs per priority: at most
    /// ``QueueDepthSeries/maxPrioritySeries`` priorities (the ones with the most queued runs)
    /// and `priority="other"` for the rest (see ``QueueDepthSeries``).
    ///
    /// A series no longer exported (or at 0) is removed, except ``alwaysExportedPriority``,
    /// which exports 0: keeping a zero series for every priority ever seen would grow without
    /// bound, and a removed series is marked stale by Prometheus at the next scrape.
    public func setQueueDepth(byPriority: [Int: Int]) {
        let series = QueueDepthSeries.series(byPriority: byPriority, alwaysExported: Self.alwaysExportedPriority)
        let always = String(Self.alwaysExportedPriority)
        queueDepths.withLock { gauges in
            for (label, gauge) in gauges where (series[label] ?? 0) == 0 {
                if label == always {
                    gauge.set(to: 0)
                } else {
                    registry.unregisterGauge(gauge)
                    gauges[label] = nil
                }
            }
            for (label, count) in series where count > 0 {
                if let gauge = gauges[label] {
                    gauge.set(to: Double(count))
                } else {
                    let descriptor = MetricNameDescriptor(metricName: MetricNames.queueDepth, unitName: "", helpText: Self.queueDepthHelp)
                    let gauge = registry.makeGauge(descriptor: descriptor, labels: [("priority", label)])
                    gauges[label] = gauge
                    gauge.set(to: Double(count))
                }
            }
        }
    }

    /// Sets `quorum_dlq_size`: runs in the dead-letter queue (dead and not purged).
    public func setDLQSize(_ size: Int) {
        dlqSize.set(to: Double(size))
    }

    // MARK: Executor and HTTP

    /// Sets `quorum_executor_slots` (slots this node's executor offers) and
    /// `quorum_executor_busy` (slots running an attempt now).
    public func setExecutor(slots: Int, busy: Int, held: Int = 0) {
        executorSlots.set(to: Double(slots))
        executorBusy.set(to: Double(busy))
        executorHeld.set(to: Double(held))
    }

    /// Counts one answered request in `quorum_http_requests_total{route,status}`. `route` must be
    /// a route pattern (`/api/jobs/{id}`) or `unmatched`, never a raw path, so the number of
    /// series stays bounded; ``RequestMetricsMiddleware`` does this.
    public func httpRequest(route: String, status: Int) {
        let key = RouteStatus(route: route, status: status)
        let counter = httpRequestCounters.withLock { counters in
            if let counter = counters[key] { return counter }
            let descriptor = MetricNameDescriptor(metricName: MetricNames.httpRequests, unitName: "", helpText: Self.httpRequestsHelp)
            let counter = registry.makeCounter(descriptor: descriptor, labels: [("route", route), ("status", String(status))])
            counters[key] = counter
            return counter
        }
        counter.increment()
    }

    // MARK: Exposition

    /// The content type of ``exposition()``: Prometheus text format 0.0.4.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// Every metric in Prometheus text format 0.0.4, families sorted by name (the registry's own
    /// order is a dictionary's, different on every run). Every name of ``MetricNames/all`` has
    /// its `# TYPE` line, even a labelled family with no series yet.
    public func exposition() -> String {
        PrometheusExposition.sortedByFamily(registry.emitToString(), declared: Self.declaredFamilies)
    }

    private static let declaredFamilies = MetricNames.all.map { (name: $0.name, type: $0.type, help: MetricHelp.text(for: $0.name)) }

    // MARK: Helpers

    static func descriptor(_ name: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: MetricHelp.text(for: name))
    }

    static func duration(_ seconds: Double) -> Duration {
        guard seconds.isFinite, seconds > 0 else { return .zero }
        return .nanoseconds(Int64(min(seconds, 1e9) * 1e9))
    }
}
