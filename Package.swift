// swift-tools-version:6.1
import PackageDescription

let argumentParser = Target.Dependency.product(name: "ArgumentParser", package: "swift-argument-parser")
let logging = Target.Dependency.product(name: "Logging", package: "swift-log")

let package = Package(
    name: "quorum",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "quorum", targets: ["quorum"]),
        .library(name: "RaftCore", targets: ["RaftCore"]),
        .library(name: "RaftWire", targets: ["RaftWire"]),
        .library(name: "RaftStorage", targets: ["RaftStorage"]),
        .library(name: "Cron", targets: ["Cron"]),
        .library(name: "SchedulerCore", targets: ["SchedulerCore"]),
        .library(name: "ClusterConfig", targets: ["ClusterConfig"]),
        .library(name: "HTTPAPI", targets: ["HTTPAPI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        // Consensus as a pure, deterministic state machine: no I/O, clocks or threads.
        .target(name: "RaftCore"),
        // Bounds-checked binary writer/reader shared by every binary format. Pure.
        .target(name: "BinaryCoding"),
        // The wire encoding of Raft messages for the peer transport. Pure.
        .target(name: "RaftWire", dependencies: ["RaftCore", "BinaryCoding"]),
        // Test-only: the seeded cluster simulator (network, disks, clocks, invariant checkers).
        .target(name: "SimulationKit", dependencies: ["RaftCore"]),
        // The simulator's command line: thousands of seeded histories in release (scripts/simulate.sh).
        .executableTarget(name: "quorum-sim", dependencies: ["SimulationKit"]),
        // Hardware CRC32C (SSE4.2), chosen at run time; no compiler flags needed.
        .target(name: "CCRC32C"),
        // The crash-safe write-ahead log, hard state and snapshots on disk.
        .target(name: "RaftStorage", dependencies: ["RaftCore", "CCRC32C", logging]),
        // Cron expressions and next-fire times in IANA time zones, with cronie's semantics. Pure.
        .target(name: "Cron"),
        // The replicated scheduler state machine: pure and deterministic, time comes from commands.
        .target(name: "SchedulerCore"),
        // The cluster TOML file: typed, strictly validated, resolved per node.
        .target(name: "ClusterConfig", dependencies: ["TOMLKit"]),
        // The HTTP API: strict JSON wire types, the SchedulerService protocol and its in-memory twin, routes.
        .target(
            name: "HTTPAPI",
            dependencies: [
                "SchedulerCore", "Cron", .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]),
        // The one executable: node, config, cron, certs, wal, and the client commands.
        .executableTarget(name: "quorum", dependencies: ["ClusterConfig", "Cron", "RaftStorage", argumentParser, logging]),

        .testTarget(name: "RaftCoreTests", dependencies: ["RaftCore"]),
        .testTarget(name: "SimulationKitTests", dependencies: ["SimulationKit", "RaftCore"]),
        .testTarget(name: "RaftWireTests", dependencies: ["RaftWire", "RaftCore", "BinaryCoding"]),
        .testTarget(name: "RaftStorageTests", dependencies: ["RaftStorage", "RaftCore", logging]),
        .testTarget(name: "CronTests", dependencies: ["Cron"], exclude: ["Fixtures"]),
        .testTarget(name: "SchedulerCoreTests", dependencies: ["SchedulerCore"]),
        .testTarget(name: "ClusterConfigTests", dependencies: ["ClusterConfig"]),
        .testTarget(
            name: "HTTPAPITests",
            dependencies: [
                "HTTPAPI", "SchedulerCore", .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]),
        // Runs the built `quorum` binary as a user would (exit codes, messages).
        .testTarget(name: "QuorumCLITests", dependencies: ["quorum", "RaftStorage", "RaftCore"]),

        // Benchmarks: small release executables run by scripts/bench-*.sh.
        .executableTarget(name: "CronBenchmark", dependencies: ["Cron"], path: "Benchmarks/CronBenchmark"),
        // Feeds mutated frames to the Raft message decoder (scripts/check-fuzz-wire.sh).
        .executableTarget(
            name: "RaftWireFuzz", dependencies: ["RaftWire", "RaftCore", "BinaryCoding"], path: "Tests/Fuzz/RaftWireFuzz"),
    ],
    swiftLanguageModes: [.v6]
)
