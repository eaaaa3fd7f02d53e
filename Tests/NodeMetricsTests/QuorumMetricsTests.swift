import NodeMetrics
import SchedulerCore
import Testing

@Suite("QuorumMetrics: names, counters, gauges, histograms")
struct QuorumMetricsTests {
    @Test("a fresh exposition has every name of api.md with its TYPE line")
    func everyNameHasItsType() {
        let scrape = Exposition(QuorumMetrics().exposition())
        let expected: [String: String] = [
            "quorum_raft_term": "gauge", "quorum_raft_is_leader": "gauge", "quorum_raft_commit_index": "gauge",
            "quorum_raft_applied_index": "gauge", "quorum_raft_leader_changes_total": "counter",
            "quorum_raft_append_seconds": "histogram", "quorum_wal_fsync_seconds": "histogram",
            "quorum_jobs_submitted_total": "counter", "quorum_runs_finished_total": "counter",
            "quorum_queue_depth": "gauge", "quorum_dlq_size": "gauge", "quorum_run_duration_seconds": "histogram",
            "quorum_schedule_lag_seconds": "histogram", "quorum_executor_slots": "gauge",
            "quorum_executor_busy": "gauge", "quorum_executor_held": "gauge", "quorum_http_requests_total": "counter",
            "quorum_clock_jumps_total": "counter", "quorum_clock_behind_total": "counter",
            "quorum_raft_dropped_messages_total": "counter", "quorum_transport_dropped_frames_total": "counter",
            "quorum_tls_reloads_total": "counter", "quorum_events_clients_cut_off_total": "counter",
            "quorum_output_proxy_requests_total": "counter",
            "quorum_quota_refusals_total": "counter", "quorum_pending_jobs": "gauge", "quorum_state_bytes": "gauge",
            "quorum_notifications_total": "counter", "quorum_notifications_pending": "gauge",
            "quorum_replica_digest_mismatch_total": "counter", "quorum_replica_checkpoints_total": "counter",
            "quorum_node_draining": "gauge", "quorum_jobs_unplaceable": "gauge",
            "quorum_api_reads_in_flight": "gauge", "quorum_api_reads_queued": "gauge",
            "quorum_api_reads_rejected_total": "counter", "quorum_api_reads_budget_wait_seconds_total": "counter",
        ]
        #expect(scrape.types == expected)
        #expect(Dictionary(uniqueKeysWithValues: MetricNames.all.map { ($0.name, $0.type) }) == expected)
        for outcome in ["ok", "failed"] {
            #expect(scrape.value("quorum_output_proxy_requests_total", "outcome=\"\(outcome)\"") == 0)
        }
        for outcome in ["succeeded", "failed", "timed_out", "cancelled", "lost"] {
            #expect(scrape.value("quorum_runs_finished_total", "outcome=\"\(outcome)\"") == 0)
        }
        #expect(scrape.value("quorum_queue_depth", "priority=\"0\"") == 0)
        for quota in ["max_pending_jobs", "max_state_bytes", "submissions_per_second_per_token"] {
            #expect(scrape.value("quorum_quota_refusals_total", "quota=\"\(quota)\"") == 0)
        }
        #expect(scrape.value("quorum_api_reads_rejected_total") == 0)
        #expect(scrape.value("quorum_api_reads_budget_wait_seconds_total") == 0)
    }

    @Test("the read admission gate's series: refusals count up, the gauges follow the gate")
    func readAdmission() {
        let metrics = QuorumMetrics()
        metrics.readRejected()
        metrics.readRejected()
        metrics.setReadAdmission(inFlight: 2, queued: 5)
        metrics.readWaitedForBudget(.milliseconds(250))
        metrics.readWaitedForBudget(.milliseconds(500))
        let scrape = Exposition(metrics.exposition())
        #expect(scrape.value("quorum_api_reads_budget_wait_seconds_total") == 0.75)
        #expect(scrape.value("quorum_api_reads_rejected_total") == 2)
        #expect(scrape.value("quorum_api_reads_in_flight") == 2)
        #expect(scrape.value("quorum_api_reads_queued") == 5)
    }

