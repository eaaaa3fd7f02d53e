import DeterministicRandom
import Foundation
import RaftCore
import Testing

@testable import RaftStorage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Finds the `WALCrashChild` executable next to the test binary (SwiftPM puts every product of
/// a build in the same directory, e.g. `.build/debug/`).
enum CrashChild {
    static let name = "WALCrashChild"

    static let path: String? = {
        var directories: [URL] = []
        #if os(Linux)
        directories.append(URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent())
        #endif
        directories.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent())
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            directories.append(bundle.bundleURL.deletingLastPathComponent())
        }
        return directories.map { $0.appendingPathComponent(name).path }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    /// The payload the child writes for entry `index`.
    static func payload(_ index: UInt64) -> [UInt8] {
        (0..<200).map { UInt8(truncatingIfNeeded: index &* 31 &+ UInt64($0) &+ 1) }
    }
}

/// Reads a child's stdout line by line with plain `read(2)`.
struct LineReader {
    let descriptor: Int32
    private var buffer: [UInt8] = []

    init(descriptor: Int32) { self.descriptor = descriptor }

    /// The next line, or `nil` at end of file.
    mutating func nextLine() -> String? {
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeSubrange(...newline)
                return line
            }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            if count <= 0 { return nil }
            buffer.append(contentsOf: chunk[0..<count])
        }
    }
}

@Suite("Kill test")
struct CrashKillTests {
    @Test(
        "SIGKILL at seeded random moments never loses an acknowledged index",
        .enabled(if: CrashChild.path != nil, "WALCrashChild is not built next to the tests; run `swift build --build-tests`"),
        arguments: [UInt64(2026)])
    func killRepeatedly(seed: UInt64) async throws {
        let child = try #require(CrashChild.path)
        try await withTemporaryDirectory { directory in
            var random = SplitMix64(seed: seed)
            var highestAcked: UInt64 = 0
            for round in 0..<20 {
                // 0: kill while the child is still recovering; otherwise after that many acks.
                let killAfter = round % 5 == 0 ? 0 : Int.random(in: 1...600, using: &random)
                let pipe = Pipe()
                let process = Process()
                process.executableURL = URL(fileURLWithPath: child)
                process.arguments = [directory]
                process.standardOutput = pipe
                try process.run()
                var reader = LineReader(descriptor: pipe.fileHandleForReading.fileDescriptor)
                var acks = 0
                var lines: [String] = []
                if killAfter > 0 {
                    while acks < killAfter, let line = reader.nextLine() {
                        lines.append(line)
                        if line.hasPrefix("acked ") { acks += 1 }
                    }
                }
                kill(process.processIdentifier, SIGKILL)
                while let line = reader.nextLine() { lines.append(line) }
                process.waitUntilExit()
                #expect(process.terminationReason == .uncaughtSignal, "seed \(seed) round \(round): child exited by itself: \(lines.suffix(3))")
                #expect(!lines.contains { $0.hasPrefix("error") }, "seed \(seed) round \(round): \(lines.filter { $0.hasPrefix("error") })")
                for line in lines where line.hasPrefix("acked ") {
                    if let index = UInt64(line.dropFirst("acked ".count)) { highestAcked = max(highestAcked, index) }
                }

                let store = try await FileLogStore.open(directory: directory, options: testOptions(segmentSize: 256 << 10))
                #expect(store.lastIndex.rawValue >= highestAcked, "seed \(seed) round \(round): acked \(highestAcked), recovered \(store.lastIndex)")
                if highestAcked >= store.firstIndex.rawValue {
                    let survived = try store.entries(from: store.firstIndex, through: Raft.LogIndex(highestAcked))
                    let intact = survived.allSatisfy { $0.data == CrashChild.payload($0.index.rawValue) && $0.term == 1 }
                    #expect(intact, "seed \(seed) round \(round): an acknowledged entry came back different")
                }
                if let snapshot = store.snapshot {
                    #expect(snapshot.data == CrashChild.payload(snapshot.index.rawValue), "seed \(seed) round \(round)")
                }
                await store.close()
            }
            #expect(highestAcked > 0)
        }
    }
}
