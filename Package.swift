// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "quorum",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "RaftCore", targets: ["RaftCore"]),
    ],
    dependencies: [
    ],
    targets: [
        // Consensus as a pure, deterministic state machine: no I/O, clocks or threads.
        .target(name: "RaftCore"),
        .testTarget(name: "RaftCoreTests", dependencies: ["RaftCore"]),
        // Test-only: the seeded cluster simulator (network, disks, clocks, invariant checkers).
        .target(name: "SimulationKit", dependencies: ["RaftCore"]),
        .testTarget(name: "SimulationKitTests", dependencies: ["SimulationKit", "RaftCore"]),
        // The simulator's command line: thousands of seeded histories in release (scripts/simulate.sh).
        .executableTarget(name: "quorum-sim", dependencies: ["SimulationKit"]),
    ],
    swiftLanguageModes: [.v6]
)
