import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where the built `quorum` executable and the repository are.
///
/// The binary sits next to the test bundle in SwiftPM's products directory (the test target
/// depends on the `quorum` product, so `swift build --build-tests` builds it); `QUORUM_BINARY`
/// overrides it.
enum QuorumBinary {
    static var path: String {
        if let override = ProcessInfo.processInfo.environment["QUORUM_BINARY"] { return override }
        let products = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let candidates = [products, products.deletingLastPathComponent()].map { $0.appendingPathComponent("quorum").path }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[0]
    }

    /// The repository root, found from this source file (Tests/ClusterTests/Support/…).
    static let repoRoot: String = {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(4)
        return parts.joined(separator: "/")
    }()

    /// What a finished command printed.
    struct Result: Sendable {
        var exitCode: Int32
        var output: String
    }

    /// Runs `executable arguments…` in `directory` to completion, stdout and stderr together
    /// into a file. For short commands only (`quorum certs init`, the cluster scripts): it blocks
    /// a thread in `waitpid`.
    ///
    /// Not `Foundation.Process`: on Linux it learns that a child exited when a socket the child
    /// inherited closes, so a script that leaves daemons behind (`cluster-up.sh`) never "exits".
    static func runToCompletion(_ executable: String, _ arguments: [String], in directory: String,
                                environment: [String: String] = [:]) throws -> Result {
        let outputPath = directory + "/.command-\(UUID().uuidString).out"
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        // sh changes directory and redirects, then becomes the command.
        let argv = ["/bin/sh", "-c", #"cd "$1" && out="$2" && shift 2 && exec "$@" >"$out" 2>&1 </dev/null"#, "sh",
                    directory, outputPath, executable] + arguments
        let env = ProcessInfo.processInfo.environment.merging(environment) { $1 }.map { "\($0.key)=\($0.value)" }
        let pid = try spawn(argv, environment: env)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw ClusterError("waitpid(\(pid)) failed: errno \(errno)") }
        }
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        // WIFEXITED / WEXITSTATUS by hand (macros are not imported).
        let exitCode: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return Result(exitCode: exitCode, output: text)
    }

    static func spawn(_ argv: [String], environment: [String]) throws -> pid_t {
        var cArguments = argv.map { strdup($0) } + [nil]
        var cEnvironment = environment.map { strdup($0) } + [nil]
        defer {
            for pointer in cArguments { free(pointer) }
            for pointer in cEnvironment { free(pointer) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, argv[0], nil, nil, &cArguments, &cEnvironment)
        guard result == 0 else { throw ClusterError("posix_spawn \(argv[0]) failed: error \(result)") }
        return pid
    }
}

/// A harness failure with what to look at.
struct ClusterError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
