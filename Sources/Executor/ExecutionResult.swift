/// How one attempt ended. The node stamps wall-clock times and proposes it through Raft.
public struct ExecutionResult: Sendable, Hashable {
    /// The attempt's outcome, as the API's runs `outcome` field.
    public enum Outcome: String, Sendable, Hashable, CaseIterable {
        /// The task did its work: exit code 0, a 2xx answer, the sleep elapsed, or noop.
        case succeeded
        /// The task ran (or could not start) and did not succeed; ``ExecutionResult/error`` says why.
        case failed
        /// The attempt's timeout elapsed before it ended; it was stopped.
        case timedOut = "timed_out"
        /// The caller cancelled the attempt; it was stopped.
        case cancelled
    }

    /// How the attempt ended.
    public var outcome: Outcome
    /// A shell task's exit code, when its process exited (not when killed by a signal).
    public var exitCode: Int32?
    /// An http task's response status, when a response arrived.
    public var httpStatus: Int?
    /// The last bytes (at most the configured tail size, 64 KiB by default) of a shell task's
    /// interleaved stdout and stderr, or of an http response body. Valid UTF-8: the cut is on a
    /// character boundary and invalid bytes are replaced with U+FFFD.
    public var outputTail: String
    /// A human message for anything but plain success, e.g. `exit code 3`.
    public var error: String?
    /// How long the attempt took, measured on the executor's clock.
    public var duration: Duration

    /// Creates a result.
    public init(
        outcome: Outcome,
        exitCode: Int32? = nil,
        httpStatus: Int? = nil,
        outputTail: String = "",
        error: String? = nil,
        duration: Duration = .zero
    ) {
        self.outcome = outcome
        self.exitCode = exitCode
        self.httpStatus = httpStatus
        self.outputTail = outputTail
        self.error = error
        self.duration = duration
    }

    /// The duration in whole milliseconds, as the API's `duration_ms`.
    public var durationMilliseconds: Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
