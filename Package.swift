// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "quorum",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "RaftCore", targets: ["RaftCore"]),
        .library(name: "RaftStorage", targets: ["RaftStorage"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
    ],
    targets: [
        // Consensus as a pure, deterministic state machine: no I/O, clocks or threads.
        .target(name: "RaftCore"),
        // Hardware CRC32C (SSE4.2), chosen at run time; no compiler flags needed.
        .target(name: "CCRC32C"),
        // The crash-safe write-ahead log, hard state and snapshots on disk.
        .target(
            name: "RaftStorage",
            dependencies: [
                "RaftCore",
                "CCRC32C",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        // The child process of the WAL kill test; a test dependency so `swift build --build-tests` builds it.
        .executableTarget(
            name: "WALCrashChild",
            dependencies: ["RaftStorage", "RaftCore", .product(name: "Logging", package: "swift-log")],
            path: "Tests/Support/WALCrashChild"
        ),
        // Group-commit throughput and recovery time (scripts/bench-wal.sh runs it in release).
        .executableTarget(
            name: "WALBenchmark",
            dependencies: ["RaftStorage", "RaftCore", .product(name: "Logging", package: "swift-log")],
            path: "Benchmarks/WALBenchmark"
        ),
        .testTarget(
            name: "RaftStorageTests",
            dependencies: ["RaftStorage", "RaftCore", "WALCrashChild", .product(name: "Logging", package: "swift-log")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
