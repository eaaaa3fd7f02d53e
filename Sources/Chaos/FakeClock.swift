import Foundation

/// The `clock` nemesis's lever: the project's own preload, `libChaosWallClock.so` (target
/// `ChaosWallClock`, built beside the `quorum` binary), in every node's `LD_PRELOAD`, each node
/// reading its own spec file (`cluster/clock/<id>`) that the tool rewrites at runtime.
///
/// Only the wall clock is faked (`clock_gettime(CLOCK_REALTIME)`, `gettimeofday`, `time`):
/// everything stamped from `Date()` — cron fire times, `created_at`/`started_at`, the leader's
/// command stamps, certificate validity checks — sees the skew, while Raft's timers, leases,
/// sleeps and file modification times keep real time, as they do when a real clock steps.
/// The library re-reads the file at most every 100 ms. Nodes started without the clock nemesis
/// get no preload.
///
/// Why not Debian's libfaketime (used before): it also moves the absolute deadlines a program
/// gives `timerfd_settime` and `clock_nanosleep` on the *monotonic* clocks by the skew, even with
/// `FAKETIME_DONT_FAKE_MONOTONIC=1`. The Swift runtime's timers are such deadlines, so a node five
/// minutes behind stopped running its timers (election, heartbeats, leases) for five minutes —
/// and kept waiting after its clock was set right — and a node an hour ahead fired every timer
/// at once; libfaketime also shifts the mtimes `stat` reports, so each jump looked like a change
/// of the node's TLS files and it reloaded them. Those were the tool's faults, not the node's.
struct FakeClock: Sendable {
    /// The library's file name, looked up next to the running executable.
    static let libraryName = "libChaosWallClock.so"

    /// The environment variable naming a node's spec file (read by the library).
    static let specVariable = "QUORUM_CHAOS_WALL_CLOCK_FILE"

    /// The spec of a clock at real time.
    static let realTime = "0 1"

    /// The folder holding one spec file per node.
    let directory: String
    /// The preload library's absolute path.
    let library: String

    /// Where the preload library is expected: beside the running `quorum` executable.
    static func defaultLibrary() -> String {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return executable.deletingLastPathComponent().appendingPathComponent(libraryName).path
    }

    /// Creates the folder and a real-time spec for each of `ids`; throws when the library is missing.
    static func prepare(directory: String, ids: [String], library: String = defaultLibrary()) throws(ChaosError) -> FakeClock {
        guard FileManager.default.fileExists(atPath: library) else {
            throw .setup("--nemesis clock needs \(library) (the wall-clock preload, target ChaosWallClock): "
                + "build it with `swift build --product ChaosWallClock` (the same configuration as this quorum binary)")
        }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw .setup("could not create \(directory) for the clock nemesis: \(error)")
        }
        let clock = FakeClock(directory: directory, library: library)
        for id in ids { clock.set(id, realTime) }
        return clock
    }

    /// The environment a node started under the clock nemesis gets.
    func environment(for id: String) -> [String: String] {
        ["LD_PRELOAD": library, Self.specVariable: "\(directory)/\(id)"]
    }

    /// Writes `spec` (`"<offset seconds> <rate>"`: `3600 1`, `-300 1`, `0 1.5`) as node `id`'s clock.
    func set(_ id: String, _ spec: String) {
        try? (spec + "\n").write(toFile: "\(directory)/\(id)", atomically: true, encoding: .utf8)
    }

    /// The skew a clock fault applies, chosen from the fault's seeded start time: a jump an hour
    /// ahead, a jump five minutes back, or a wall clock running 1.5 times too fast.
    static func skew(forFaultAt start: Double) -> (spec: String, description: String) {
        switch Int(start * 10) % 3 {
        case 0: return ("3600 1", "jump +1h")
        case 1: return ("-300 1", "jump -5min")
        default: return ("0 1.5", "drift x1.5")
        }
    }
}
