import Foundation
import HTTPAPI
import Logging
import Testing

@testable import quorum

/// A node re-reads `[api] tokens_file` on change: revocation needs no restart.
@Suite("Tokens file watcher")
struct TokenFileWatcherTests {
    @Test("a revocation written to the file reaches the authorizer; a broken file in between does not stop the watcher", .timeLimit(.minutes(1)))
    func reloads() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("watch-\(UUID().uuidString).tokens").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let both = TokenFile(entries: [
            .init(name: "a", role: .read, digest: TokenFile.digest(of: "qt_a")),
            .init(name: "b", role: .admin, digest: TokenFile.digest(of: "qt_b")),
        ])
        try Data(both.text.utf8).write(to: URL(fileURLWithPath: path))
        let loaded = try TokenFileWatcher.loadWithStamp(path: path)
        let authorizer = TokenAuthorizer(loaded.file)
        // The watcher starts after the first change below: it must still see it.
        let watcher = TokenFileWatcher(path: path, authorizer: authorizer, logger: Logger(label: "test"), loadedStamp: loaded.stamp)
        let onlyB = TokenFile(entries: both.entries.filter { $0.name == "b" })
        try Data(onlyB.text.utf8).write(to: URL(fileURLWithPath: path))
        let task = Task { try await watcher.run() }
        defer { task.cancel() }
        try await waitUntil("the revocation of 'a' is read") { authorizer.entries.map(\.name) == ["b"] }

        try Data("b admin not-a-hash\n".utf8).write(to: URL(fileURLWithPath: path))
        try Data((onlyB.text + "c read \(String(repeating: "ab", count: 32))\n").utf8).write(to: URL(fileURLWithPath: path + ".next"))
        // A broken file in between (logged, not applied) does not stop the watcher: the next valid one is read.
        _ = rename(path + ".next", path)
        try await waitUntil("the next valid file is read") { authorizer.entries.map(\.name) == ["b", "c"] }
    }

    private func waitUntil(_ what: String, _ condition: @Sendable () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(20)
        while !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("timed out waiting until \(what)")
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}
