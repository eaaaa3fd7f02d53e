import SchedulerCore

/// How one attempt ended: the report the node proposes through Raft as it is, and how long the
/// attempt took.
///
/// The report is `SchedulerCore`'s ``AttemptReport`` itself, so nothing is translated between
/// the executor and the log; the duration is the executor's own measurement (the log's
/// `duration_ms` comes from the leader's stamps).
public struct ExecutionResult: Sendable, Hashable {
    /// How the attempt ended: outcome (`succeeded`, `failed`, `timedOut` or `cancelled` — an
    /// executor never reports `lost`), exit code, HTTP status, output tail and error message.
    /// The output tail holds the last bytes (at most the configured tail size, 64 KiB by
    /// default) of a shell task's interleaved stdout and stderr, or of an http response body,
    /// as valid UTF-8: the cut is on a character boundary and invalid bytes become U+FFFD.
    public var report: AttemptReport
    /// How long the attempt took, measured on the executor's clock.
    public var duration: Duration

    /// Creates a result.
    ///
    /// - Parameters:
    ///   - outcome: how the attempt ended.
    ///   - exitCode: a shell task's exit code, when its process exited (not when killed by a signal).
    ///   - httpStatus: an http task's response status, when a response arrived.
    ///   - outputTail: the last bytes of output or of the response body.
    ///   - error: a human message for anything but plain success, e.g. `exit code 3`.
    ///   - duration: how long it took.
    public init(
        outcome: AttemptOutcome,
        exitCode: Int32? = nil,
        httpStatus: Int32? = nil,
        outputTail: String = "",
        error: String? = nil,
        duration: Duration = .zero
    ) {
        self.report = AttemptReport(outcome: outcome, exitCode: exitCode, httpStatus: httpStatus,
                                    outputTail: outputTail, error: error)
        self.duration = duration
    }

    /// The duration in whole milliseconds, as the API's `duration_ms`.
    public var durationMilliseconds: Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
