import AsyncHTTPClient
import Logging
import SchedulerCore

/// Runs one attempt of a task and reports how it ended; never throws.
///
/// The node calls ``run(_:)`` when it applies, live, an assignment addressed to it, and proposes
/// the returned ``ExecutionResult`` through Raft. Cancelling the calling task stops the attempt
/// (a shell task's process group gets SIGTERM, then SIGKILL after the grace period; an http
/// request is cancelled) and the result is `cancelled`.
///
/// Attempts are independent: one executor runs any number of them concurrently.
///
/// - Note: The standard library also has a protocol named `AttemptRunner` (SE-0417); inside a
///   module that imports this one, the name means this type.
public struct AttemptRunner: Sendable {
    /// Shell permission, output tail size, kill grace period.
    public let configuration: ExecutorConfiguration
    /// How http tasks' clients are made (see ``HTTPClientSettings``).
    public let httpClients: HTTPClientSettings
    /// Measures durations, waits in sleep tasks and times attempts out.
    public let clock: any Clock<Duration>
    /// Logs attempt ids, kinds and outcomes — never argv, URLs, headers or bodies (secrets).
    public let logger: Logger
    /// Where shell attempts' process groups are recorded while they run (the node's data dir),
    /// so a restart after a crash can kill them; `nil` records nothing.
    public let processGroups: ProcessGroupJournal?

    /// Creates an executor.
    ///
    /// - Parameters:
    ///   - configuration: see ``ExecutorConfiguration``; shell tasks are refused by default.
    ///   - httpClients: see ``httpClients``.
    ///   - clock: for sleeps, timeouts and durations; `ContinuousClock()` in production.
    ///   - logger: where attempt starts and ends are logged.
    ///   - processGroups: see ``processGroups``.
    public init(
        configuration: ExecutorConfiguration = ExecutorConfiguration(),
        httpClients: HTTPClientSettings = HTTPClientSettings(),
        clock: any Clock<Duration> = ContinuousClock(),
        logger: Logger,
        processGroups: ProcessGroupJournal? = nil
    ) {
        self.configuration = configuration
        self.httpClients = httpClients
        self.clock = clock
        self.logger = logger
        self.processGroups = processGroups
    }

    /// Runs one attempt to its end, its timeout or the caller's cancellation.
    ///
    /// Every failure is a result, never a thrown error: a refused shell task, a bad URL or a
    /// missing executable is `failed` with a message that says what to
    /// fix. Nothing is started if the calling task is already cancelled.
    public func run(_ request: ExecutionRequest) async -> ExecutionResult {
        var logger = logger
        logger[metadataKey: "run_id"] = "\(request.runID)"
        logger[metadataKey: "attempt"] = "\(request.attempt)"
        logger[metadataKey: "kind"] = "\(request.task.kindName)"
        logger.debug("attempt starting")

        let (unmeasured, duration) = await Self.measure(on: clock) {
            await runUnmeasured(request, logger: logger)
        }
        var result = unmeasured
        result.duration = duration

        // Success is routine (thousands per second with noop jobs); anything else is worth a line.
        logger.log(level: result.report.outcome == .succeeded ? .debug : .info, "attempt finished", metadata: [
            "outcome": "\(result.report.outcome)",
            "duration_ms": "\(result.durationMilliseconds)",
        ])
        return result
    }

    private func runUnmeasured(_ request: ExecutionRequest, logger: Logger) async -> ExecutionResult {
        if Task.isCancelled {
            return ExecutionResult(outcome: .cancelled, error: "cancelled before it started")
        }
        guard request.timeout > .zero else {
            return ExecutionResult(outcome: .failed,
                                   error: "timeout must be positive, got \(DurationText.seconds(request.timeout)): set timeout_seconds to at least 1")
        }
        switch request.task {
        case .noop:
            return ExecutionResult(outcome: .succeeded)
        case .sleep(let milliseconds):
            return await runSleep(milliseconds: milliseconds, timeout: request.timeout)
        case .shell(let task):
            guard configuration.allowShell else {
                return ExecutionResult(outcome: .failed,
                                       error: "shell tasks are disabled on this cluster: set executor.allow_shell = true")
            }
            return await ShellRunner(configuration: configuration, clock: clock, logger: logger, journal: processGroups)
                .run(task, request: request)
        case .http(let task):
            return await HTTPRunner(configuration: configuration, clients: httpClients, clock: clock)
                .run(task, request: request)
        }
    }

    private func runSleep(milliseconds: Int64, timeout: Duration) async -> ExecutionResult {
        // The API refuses a negative sleep; this guards a log written by something else.
        guard milliseconds >= 0 else {
            return ExecutionResult(outcome: .failed,
                                   error: "sleep must not be negative, got \(milliseconds) ms: give seconds ≥ 0")
        }
        let clock = clock
        let (_, interruption) = await withAttemptDeadline(timeout: timeout, clock: clock) {
            // A throw here is cancellation; `withAttemptDeadline` reports why.
            try? await clock.sleep(for: .milliseconds(milliseconds))
        }
        switch interruption {
        case .timedOut(let limit):
            return ExecutionResult(outcome: .timedOut, error: "still sleeping at timeout \(DurationText.seconds(limit))")
        case .cancelled:
            return ExecutionResult(outcome: .cancelled, error: "cancelled")
        case nil:
            return ExecutionResult(outcome: .succeeded)
        }
    }

    /// Runs `body` and measures it on `clock` (opened from the existential).
    private static func measure<C: Clock<Duration>, T>(
        on clock: C,
        _ body: () async -> T
    ) async -> (T, Duration) {
        let start = clock.now
        let value = await body()
        return (value, start.duration(to: clock.now))
    }
}
