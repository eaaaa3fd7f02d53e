import Logging
import SchedulerCore
import Subprocess
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// Runs a ``ShellTask``'s argv with swift-subprocess, in its own session and process group.
///
/// - The child starts with `setsid`, so its process id is also its process group id; every
///   signal goes to the whole group, so grandchildren (`sh -c 'sleep 100 & wait'`) are stopped too.
/// - Stopping (timeout or cancellation) is swift-subprocess's teardown: SIGTERM to the group,
///   then SIGKILL to the group after the grace period if the leader is still alive.
/// - When the leader has exited, whatever is left of its group is sent SIGKILL: an attempt's
///   processes never outlive its result (like systemd's `KillMode=control-group`).
/// - stdout and stderr share one pipe (interleaved as written) and stream through an
///   ``OutputTail``, so memory stays bounded however much the job prints.
struct ShellRunner: Sendable {
    let configuration: ExecutorConfiguration
    let clock: any Clock<Duration>
    let logger: Logger
    let journal: ProcessGroupJournal?

    /// What the process did, before it is judged against an interruption.
    private enum Ending: Sendable {
        case terminated(TerminationStatus)
        case couldNotStart(String)
    }

    /// State shared with the subprocess body, which may be cut short by cancellation.
    private final class Capture: Sendable {
        let tail: Mutex<OutputTail>
        let processGroup = Mutex<pid_t?>(nil)
        init(limit: Int) { tail = Mutex(OutputTail(limit: limit)) }
    }

    func run(_ task: ShellTask, request: ExecutionRequest) async -> ExecutionResult {
        let subprocessConfiguration: Subprocess.Configuration
        switch makeConfiguration(task, request: request) {
        case .success(let made): subprocessConfiguration = made
        case .failure(let refusal): return ExecutionResult(outcome: .failed, error: refusal.text)
        }
        let capture = Capture(limit: configuration.outputTailLimit)
        let executable = task.argv.first ?? ""
        let (ending, interruption) = await withAttemptDeadline(timeout: request.timeout, clock: clock) {
            await Self.spawnAndWait(subprocessConfiguration, executable: executable, workingDirectory: task.workingDirectory,
                                    capture: capture, journal: journal)
        }
        // Kill the rest of the group: orphans of a leader that exited, or children that ignored
        // SIGTERM while the leader did not. ESRCH (nothing left) is the usual answer. The group id
        // is safe to signal after the leader was reaped: the kernel does not reuse a pid while it
        // names a live process group or session, so it is still our group or empty (barring a
        // wrap-around of the whole pid space between the reap and this call).
        if let group = capture.processGroup.withLock({ $0 }) {
            if Self.killRemainingGroup(group) {
                logger.debug("killed processes left in the attempt's process group", metadata: ["pgid": "\(group)"])
            }
            journal?.ended(group: group)
        }
        let output = capture.tail.withLock { $0.text }
        return Self.judge(ending, interruption: interruption, output: output, grace: configuration.killGracePeriod)
    }

    // MARK: - Building the subprocess configuration

    private struct Refusal: Error {
        let text: String
    }

    /// What every shell task starts with before its own `env`.
    static let baseEnvironment: [Environment.Key: String] = [
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": getenv("HOME").map { String(cString: $0) } ?? "/",
    ]

