// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "quorum",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "RaftCore", targets: ["RaftCore"]),
        .library(name: "RaftWire", targets: ["RaftWire"]),
    ],
    dependencies: [
    ],
    targets: [
        // Consensus as a pure, deterministic state machine: no I/O, clocks or threads.
        .target(name: "RaftCore"),
        // Bounds-checked binary writer/reader shared by every binary format. Pure.
        .target(name: "BinaryCoding"),
        // The wire encoding of Raft messages for the peer transport. Pure.
        .target(name: "RaftWire", dependencies: ["RaftCore", "BinaryCoding"]),
        .testTarget(name: "RaftWireTests", dependencies: ["RaftWire", "RaftCore", "BinaryCoding"]),
        // Feeds mutated frames to the Raft message decoder (scripts/check-fuzz-wire.sh).
        .executableTarget(
            name: "RaftWireFuzz", dependencies: ["RaftWire", "RaftCore", "BinaryCoding"], path: "Tests/Fuzz/RaftWireFuzz"),
        .testTarget(name: "RaftCoreTests", dependencies: ["RaftCore"]),
        // Test-only: the seeded cluster simulator (network, disks, clocks, invariant checkers).
        .target(name: "SimulationKit", dependencies: ["RaftCore"]),
        .testTarget(name: "SimulationKitTests", dependencies: ["SimulationKit", "RaftCore"]),
    ],
    swiftLanguageModes: [.v6]
)
