import Executor
import Foundation
import SchedulerCore
import Testing

/// The executor node's store of full output tails: bounded by count and bytes, oldest evicted
/// first, kept across a restart (reopening the directory), DAG run ids (`…/task`) as one file.
@Suite("Attempt output store")
struct AttemptOutputStoreTests {
    static func key(_ run: String, _ attempt: Int = 1) -> AttemptOutputStore.Key {
        AttemptOutputStore.Key(runID: RunID(run), attempt: attempt)
    }

    @Test("an output written is read back, per attempt; an unknown attempt is nil")
    func roundTrip() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try AttemptOutputStore(directory: directory.path + "/outputs")
        let big = String(repeating: "0123456789abcdef", count: 4096)  // 64 KiB
        try store.write(big, for: Self.key("r-1"))
        try store.write("second\n", for: Self.key("r-1", 2))
        try store.write("dag task ✓\n", for: Self.key("dn2-mxaoqw02-5/a b%"))
        #expect(store.output(of: Self.key("r-1")) == big)
        #expect(store.output(of: Self.key("r-1", 2)) == "second\n")
        #expect(store.output(of: Self.key("dn2-mxaoqw02-5/a b%")) == "dag task ✓\n")
        #expect(store.output(of: Self.key("r-1", 3)) == nil)
        #expect(store.output(of: Self.key("r-2")) == nil)
        #expect(store.count == 3)
        #expect(store.totalBytes == big.utf8.count + 7 + "dag task ✓\n".utf8.count)
        // Rewriting an attempt replaces it.
        try store.write("again\n", for: Self.key("r-1", 2))
        #expect(store.output(of: Self.key("r-1", 2)) == "again\n")
        #expect(store.count == 3)
    }

    @Test("over the count bound the oldest outputs are evicted first")
    func evictsByCount() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try AttemptOutputStore(directory: directory.path, bounds: .init(maxFiles: 3, maxBytes: 1 << 20))
        for index in 1...5 { try store.write("output \(index)", for: Self.key("r-\(index)")) }
        #expect(store.count == 3)
        #expect(store.output(of: Self.key("r-1")) == nil)
        #expect(store.output(of: Self.key("r-2")) == nil)
        for index in 3...5 { #expect(store.output(of: Self.key("r-\(index)")) == "output \(index)") }
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        #expect(files.count == 3, "\(files)")
    }

    @Test("over the byte bound the oldest outputs are evicted first; one larger than the bound is refused")
    func evictsByBytes() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try AttemptOutputStore(directory: directory.path, bounds: .init(maxFiles: 100, maxBytes: 250))
        for index in 1...4 { try store.write(String(repeating: "\(index)", count: 100), for: Self.key("r-\(index)")) }
        #expect(store.count == 2)
        #expect(store.totalBytes == 200)
        #expect(store.output(of: Self.key("r-2")) == nil)
        #expect(store.output(of: Self.key("r-4")) == String(repeating: "4", count: 100))
        #expect(throws: AttemptOutputStore.WriteFailure.self) {
            try store.write(String(repeating: "x", count: 251), for: Self.key("huge"))
        }
        #expect(store.count == 2)
    }

    @Test("a reopened store (a restarted node) keeps its outputs and evicts in the same order")
    func survivesRestart() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let bounds = AttemptOutputStore.Bounds(maxFiles: 3, maxBytes: 1 << 20)
        do {
            let store = try AttemptOutputStore(directory: directory.path, bounds: bounds)
            for index in 1...3 { try store.write("output \(index)", for: Self.key("run/\(index)")) }
        }
        // A torn write of the previous run is cleaned up; a foreign file is left alone.
        try Data("partial".utf8).write(to: directory.appendingPathComponent(".tmp-9_1_x"))
        try Data("notes".utf8).write(to: directory.appendingPathComponent("README"))
        let reopened = try AttemptOutputStore(directory: directory.path, bounds: bounds)
        #expect(reopened.count == 3)
        for index in 1...3 { #expect(reopened.output(of: Self.key("run/\(index)")) == "output \(index)") }
        try reopened.write("output 4", for: Self.key("run/4"))
        #expect(reopened.output(of: Self.key("run/1")) == nil, "the oldest (written before the restart) goes first")
        #expect(reopened.output(of: Self.key("run/2")) == "output 2")
        let files = Set(try FileManager.default.contentsOfDirectory(atPath: directory.path))
        #expect(!files.contains(".tmp-9_1_x"))
        #expect(files.contains("README"))
        // Smaller bounds at the next start shrink the store.
        let smaller = try AttemptOutputStore(directory: directory.path, bounds: .init(maxFiles: 1, maxBytes: 1 << 20))
        #expect(smaller.count == 1)
        #expect(smaller.output(of: Self.key("run/4")) == "output 4")
    }

    @Test("the replicated tail is the end of the output in at most 4 KiB, cut on a character boundary")
    func shortTail() {
        #expect(ReplicatedOutputTail.limit == 4096)
        #expect(ReplicatedOutputTail.shortened("short\n") == "short\n")
        let long = String(repeating: "a", count: 10_000) + "THE END\n"
        let short = ReplicatedOutputTail.shortened(long)
        #expect(short.utf8.count == 4096)
        #expect(short.hasSuffix("THE END\n"))
        // "é" is two bytes: a cut through it drops the orphan continuation byte.
        let accented = String(repeating: "é", count: 3000)
        let cut = ReplicatedOutputTail.shortened(accented, limit: 5)
        #expect(cut == "éé")
        #expect(!cut.contains("\u{FFFD}"))
    }
}