    private func makeConfiguration(_ task: ShellTask, request: ExecutionRequest) -> Result<Subprocess.Configuration, Refusal> {
        guard let first = task.argv.first, !first.isEmpty else {
            return .failure(Refusal(text: "shell task has an empty argv: give the executable as argv[0]"))
        }
        if let bad = task.argv.first(where: { $0.utf8.contains(0) }) {
            return .failure(Refusal(text: "shell task argument \(quoted(bad)) contains a NUL byte"))
        }
        // A cleared environment: the node's own variables (tokens, credentials, proxies) are not the
        // task's business. A minimal PATH and HOME, then the task's env, then QUORUM_RUN_ID/ATTEMPT.
        var overrides: [Environment.Key: String] = Self.baseEnvironment
        // The run_as user's home, not the node's; a task's own HOME still wins below.
        if let account = configuration.runAs { overrides["HOME"] = account.home }
        // Sorted by key in the spec; a repeated key's last value wins.
        for (name, value) in task.environment.lazy.map({ ($0.key, $0.value) }) {
            guard !name.isEmpty, !name.contains("="), !name.utf8.contains(0) else {
                return .failure(Refusal(text: "environment variable name \(quoted(name)) is invalid: it must be non-empty and contain neither '=' nor NUL"))
            }
            guard !value.utf8.contains(0) else {
                return .failure(Refusal(text: "environment variable \(name) has a value containing a NUL byte"))
            }
            // Refused at submission too; checked again here for entries an older build accepted.
            guard !StartupVariables.isForbidden(name) else { return .failure(Refusal(text: StartupVariables.reason(name))) }
            overrides[Environment.Key(stringLiteral: name)] = value
        }
        overrides["QUORUM_RUN_ID"] = request.runID.rawValue
        overrides["QUORUM_ATTEMPT"] = String(request.attempt)

        var platformOptions = PlatformOptions()
        platformOptions.createSession = true
        platformOptions.teardownSequence = [
            .gracefulShutDown(toProcessGroup: true, allowedDurationToNextStep: configuration.killGracePeriod)
        ]
        var executable: Executable = first.contains("/") ? .path(FilePath(first)) : .name(first)
        // What is executed: argv[0], or the path a shell policy resolved it to.
        var program = first
        var arguments = Arguments(Array(task.argv.dropFirst()))
        var workingDirectory = task.workingDirectory
        if let policy = configuration.shellPolicy {
            // Decided again here, on the disk as it is now, and the program started is the
            // resolved path that was judged: a symlink re-pointed after submission (or after this
            // check) cannot redirect it. Only replacing something on the resolved path itself
            // could, which takes write access to an allowed directory (docs/security.md).
            switch policy.executable(first) {
            case .success(let resolved):
                executable = .path(FilePath(resolved))
                program = resolved
                arguments = Arguments(executablePathOverride: first, remainingValues: Array(task.argv.dropFirst()))
            case .failure(let refusal):
                return .failure(Refusal(text: "refused by the node's shell policy: \(refusal.reason)"))
            }
            switch policy.workingDirectory(task.workingDirectory) {
            case .success(let directory): workingDirectory = directory
            case .failure(let refusal): return .failure(Refusal(text: "refused by the node's shell policy: \(refusal.reason)"))
            }
        }
        if let account = configuration.runAs {
            // setpriv switches user and executes the task (RunAsAccount says why the spawn does
            // not switch itself): it gets the program as judged above — the resolved path under
            // a shell policy — so a symlink re-pointed now still cannot redirect it.
            // setpriv would report a missing program only as exit 127 in the output: say it as a
            // spawn does (the task's PATH for a bare name, as setpriv's execvp searches it).
            if let problem = Self.unrunnable(program, searchPath: overrides["PATH"] ?? "") {
                return .failure(Refusal(text: problem))
            }
            let argv = account.switchedArgv(program: program, arguments: Array(task.argv.dropFirst()))
            executable = .path(FilePath(account.switcher))
            arguments = Arguments(Array(argv.dropFirst()))
        }
        return .success(Subprocess.Configuration(
            executable: executable,
            arguments: arguments,
            environment: .custom(overrides),
            workingDirectory: workingDirectory.map { FilePath($0) },
            platformOptions: platformOptions
        ))
    }

    /// Why `program` cannot be run, in the words of ``describeStartFailure(_:executable:workingDirectory:)``;
    /// nil when a file by that name exists and is executable (by the node: whether the `run_as`
    /// user may execute it is left to `setpriv`, whose message is then in the output).
    private static func unrunnable(_ program: String, searchPath: String) -> String? {
        let candidates = program.contains("/") ? [program]
            : searchPath.split(separator: ":").map { "\($0.isEmpty ? "." : String($0))/\(program)" }
        guard let found = candidates.first(where: { access($0, F_OK) == 0 }) else { return "no such executable: \(program)" }
        return access(found, X_OK) == 0 ? nil : "cannot run \(program): permission denied (is it executable?)"
    }

    // MARK: - Running