    @Test("a quota refusal counts under its key; the quota gauges take their values")
    func quotaMetrics() {
        let metrics = QuorumMetrics()
        metrics.quotaRefused("max_pending_jobs")
        metrics.quotaRefused("max_pending_jobs")
        metrics.quotaRefused("max_state_bytes")
        metrics.setQuotaGauges(pendingJobs: 7, stateBytes: 12_345)
        let scrape = Exposition(metrics.exposition())
        #expect(scrape.value("quorum_quota_refusals_total", "quota=\"max_pending_jobs\"") == 2)
        #expect(scrape.value("quorum_quota_refusals_total", "quota=\"max_state_bytes\"") == 1)
        #expect(scrape.value("quorum_quota_refusals_total", "quota=\"submissions_per_second_per_token\"") == 0)
        #expect(scrape.value("quorum_pending_jobs") == 7)
        #expect(scrape.value("quorum_state_bytes") == 12_345)
    }

    @Test("quorum_node_draining is 1 for a draining member, 0 for the others, and a removed member's series leaves; quorum_jobs_unplaceable holds the count")
    func placementGauges() {
        let metrics = QuorumMetrics()
        #expect(Exposition(metrics.exposition()).value("quorum_jobs_unplaceable") == 0)
        metrics.setDraining(byNode: ["n1": false, "n2": true, "n3": false])
        metrics.setUnplaceable(4)
        var scrape = Exposition(metrics.exposition())
        #expect(scrape.value("quorum_node_draining", "node=\"n1\"") == 0)
        #expect(scrape.value("quorum_node_draining", "node=\"n2\"") == 1)
        #expect(scrape.value("quorum_node_draining", "node=\"n3\"") == 0)
        #expect(scrape.value("quorum_jobs_unplaceable") == 4)
        metrics.setDraining(byNode: ["n1": true, "n2": false])
        metrics.setUnplaceable(0)
        scrape = Exposition(metrics.exposition())
        #expect(scrape.value("quorum_node_draining", "node=\"n1\"") == 1)
        #expect(scrape.value("quorum_node_draining", "node=\"n2\"") == 0)
        #expect(scrape.value("quorum_node_draining", "node=\"n3\"") == nil, "n3 was removed")
        #expect(scrape.value("quorum_jobs_unplaceable") == 0)
    }

    @Test("families are sorted by name, each TYPE before its samples, each declared once")
    func wellFormed() {
        let metrics = QuorumMetrics()
        metrics.httpRequest(route: "/api/jobs", status: 201)
        metrics.setQueueDepth(byPriority: [3: 1])
        let lines = Exposition(metrics.exposition()).lines
        let typeLines = lines.filter { $0.hasPrefix("# TYPE ") }
        let names = typeLines.map { $0.split(separator: " ")[2] }
        #expect(names == names.sorted())
        #expect(Set(names).count == names.count)
        var declared: Set<Substring> = []
        for line in lines {
            if line.hasPrefix("# TYPE ") { declared.insert(line.split(separator: " ")[2]) }
            guard !line.hasPrefix("#") else { continue }
            let series = line.prefix { $0 != "{" && $0 != " " }
            let family = ["_bucket", "_sum", "_count"].reduce(series) { name, suffix in
                name.hasSuffix(suffix) && !declared.contains(name) ? name.dropLast(suffix.count) : name
            }
            #expect(declared.contains(family), "sample \(line) before its TYPE line")
        }
    }

    @Test("counters count")
    func counters() {
        let metrics = QuorumMetrics()
        metrics.leaderChanged()
        metrics.leaderChanged()
        metrics.jobsSubmitted(3)
        metrics.jobsSubmitted(0)
        metrics.runFinished(outcome: .failed, durationSeconds: nil)
        metrics.runFinished(outcome: .failed, durationSeconds: 1.5)
        metrics.runFinished(outcome: .timedOut, durationSeconds: 60)
        metrics.httpRequest(route: "/api/jobs/{id}", status: 200)
        metrics.httpRequest(route: "/api/jobs/{id}", status: 200)
        metrics.httpRequest(route: "/api/jobs/{id}", status: 404)
        let scrape = Exposition(metrics.exposition())
        #expect(scrape.value("quorum_raft_leader_changes_total") == 2)
        #expect(scrape.value("quorum_jobs_submitted_total") == 3)
        #expect(scrape.value("quorum_runs_finished_total", #"outcome="failed""#) == 2)
        #expect(scrape.value("quorum_runs_finished_total", #"outcome="timed_out""#) == 1)
        #expect(scrape.value("quorum_runs_finished_total", #"outcome="succeeded""#) == 0)
        #expect(scrape.value("quorum_http_requests_total", #"route="/api/jobs/{id}",status="200""#) == 2)
        #expect(scrape.value("quorum_http_requests_total", #"route="/api/jobs/{id}",status="404""#) == 1)
        #expect(scrape.value("quorum_run_duration_seconds_count") == 2, "a finish without a duration is not timed")
        #expect(scrape.value("quorum_run_duration_seconds_sum") == 61.5)
    }

