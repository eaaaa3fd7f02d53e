import Executor
import Foundation
import Logging
import Testing

/// A logger that drops everything (tests assert results, not log lines).
let silentLogger = Logger(label: "executor-tests") { _ in SwiftLogNoOpLogHandler() }

/// Thrown when a bounded wait runs out.
struct WaitTimedOut: Error, CustomStringConvertible {
    let what: String
    var description: String { "timed out waiting for \(what)" }
}

/// Polls `condition` until it holds or `limit` passes (a bounded wait on a condition, never a
/// fixed sleep to synchronise).
func waitUntil(
    _ what: String,
    within limit: Duration = .seconds(30),
    _ condition: () throws -> Bool
) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now + limit
    while try !condition() {
        guard clock.now < deadline else { throw WaitTimedOut(what: what) }
        try await Task.sleep(for: .milliseconds(5))
    }
}

/// The value of `task`, or a thrown ``WaitTimedOut`` if it takes longer than `limit`
/// (the task is then cancelled).
func value<T: Sendable>(of task: Task<T, Never>, within limit: Duration = .seconds(30)) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { await task.value }
        group.addTask {
            try await Task.sleep(for: limit)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else {
            task.cancel()
            throw WaitTimedOut(what: "the attempt to finish")
        }
        return value
    }
}

/// A fresh empty directory under the system temp dir, removed by the caller.
func makeTemporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("executor-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Whether a process with this id exists and is not a zombie (a reaped-later orphan counts as gone).
func processIsAlive(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else {
        return false
    }
    // Format: "pid (comm) S ..."; the state follows the last ')'.
    guard let close = stat.lastIndex(of: ")") else { return false }
    let state = stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first
    return state != "Z" && state != "X"
}

/// Reads a pid a shell script wrote to `file` (waits until the file holds a full line).
func readPID(from file: URL) async throws -> Int32 {
    var pid: Int32?
    try await waitUntil("pid file \(file.path)") {
        guard let text = try? String(contentsOf: file, encoding: .utf8), text.hasSuffix("\n") else { return false }
        pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
        return pid != nil
    }
    return try #require(pid)
}
