import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One `quorum node` child: started through `/bin/sh -c 'exec …'` (so the pid is the node's own),
/// its output appended to a log file, signalled and reaped by pid only.
///
/// With a `pidFile` (`--config`, a node this tool did not start) the running node's pid is read
/// from that file and *adopted*: signalled, but never reaped (its parent does that), and alive
/// while `/proc/<pid>` shows it not a zombie. A restart spawns the start command as this tool's
/// child and writes the new pid back to the file.
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
    /// Where an existing node's pid is read from and a restarted one's written (`--pid-file`).
    private let pidFile: String?
    private let lock = NSLock()
    private var pid: pid_t?
    /// Whether `pid` came from `pidFile` (not this tool's child: never waited for).
    private var adopted = false
    private var everStarted: [pid_t] = []

    init(id: String, executable: String, arguments: [String], directory: String, logPath: String,
         extraEnvironment: [String: String] = [:], pidFile: String? = nil) {
        self.id = id
        self.pidFile = pidFile
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
        guard !executable.isEmpty else {
            throw .setup("node \(id) is not running, and no --start-command was given to start it again")
        }
        let script = #"cd "$1" && log="$2" && shift 2 && exec "$@" >>"$log" 2>&1 </dev/null"#
        let argv = ["/bin/sh", "-c", script, "sh", directory, logPath, executable] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["QUORUM_LOG_LEVEL"] = environment["QUORUM_CHAOS_LOG_LEVEL"] ?? "info"
        environment.removeValue(forKey: "QUORUM_DATA_DIR")
        environment.merge(extraEnvironment) { _, extra in extra }
        let started = try Self.spawn(argv, environment: environment.map { "\($0.key)=\($0.value)" })
        pid = started
        adopted = false
        everStarted.append(started)
        if let pidFile { try? "\(started)\n".write(toFile: pidFile, atomically: true, encoding: .utf8) }
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
        guard let current = pid else { return adoptFromFile() }
        if adopted {
            if Self.isAlive(current) { return current }
            pid = nil
            adopted = false
            return nil
        }
        var status: Int32 = 0
        if waitpid(current, &status, WNOHANG) == 0 { return current }
        pid = nil
        return nil
    }

    /// The live pid named by `pidFile`, adopted; nil without a file, a pid in it, or a live process. Call under `lock`.
    private func adoptFromFile() -> pid_t? {
        guard let pidFile, let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
              let found = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)), found > 1, Self.isAlive(found) else { return nil }
        pid = found
        adopted = true
        return found
    }

    /// Whether process `pid` exists and has not exited (a zombie waiting for its parent has).
    static func isAlive(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first
        return state != nil && state != "Z" && state != "X"
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

    /// Starts `argv` with only stdin, stdout and stderr inherited (``closingInheritedDescriptors()``).
    static func spawn(_ argv: [String], environment: [String]) throws(ChaosError) -> pid_t {
        var cArguments = argv.map { strdup($0) } + [nil]
        var cEnvironment = environment.map { strdup($0) } + [nil]
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer {
            posix_spawn_file_actions_destroy(&actions)
            for pointer in cArguments { free(pointer) }
            for pointer in cEnvironment { free(pointer) }
        }
        closingInheritedDescriptors(&actions)
        var pid: pid_t = 0
        let result = posix_spawn(&pid, argv[0], &actions, nil, &cArguments, &cEnvironment)
        guard result == 0 else { throw ChaosError.setup("could not start \(argv[0]): posix_spawn error \(result)") }
        return pid
    }

    /// The child closes every descriptor from 3 up before it runs (glibc's
    /// `posix_spawn_file_actions_addclosefrom_np`, 2.34+, looked up at run time: Swift's Glibc
    /// module does not declare it).
    ///
    /// Why (issue #15, the `wipe` write stall): SwiftNIO opens sockets without `CLOEXEC`, so a
    /// node started by a plain `posix_spawn` inherited this tool's open sockets — the link
    /// proxies' connections among them. Closing a proxy connection whose descriptor a node also
    /// holds sends no FIN, so when a node was killed, its peers' connections through the proxies
    /// stayed half-open: they kept sending into them, unanswered, until the transport's 30 s read
    /// idle timeout, and the restarted node heard from no leader for that long (15–27 s repairs).
    /// Without the function (an older glibc) the child inherits them, as before.
    private static func closingInheritedDescriptors(_ actions: inout posix_spawn_file_actions_t) {
        typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        #if canImport(Glibc)
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return }
        _ = unsafeBitCast(symbol, to: CloseFrom.self)(&actions, 3)
        #endif
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