    private static func spawnAndWait(
        _ configuration: Subprocess.Configuration,
        executable: String,
        workingDirectory: String?,
        capture: Capture,
        journal: ProcessGroupJournal?
    ) async -> Ending {
        do {
            let result = try await Subprocess.run(
                configuration,
                input: .none,
                output: .sequence,
                error: .combinedWithOutput
            ) { execution in
                capture.processGroup.withLock { $0 = execution.processIdentifier.value }
                journal?.started(group: execution.processIdentifier.value)
                do {
                    for try await chunk in execution.standardOutput {
                        chunk.withUnsafeBytes { bytes in
                            capture.tail.withLock { $0.append(bytes) }
                        }
                    }
                } catch {
                    // The read ends early when the attempt is stopped; the termination status
                    // that `run` still waits for tells what happened.
                }
            }
            return .terminated(result.terminationStatus)
        } catch let error as SubprocessError {
            return .couldNotStart(describeStartFailure(error, executable: executable, workingDirectory: workingDirectory))
        } catch {
            return .couldNotStart("could not run \(quoted(executable)): \(error)")
        }
    }

    private static func describeStartFailure(_ error: SubprocessError, executable: String, workingDirectory: String?) -> String {
        let errnoValue = error.underlyingError?.rawValue
        if error.code == .executableNotFound || (error.code == .spawnFailed && errnoValue == ENOENT) {
            return "no such executable: \(executable)"
        }
        if error.code == .failedToChangeWorkingDirectory {
            return "cannot use working directory \(quoted(workingDirectory ?? "")): it does not exist or is not accessible"
        }
        if error.code == .spawnFailed, errnoValue == EACCES {
            return "cannot run \(executable): permission denied (is it executable?)"
        }
        return "could not start \(executable): \(error)"
    }

    /// Sends SIGKILL to the process group; whether any process was still in it.
    private static func killRemainingGroup(_ group: pid_t) -> Bool {
        guard group > 0 else { return false }
        return kill(-group, SIGKILL) == 0
    }

    // MARK: - Judging

    private static func judge(_ ending: Ending, interruption: Interruption?, output: String, grace: Duration) -> ExecutionResult {
        switch ending {
        case .couldNotStart(let message):
            switch interruption {
            case .cancelled:
                return ExecutionResult(outcome: .cancelled, outputTail: output, error: "cancelled before the process started")
            case .timedOut(let timeout):
                return ExecutionResult(outcome: .timedOut, outputTail: output,
                                       error: "timed out after \(DurationText.seconds(timeout)) before the process started")
            case nil:
                return ExecutionResult(outcome: .failed, outputTail: output, error: message)
            }
        case .terminated(let status):
            let exitCode: Int32?
            let how: String
            switch status {
            case .exited(let code):
                exitCode = code
                how = "exit code \(code)"
            case .signaled(let signal):
                exitCode = nil
                how = "killed by \(SignalName.of(signal))"
            }
            switch interruption {
            case .timedOut(let timeout):
                let limit = DurationText.seconds(timeout)
                let message = exitCode == nil
                    ? "\(how) after timeout \(limit)"
                    : "timed out after \(limit) (\(how) after SIGTERM)"
                return ExecutionResult(outcome: .timedOut, exitCode: exitCode, outputTail: output, error: message)
            case .cancelled:
                return ExecutionResult(outcome: .cancelled, exitCode: exitCode, outputTail: output, error: "cancelled (\(how))")
            case nil:
                if status.isSuccess {
                    return ExecutionResult(outcome: .succeeded, exitCode: exitCode, outputTail: output)
                }
                return ExecutionResult(outcome: .failed, exitCode: exitCode, outputTail: output, error: how)
            }
        }
    }
}

/// `"text"` with quotes, for messages that name a user's value.
func quoted(_ text: String) -> String {
    "\"\(text)\""
}

/// Conventional names of the signals a job is likely to die from.
enum SignalName {
    /// `SIGKILL`, `SIGTERM`, … or `signal 42` for anything unusual.
    static func of(_ signal: Int32) -> String {
        switch signal {
        case SIGHUP: "SIGHUP"
        case SIGINT: "SIGINT"
        case SIGQUIT: "SIGQUIT"
        case SIGILL: "SIGILL"
        case SIGABRT: "SIGABRT"
        case SIGBUS: "SIGBUS"
        case SIGFPE: "SIGFPE"
        case SIGKILL: "SIGKILL"
        case SIGSEGV: "SIGSEGV"
        case SIGPIPE: "SIGPIPE"
        case SIGALRM: "SIGALRM"
        case SIGTERM: "SIGTERM"
        case SIGUSR1: "SIGUSR1"
        case SIGUSR2: "SIGUSR2"
        default: "signal \(signal)"
        }
    }
}
