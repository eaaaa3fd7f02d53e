/// How far scheduler time fell behind real time, seen through the `forbid` cron job's triggered
/// runs: for each accepted trigger, the tool's own wall clock when the trigger was answered minus
/// the start stamp of the run's first attempt. Scheduler time is the leader's bounded stamp; when
/// it stands still (a leader whose clock is behind, issue #15) a cron fire or delayed run due now
/// waits until it moves on, so the largest lag is how long such work waited. Near zero (or
/// negative: the attempt starts after the answer) while the clocks agree.
public enum SchedulerLag {
    /// The worst sample.
    public struct Sample: Hashable, Sendable {
        /// The run the trigger started.
        public var run: String
        /// When the trigger was answered (history seconds).
        public var at: Double
        /// Wall clock at the answer minus the run's start stamp, in seconds.
        public var seconds: Double

        /// A sample of `run`, answered at `at`, `seconds` behind.
        public init(run: String, at: Double, seconds: Double) {
            self.run = run
            self.at = at
            self.seconds = seconds
        }
    }

    /// The largest lag over `entries`' accepted triggers whose run is among `runs`, and how many
    /// samples there were (`nil` worst: none).
    public static func worst(_ entries: [HistoryEntry], runs: [RunObservation]) -> (worst: Sample?, samples: Int) {
        var firstStart: [String: (attempt: Int, startedAt: Int64)] = [:]
        for run in runs {
            guard let started = run.startedAt else { continue }
            if let known = firstStart[run.runID], known.attempt <= run.attempt { continue }
            firstStart[run.runID] = (run.attempt, started)
        }
        var worst: Sample?
        var samples = 0
        for entry in entries where entry.f == OperationKind.trigger.rawValue && entry.type == Completion.ok.rawValue {
            guard let run = entry.run, let wall = entry.wallMs, let start = firstStart[run] else { continue }
            samples += 1
            let lag = Double(wall - start.startedAt) / 1_000
            if lag > (worst?.seconds ?? -.infinity) { worst = Sample(run: run, at: entry.time, seconds: lag) }
        }
        return (worst, samples)
    }
}
