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
        .testTarget(name: "SchedulerCoreTests", dependencies: ["SchedulerCore"]),
    ],
    swiftLanguageModes: [.v6]
)
