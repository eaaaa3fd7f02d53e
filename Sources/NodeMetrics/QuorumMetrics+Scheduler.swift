import SchedulerCore

// The adapter from applied scheduler commands to metrics. Every node applies the same log, so
// these metrics are cluster-wide and (up to scrape timing) equal on every node.

extension QuorumMetrics {
    /// Updates the scheduler metrics from the events of one applied command and the state after
    /// it. Call once per applied log entry, in log order, with what
    /// `SchedulerState.apply(_:at:)` returned.
    ///
    /// - `quorum_jobs_submitted_total`: one per ``SchedulerEvent/jobSubmitted(_:)`` (DAG runs are
    ///   not jobs; a cron job is one job however often it fires).
    /// - `quorum_runs_finished_total{outcome}` and `quorum_run_duration_seconds`: one per
    ///   ended attempt — ``SchedulerEvent/attemptFinished(_:attempt:_:)`` with its outcome, and
    ///   ``SchedulerEvent/stopAttempt(runID:attempt:executor:)`` (a running attempt cancelled or
    ///   replaced) as `cancelled`. Runs cancelled before they started never ran and are not counted.
    /// - `quorum_schedule_lag_seconds`: the start of a run's first attempt minus the time it was
    ///   due (its `run_at`, cron time or submission). Retries (due after a backoff the state does
    ///   not keep) and DAG tasks with dependencies (due when their last dependency succeeded) are
    ///   not timed: their lag would measure the backoff or the upstream tasks, not the scheduler.
    /// - `quorum_queue_depth{priority}`, `quorum_dlq_size`: from `state`, O(priorities).
    ///
    /// - Parameters:
    ///   - replaying: `true` while the node replays its log at start-up. Replayed commands are
    ///     history: they update the gauges but not the counters and histograms, which would
    ///     otherwise jump by everything since the snapshot and show as a burst in `rate()`.
    ///   - gauges: `false` leaves the gauges to one ``recordGauges(of:)`` call after a batch of
    ///     entries (the state machine does so: the gauges only need the state after the batch,
    ///     and ranking the priorities per entry cost measurable CPU in a drain).
    public func recordApplied(_ events: [SchedulerEvent], state: SchedulerState, replaying: Bool = false,
                              gauges: Bool = true) {
        guard !events.isEmpty else { return }
        if !replaying {
            var submitted = 0
            // An expired attempt gets both a stop (for its executor) and its own outcome: count
            // a stop as `cancelled` only when the entry ends the attempt no other way.
            var ended = Set<EndedAttempt>()
            for case .attemptFinished(let runID, let attempt, _) in events { ended.insert(EndedAttempt(run: runID, attempt: attempt)) }
            for event in events {
                switch event {
                case .jobSubmitted:
                    submitted += 1
                case .attemptFinished(let runID, let attempt, let outcome):
                    runFinished(outcome: outcome, durationSeconds: Self.attemptSeconds(runID, attempt, events, state))
                case .stopAttempt(let runID, let attempt, _) where !ended.contains(EndedAttempt(run: runID, attempt: attempt)):
                    runFinished(outcome: .cancelled, durationSeconds: Self.attemptSeconds(runID, attempt, events, state))
                case .runChanged(let runID, .running, let attempt):
                    if let lag = Self.lagSeconds(runID, attempt, state) { scheduleLag(seconds: lag) }
                default:
                    break
                }
            }
            jobsSubmitted(submitted)
        }
        if gauges { recordGauges(of: state) }
    }

    /// Sets the gauges that follow the scheduler state (`quorum_queue_depth{priority}`,
    /// `quorum_dlq_size`). ``recordApplied(_:state:replaying:gauges:)`` calls it; call it directly after
    /// restoring a snapshot. O(priorities).
    public func recordGauges(of state: SchedulerState) {
        setQueueDepth(byPriority: state.queuedCountByPriority)
        setDLQSize(state.dlqCount)
        notificationMetrics.pending.set(to: Double(state.notifications.pending.count))
    }

    /// Seconds from the start to the end of attempt `attempt` of `runID`, from the run or — for a
    /// cron job's run, which leaves the run table when it ends — from its job's attempt history.
    static func attemptSeconds(_ runID: RunID, _ attempt: Int, _ events: [SchedulerEvent], _ state: SchedulerState) -> Double? {
        if let run = state.run(runID) {
            guard run.attempt == attempt, let start = run.startedAt, let end = run.finishedAt else { return nil }
            return seconds(from: start, to: end)
        }
        for case .jobChanged(let jobID) in events {
            if let record = state.attempts(ofJob: jobID).first(where: { $0.runID == runID && $0.attempt == attempt }),
               let end = record.finishedAt {
                return seconds(from: record.startedAt, to: end)
            }
        }
        return nil
    }

    /// The schedule lag of a run's first attempt, or `nil` when it is not timed (see
    /// ``recordApplied(_:state:replaying:gauges:)``).
    static func lagSeconds(_ runID: RunID, _ attempt: Int, _ state: SchedulerState) -> Double? {
        guard attempt == 1, let run = state.run(runID), run.attempt == 1, let start = run.startedAt else { return nil }
        if let ref = run.dagTask {
            guard let dag = state.dagRun(ref.dagRunID), ref.taskIndex < dag.spec.dependencies.count,
                  dag.spec.dependencies[ref.taskIndex].isEmpty else { return nil }
        }
        return seconds(from: run.scheduledAt, to: start)
    }

    private static func seconds(from start: Timestamp, to end: Timestamp) -> Double {
        Double(end.milliseconds(since: start)) / 1_000
    }
}

/// An attempt one applied entry ended (``QuorumMetrics/recordApplied(_:state:replaying:gauges:)``).
private struct EndedAttempt: Hashable {
    var run: RunID
    var attempt: Int
}
