import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One `quorum node` child: started through `/bin/sh -c 'exec …'` (so the pid is the node's own),
/// its output appended to a log file, signalled and reaped by pid only.
///
/// Not `Foundation.Process`: on Linux it notices a child's exit only when an inherited pipe
/// closes, and this tool must know at once that a SIGKILLed node is gone before restarting it.
final class NodeProcess: @unchecked Sendable {
    // @unchecked: `pid` and `exitStatus` are read and written only under `lock`.
    let id: String
    let logPath: String
    private let executable: String
    private let arguments: [String]
    private let directory: String
    private let extraEnvironment: [String: String]
    private let lock = NSLock()
    private var pid: pid_t?
    private var everStarted: [pid_t] = []

    init(id: String, executable: String, arguments: [String], directory: String, logPath: String,
         extraEnvironment: [String: String] = [:]) {
        self.id = id
        self.extraEnvironment = extraEnvironment
        self.executable = executable
        self.arguments = arguments
        self.directory = directory
        self.logPath = logPath
    }

    /// Every pid this node has had (for the pid file a wrapper script kills from).
    var pids: [pid_t] { lock.withLock { everStarted } }

    /// Starts the node unless it runs.
    func start() throws(ChaosError) {
        lock.lock()
        defer { lock.unlock() }
        if livePID() != nil { return }
        let script = #"cd "$1" && log="$2" && shift 2 && exec "$@" >>"$log" 2>&1 </dev/null"#
        let argv = ["/bin/sh", "-c", script, "sh", directory, logPath, executable] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["QUORUM_LOG_LEVEL"] = environment["QUORUM_CHAOS_LOG_LEVEL"] ?? "info"
        environment.removeValue(forKey: "QUORUM_DATA_DIR")
        environment.merge(extraEnvironment) { _, extra in extra }
        let started = try Self.spawn(argv, environment: environment.map { "\($0.key)=\($0.value)" })
        pid = started
        everStarted.append(started)
    }

    /// Sends `signal` if the node runs (never to a pid already reaped: it may belong to another process by now).
    func send(_ signal: Int32) {
        lock.withLock {
            if let pid = livePID() { _ = kill(pid, signal) }
        }
    }

    /// Whether the process is alive (a stopped process is alive). Reaps it if it exited.
    var isRunning: Bool {
        lock.withLock { livePID() != nil }
    }

    /// The child's pid while it has not been reaped; reaps it (WNOHANG) once it has exited and
    /// forgets the pid. Call under `lock`.
    private func livePID() -> pid_t? {
        guard let current = pid else { return nil }
        var status: Int32 = 0
        if waitpid(current, &status, WNOHANG) == 0 { return current }
        pid = nil
        return nil
    }

    /// SIGKILLs the node (SIGCONT first, in case it is stopped) and waits up to `timeout` for it to be reaped.
    func killAndWait(timeout: Duration = .seconds(10)) async {
        send(SIGCONT)
        send(SIGKILL)
        let deadline = ContinuousClock.now + timeout
        while isRunning, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    static func spawn(_ argv: [String], environment: [String]) throws(ChaosError) -> pid_t {
        var cArguments = argv.map { strdup($0) } + [nil]
        var cEnvironment = environment.map { strdup($0) } + [nil]
        defer {
            for pointer in cArguments { free(pointer) }
            for pointer in cEnvironment { free(pointer) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, argv[0], nil, nil, &cArguments, &cEnvironment)
        guard result == 0 else { throw ChaosError.setup("could not start \(argv[0]): posix_spawn error \(result)") }
        return pid
    }

    /// Runs `argv` to completion in `directory` and returns its exit code and output (short commands only).
    static func run(_ argv: [String], in directory: String) throws(ChaosError) -> (code: Int32, output: String) {
        let outputPath = directory + "/.chaos-command-\(UUID().uuidString).out"
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        let script = #"cd "$1" && out="$2" && shift 2 && exec "$@" >"$out" 2>&1 </dev/null"#
        let pid = try spawn(["/bin/sh", "-c", script, "sh", directory, outputPath] + argv,
                            environment: ProcessInfo.processInfo.environment.map { "\($0.key)=\($0.value)" })
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw ChaosError.setup("waitpid(\(pid)) failed: errno \(errno)") }
        }
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        let code: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return (code, text)
    }
}
