// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "quorum",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "RaftCore", targets: ["RaftCore"]),
        .library(name: "SchedulerCore", targets: ["SchedulerCore"]),
    ],
    dependencies: [
    ],
    targets: [
        // Consensus as a pure, deterministic state machine: no I/O, clocks or threads.
        .target(name: "RaftCore"),
        // The replicated scheduler state machine: pure and deterministic, time comes from commands.
        .target(name: "SchedulerCore"),
        // Test support: seeded random command streams (tests, replay tool, benchmark).
        .target(name: "SchedulerTesting", dependencies: ["SchedulerCore"]),
        // Replays a seeded stream and prints the snapshot digest (the cross-process determinism check).
        .executableTarget(name: "scheduler-replay", dependencies: ["SchedulerCore", "SchedulerTesting"]),
        .executableTarget(name: "SchedulerBenchmark", dependencies: ["SchedulerCore"], path: "Benchmarks/SchedulerBenchmark"),
        .testTarget(name: "SchedulerCoreTests", dependencies: ["SchedulerCore", "SchedulerTesting", "scheduler-replay"]),
    ],
    swiftLanguageModes: [.v6]
)
