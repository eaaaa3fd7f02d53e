import Foundation

/// The `clock` nemesis's lever: libfaketime (Debian's `libfaketime`) preloaded into every node,
/// each reading its own spec file (`cluster/clock/<id>`) that the tool rewrites at runtime.
///
/// Only the wall clock is faked (`FAKETIME_DONT_FAKE_MONOTONIC=1`): Raft's timers and the
/// node's leases measured on the monotonic clock keep real time, while everything stamped from
/// `Date()` — cron fire times, `created_at`/`started_at`, the leader's command stamps — sees the
/// skewed clock. The library re-reads the file at most once a second (`FAKETIME_CACHE_DURATION=1`),
/// so a jump takes effect within a second. Nodes started without the clock nemesis get no preload.
struct FakeClock: Sendable {
    /// Where Debian's `libfaketime` package puts the library: the variant for multi-threaded programs (the node is one).
    static let library = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1"

    /// The folder holding one spec file per node.
    let directory: String

    /// Creates the folder and a `+0` (real time) spec for each of `ids`; throws when the library is missing.
    static func prepare(directory: String, ids: [String]) throws(ChaosError) -> FakeClock {
        guard FileManager.default.fileExists(atPath: library) else {
            throw .setup("--nemesis clock needs libfaketime (\(library)): install Debian's faketime package (apt-get install faketime)")
        }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw .setup("could not create \(directory) for the clock nemesis: \(error)")
        }
        let clock = FakeClock(directory: directory)
        for id in ids { clock.set(id, "+0") }
        return clock
    }

    /// The environment a node started under the clock nemesis gets.
    func environment(for id: String) -> [String: String] {
        ["LD_PRELOAD": Self.library, "FAKETIME_TIMESTAMP_FILE": "\(directory)/\(id)", "FAKETIME_CACHE_DURATION": "1",
         "FAKETIME_DONT_FAKE_MONOTONIC": "1"]
    }

    /// Writes `spec` (libfaketime syntax: `+3600`, `-300`, `+0 x1.5`) as node `id`'s clock.
    func set(_ id: String, _ spec: String) {
        try? (spec + "\n").write(toFile: "\(directory)/\(id)", atomically: true, encoding: .utf8)
    }

    /// The skew a clock fault applies, chosen from the fault's seeded start time: a jump an hour
    /// ahead, a jump five minutes back, or a wall clock running 1.5 times too fast.
    static func skew(forFaultAt start: Double) -> (spec: String, description: String) {
        switch Int(start * 10) % 3 {
        case 0: return ("+3600", "jump +1h")
        case 1: return ("-300", "jump -5min")
        default: return ("+0 x1.5", "drift x1.5")
        }
    }
}
