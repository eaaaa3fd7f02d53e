import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One `quorum node` child process: started in the cluster's directory, its stdout and stderr
/// appended to `logs/<id>.log` (kept across restarts) or sent to a pipe nobody reads, signalled
/// by pid.
final class NodeProcess: @unchecked Sendable {
    /// Where the node's stdout and stderr go.
    enum Output: Sendable {
        /// Appended to `logs/<id>.log`.
        case logFile
        /// A pipe whose reading end is closed before the node starts: every write the node makes
        /// there fails (`EPIPE`, and `SIGPIPE` unless the node ignores it), as when the program
        /// that collected a service's output went away.
        case pipeWithoutReader
    }

    // @unchecked: `process` is read and replaced only under `lock`.
    let id: String
    let logPath: String
    private let directory: String
    private let configFile: String
    private let extraArguments: [String]
    private let extraEnvironment: [String: String]
    private let output: Output
    private let lock = NSLock()
    private var process: Process?
    /// Variables added to the node's environment at its next start (say a test-only hook's).
    private var addedEnvironment: [String: String] = [:]

    /// Sets the variables added to the environment of the node's next start (`[:]`: none).
    func setEnvironment(_ added: [String: String]) {
        lock.withLock { addedEnvironment = added }
    }

    init(id: String, directory: String, configFile: String, extraArguments: [String] = [], environment: [String: String] = [:],
         output: Output = .logFile) {
        self.output = output
        self.extraArguments = extraArguments
        self.extraEnvironment = environment
        self.id = id
        self.directory = directory
        self.configFile = configFile
        self.logPath = "\(directory)/logs/\(id).log"
    }

    /// The running process's pid, or nil if it is not running.
    var pid: Int32? {
        lock.withLock { process.flatMap { $0.isRunning ? $0.processIdentifier : nil } }
    }

    /// Whether the process runs (a stopped process runs too).
    var isRunning: Bool { pid != nil }

    /// Starts `quorum node --config c.toml --id ID` and `more` arguments (precondition: not running).
    func start(adding more: [String] = []) throws {
        try FileManager.default.createDirectory(atPath: "\(directory)/logs", withIntermediateDirectories: true)
        if !FileManager.default.fileExists(atPath: logPath) {
            guard FileManager.default.createFile(atPath: logPath, contents: nil) else {
                throw ClusterError("could not create \(logPath)")
            }
        }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        try log.seekToEnd()
        let marker = "=== test harness: starting \(id) at \(Date()) ===\n"
        try log.write(contentsOf: Data(marker.utf8))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: QuorumBinary.path)
        process.arguments = ["node", "--config", configFile, "--id", id] + extraArguments + more
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        var environment = ProcessInfo.processInfo.environment
        environment["QUORUM_LOG_LEVEL"] = environment["QUORUM_CLUSTER_TEST_LOG_LEVEL"] ?? "info"
        environment.removeValue(forKey: "QUORUM_DATA_DIR")
        environment.merge(extraEnvironment) { $1 }
        environment.merge(lock.withLock { addedEnvironment }) { $1 }
        process.environment = environment
        switch output {
        case .logFile:
            process.standardOutput = log
            process.standardError = log
        case .pipeWithoutReader:
            let pipe = Pipe()
            try pipe.fileHandleForReading.close()
            process.standardOutput = pipe.fileHandleForWriting
            process.standardError = pipe.fileHandleForWriting
        }
        process.standardInput = FileHandle.nullDevice
        try lock.withLock {
            precondition(self.process?.isRunning != true, "node \(id) is already running")
            try process.run()
            self.process = process
        }
        try log.close()
    }

    /// Sends `signal` to the process (no-op if it is not running).
    func send(_ signal: Int32) {
        guard let pid else { return }
        kill(pid, signal)
    }

    /// Waits until the process has exited (and been reaped), up to `timeout`.
    func waitForExit(timeout: Duration) async throws {
        let deadline = ContinuousClock.now + timeout
        while isRunning {
            guard ContinuousClock.now < deadline else {
                throw ClusterError("node \(id) (pid \(pid.map(String.init) ?? "?")) still runs after \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// The exit status of the last process, if it has exited.
    var exitStatus: Int32? {
        lock.withLock { process.flatMap { $0.isRunning ? nil : $0.terminationStatus } }
    }

    /// Polls `check` as ``eventually(_:timeout:poll:_:)`` does, but fails at once, with the exit
    /// status and the log's tail, when the process has exited: a test waiting on a node that died
    /// learns why at once instead of at its timeout.
    @discardableResult
    func eventuallyWhileRunning<T>(_ what: String, timeout: Duration = .seconds(30), poll: Duration = .milliseconds(50),
                                   _ check: () async throws -> T?) async throws -> T {
        try await eventually(what, timeout: timeout, poll: poll) { () -> T? in
            guard isRunning else {
                throw ClusterError("node \(id) exited (status \(exitStatus.map(String.init) ?? "?")) while waiting for \(what):\n"
                    + logTail())
            }
            return try await check()
        }
    }

    /// The last `lines` lines of the node's log.
    func logTail(lines: Int = 40) -> String {
        guard let text = try? String(contentsOfFile: logPath, encoding: .utf8) else { return "(no log at \(logPath))" }
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }
}