    @Test("gauges hold the last value set")
    func gauges() {
        let metrics = QuorumMetrics()
        metrics.raftStatusChanged(term: 7, isLeader: true, commitIndex: 120, appliedIndex: 118)
        metrics.setExecutor(slots: 8, busy: 3)
        metrics.setDLQSize(4)
        var scrape = Exposition(metrics.exposition())
        #expect(scrape.value("quorum_raft_term") == 7)
        #expect(scrape.value("quorum_raft_is_leader") == 1)
        #expect(scrape.value("quorum_raft_commit_index") == 120)
        #expect(scrape.value("quorum_raft_applied_index") == 118)
        #expect(scrape.value("quorum_executor_slots") == 8)
        #expect(scrape.value("quorum_executor_busy") == 3)
        #expect(scrape.value("quorum_dlq_size") == 4)
        metrics.raftStatusChanged(term: 8, isLeader: false, commitIndex: 121, appliedIndex: 121)
        metrics.setExecutor(slots: 8, busy: 0)
        metrics.setDLQSize(0)
        scrape = Exposition(metrics.exposition())
        #expect(scrape.value("quorum_raft_term") == 8)
        #expect(scrape.value("quorum_raft_is_leader") == 0)
        #expect(scrape.value("quorum_executor_busy") == 0)
        #expect(scrape.value("quorum_dlq_size") == 0)
    }

    @Test("storage histograms: 100 µs … 1 s buckets, cumulative, with +Inf, sum and count")
    func storageHistogram() {
        let metrics = QuorumMetrics()
        metrics.observeFsync(seconds: 0.0003)
        metrics.observeFsync(seconds: 0.002)
        metrics.observeFsync(seconds: 3)
        metrics.observeAppend(seconds: 0.00005)
        let scrape = Exposition(metrics.exposition())
        let fsync = "quorum_wal_fsync_seconds_bucket"
        #expect(scrape.value(fsync, #"le="0.0001""#) == 0)
        #expect(scrape.value(fsync, #"le="0.00025""#) == 0)
        #expect(scrape.value(fsync, #"le="0.0005""#) == 1)
        #expect(scrape.value(fsync, #"le="0.0025""#) == 2)
        #expect(scrape.value(fsync, #"le="1.0""#) == 2)
        #expect(scrape.value(fsync, #"le="+Inf""#) == 3)
        #expect(scrape.value("quorum_wal_fsync_seconds_count") == 3)
        #expect(abs((scrape.value("quorum_wal_fsync_seconds_sum") ?? 0) - 3.0023) < 1e-9)
        #expect(scrape.value("quorum_raft_append_seconds_bucket", #"le="0.0001""#) == 1)
        let buckets = scrape.samples.keys.filter { $0.hasPrefix(fsync) }.count
        #expect(buckets == MetricBuckets.storage.count + 1)
    }

