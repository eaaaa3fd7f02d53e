import Foundation

/// The wall clock of a test cluster's nodes, moved by the test: the chaos tool's preload
/// (`libChaosWallClock.so`, target `ChaosWallClock`, built beside `quorum` by
/// `swift build --build-tests`) reads `"<offset seconds> <rate>"` from one file every node shares,
/// at most every 100 ms. Only the wall clock moves (cron fire times, the leader's stamps); Raft's
/// timers, leases and sleeps keep real time. Lets a test reach a cron boundary in a second
/// instead of waiting for it.
struct WallClockFile: Sendable {
    /// The spec file.
    let path: String

    /// The preload, beside the `quorum` binary the cluster runs.
    static var library: String {
        URL(fileURLWithPath: QuorumBinary.path).deletingLastPathComponent().appendingPathComponent("libChaosWallClock.so").path
    }

    /// A fresh spec file at real time in the temporary directory; throws when the preload was not built.
    static func create() throws -> WallClockFile {
        guard FileManager.default.fileExists(atPath: library) else {
            throw ClusterError("missing \(library) (the wall-clock preload): build with `swift build --build-tests`")
        }
        let file = WallClockFile(path: FileManager.default.temporaryDirectory
            .appendingPathComponent("quorum-wall-clock-\(UUID().uuidString)").path)
        try file.set(offsetSeconds: 0)
        return file
    }

    /// The environment a node started with `spec` as its clock gets.
    static func environment(spec: String) -> [String: String] {
        ["LD_PRELOAD": library, "QUORUM_CHAOS_WALL_CLOCK_FILE": spec]
    }

    /// Moves every node's wall clock to real time plus `offsetSeconds` (the nodes see it within 100 ms).
    func set(offsetSeconds: Double) throws {
        try "\(offsetSeconds) 1\n".write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// Removes the file.
    func remove() { try? FileManager.default.removeItem(atPath: path) }
}
