import Foundation
import Testing

@testable import Chaos

/// The `clock` nemesis's preload (`libChaosWallClock.so`) run under real programs: it must skew the
/// wall clock exactly as its spec file says and leave monotonic timers and file times alone.
/// Regression for the clock finding (docs/chaos.md): under libfaketime a node five minutes behind
/// stopped running its timers, and each jump made it reload its TLS files; here a five-minute-back
/// clock must not delay an absolute monotonic sleep, and `stat` must report real modification times.
@Suite(.serialized)
struct WallClockPreloadTests {
    /// The library SwiftPM builds beside this test bundle (`swift build --build-tests` builds it).
    static let library: String = {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var directory = executable.deletingLastPathComponent()
        if directory.lastPathComponent == "MacOS" || directory.pathExtension == "xctest" {
            directory = directory.deletingLastPathComponent()
        }
        return directory.appendingPathComponent(FakeClock.libraryName).path
    }()

    /// What `program arguments` printed under the preload with `spec` as its clock, and how long it took.
    private func run(spec: String, _ program: String, _ arguments: [String]) throws -> (output: String, seconds: Double) {
        #expect(FileManager.default.fileExists(atPath: Self.library), "missing \(Self.library): build with `swift build --build-tests`")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("wall-clock-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let clock = try FakeClock.prepare(directory: directory, ids: ["n1"], library: Self.library)
        clock.set("n1", spec)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(clock.environment(for: "n1")) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        let started = ContinuousClock.now
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let elapsed = ContinuousClock.now - started
        #expect(process.terminationStatus == 0, "\(program) \(arguments) exited \(process.terminationStatus)")
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return (String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines), seconds)
    }

    @Test func anHourAheadMovesTheWallClockAnHour() throws {
        let before = Date().timeIntervalSince1970
        let shown = try #require(Double(run(spec: "3600 1", "/bin/date", ["+%s"]).output))
        let after = Date().timeIntervalSince1970
        #expect(shown >= before + 3600 - 1 && shown <= after + 3600 + 1, "date showed \(shown), real time \(before)…\(after)")
    }

    @Test func realTimeSpecChangesNothing() throws {
        let before = Date().timeIntervalSince1970
        let shown = try #require(Double(run(spec: FakeClock.realTime, "/bin/date", ["+%s"]).output))
        #expect(abs(shown - before) <= 2, "date showed \(shown), real time \(before)")
    }

    @Test func fileTimesAreNotSkewed() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("wall-clock-stat-\(UUID().uuidString)").path
        try "x".write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let real = try #require((FileManager.default.attributesOfItem(atPath: file)[.modificationDate] as? Date)?.timeIntervalSince1970)
        let shown = try #require(Double(run(spec: "3600 1", "/usr/bin/stat", ["-c", "%Y", file]).output))
        #expect(abs(shown - real.rounded(.down)) <= 1, "stat showed mtime \(shown) under a +1 h clock, real \(real)")
    }

    /// Python's `time.sleep` waits on an absolute CLOCK_MONOTONIC deadline (clock_nanosleep with
    /// TIMER_ABSTIME), the kind of timer libfaketime moved by the wall clock's skew.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/python3")))
    func aClockFiveMinutesBackDoesNotDelayMonotonicTimers() throws {
        let script = "import time; time.sleep(0.3); print(time.time())"
        let before = Date().timeIntervalSince1970
        let result = try run(spec: "-300 1", "/usr/bin/python3", ["-c", script])
        let shown = try #require(Double(result.output))
        #expect(result.seconds < 5, "a 0.3 s sleep took \(result.seconds) s under a clock 5 min back")
        #expect(abs(shown - (before - 300)) < 6, "python's time.time() showed \(shown), expected about \(before - 300)")
    }
}