    @Test("run duration (1 ms … 1 h) and schedule lag (1 ms … 60 s) buckets; negative lag counts as 0")
    func schedulerHistograms() {
        let metrics = QuorumMetrics()
        metrics.runFinished(outcome: .succeeded, durationSeconds: 0.0005)
        metrics.runFinished(outcome: .succeeded, durationSeconds: 2_000)
        metrics.scheduleLag(seconds: -2)
        metrics.scheduleLag(seconds: 0.02)
        metrics.scheduleLag(seconds: 90)
        let scrape = Exposition(metrics.exposition())
        #expect(MetricBuckets.runDuration.first == 0.001 && MetricBuckets.runDuration.last == 3_600)
        #expect(MetricBuckets.scheduleLag.first == 0.001 && MetricBuckets.scheduleLag.last == 60)
        #expect(scrape.value("quorum_run_duration_seconds_bucket", #"le="0.001""#) == 1)
        #expect(scrape.value("quorum_run_duration_seconds_bucket", #"le="1800.0""#) == 1)
        #expect(scrape.value("quorum_run_duration_seconds_bucket", #"le="3600.0""#) == 2)
        #expect(scrape.value("quorum_schedule_lag_seconds_bucket", #"le="0.001""#) == 1)
        #expect(scrape.value("quorum_schedule_lag_seconds_bucket", #"le="0.025""#) == 2)
        #expect(scrape.value("quorum_schedule_lag_seconds_bucket", #"le="60.0""#) == 2)
        #expect(scrape.value("quorum_schedule_lag_seconds_bucket", #"le="+Inf""#) == 3)
        #expect(scrape.value("quorum_schedule_lag_seconds_sum") == 90.02)
    }

    @Test("a priority whose queue drops to 0 leaves; priority 0 stays and reads 0")
    func queueDepthDropsToZero() {
        let metrics = QuorumMetrics()
        metrics.setQueueDepth(byPriority: [0: 2, 5: 1, -3: 4])
        var scrape = Exposition(metrics.exposition())
        #expect(scrape.value("quorum_queue_depth", #"priority="0""#) == 2)
        #expect(scrape.value("quorum_queue_depth", #"priority="5""#) == 1)
        #expect(scrape.value("quorum_queue_depth", #"priority="-3""#) == 4)
        metrics.setQueueDepth(byPriority: [5: 0, -3: 1])
        scrape = Exposition(metrics.exposition())
        #expect(scrape.value("quorum_queue_depth", #"priority="0""#) == 0)
        #expect(scrape.value("quorum_queue_depth", #"priority="5""#) == nil)
        #expect(scrape.value("quorum_queue_depth", #"priority="-3""#) == 1)
        metrics.setQueueDepth(byPriority: [:])
        metrics.setQueueDepth(byPriority: [5: 3])
        scrape = Exposition(metrics.exposition())
        #expect(scrape.value("quorum_queue_depth", #"priority="5""#) == 3)
        #expect(scrape.value("quorum_queue_depth", #"priority="-3""#) == nil)
        #expect(scrape.samples.keys.filter { $0.hasPrefix("quorum_queue_depth") }.count == 2)
    }

    @Test("two instances do not share a registry")
    func instancesAreIndependent() {
        let a = QuorumMetrics()
        let b = QuorumMetrics()
        a.jobsSubmitted(5)
        #expect(Exposition(a.exposition()).value("quorum_jobs_submitted_total") == 5)
        #expect(Exposition(b.exposition()).value("quorum_jobs_submitted_total") == 0)
    }

    @Test("TLS reloads are counted by target and outcome, every series from 0")
    func tlsReloads() {
        let metrics = QuorumMetrics()
        let fresh = Exposition(metrics.exposition())
        for target in ["peer", "api"] {
            for outcome in ["ok", "error"] {
                #expect(fresh.value("quorum_tls_reloads_total", "target=\"\(target)\",outcome=\"\(outcome)\"") == 0)
            }
        }
        metrics.tlsReloaded(.peer, succeeded: true)
        metrics.tlsReloaded(.peer, succeeded: false)
        metrics.tlsReloaded(.peer, succeeded: false)
        metrics.tlsReloaded(.api, succeeded: true)
        let scrape = Exposition(metrics.exposition())
        #expect(scrape.value("quorum_tls_reloads_total", #"target="peer",outcome="ok""#) == 1)
        #expect(scrape.value("quorum_tls_reloads_total", #"target="peer",outcome="error""#) == 2)
        #expect(scrape.value("quorum_tls_reloads_total", #"target="api",outcome="ok""#) == 1)
        #expect(scrape.value("quorum_tls_reloads_total", #"target="api",outcome="error""#) == 0)
    }

}
