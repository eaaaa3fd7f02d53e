import Executor
import SchedulerCore

/// Translations between the replicated scheduler's types and the executor's.
enum TaskTranslation {
    /// What the executor runs for a replicated task.
    static func executorTask(_ task: ScheduledTask) -> ExecutorTask {
        switch task {
        case .noop:
            return .noop
        case .sleep(let milliseconds):
            return .sleep(seconds: Double(milliseconds) / 1000)
        case .shell(let shell):
            var environment: [String: String] = [:]
            for pair in shell.environment { environment[pair.key] = pair.value }
            return .shell(ExecutorShellTask(argv: shell.argv, environment: environment,
                                             workingDirectory: shell.workingDirectory))
        case .http(let http):
            return .http(ExecutorHTTPTask(method: http.method, url: http.url,
                                           headers: http.headers.map { HTTPHeaderField(name: $0.key, value: $0.value) },
                                           body: http.body.isEmpty ? nil : http.body))
        }
    }

    /// The report the node proposes for an executor's result.
    static func report(_ result: ExecutionResult) -> AttemptReport {
        let outcome: AttemptOutcome = switch result.outcome {
        case .succeeded: .succeeded
        case .failed: .failed
        case .timedOut: .timedOut
        case .cancelled: .cancelled
        }
        return AttemptReport(outcome: outcome, exitCode: result.exitCode, httpStatus: result.httpStatus.map { Int32($0) },
                             outputTail: result.outputTail, error: result.error)
    }
}
