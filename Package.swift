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
        .library(name: "ClusterConfig", targets: ["ClusterConfig"]),
        .library(name: "Executor", targets: ["Executor"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        // Consensus as a pure, deterministic state machine: no I/O, clocks or threads.
        .target(name: "RaftCore"),
        // The cluster TOML file: typed, strictly validated, resolved per node.
        .target(name: "ClusterConfig", dependencies: ["TOMLKit"]),
        // Runs one attempt of a task (noop, sleep, shell argv, http) and reports how it ended.
        .target(
            name: "Executor",
            dependencies: [
                logging,
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // noop overhead, shell spawn latency, 1 GiB of output through the tail (scripts/bench-executor.sh).
        .executableTarget(name: "ExecutorBenchmark", dependencies: ["Executor", logging], path: "Benchmarks/ExecutorBenchmark"),
        // The one executable: node, config, cron, certs, wal, and the client commands.
        .executableTarget(name: "quorum", dependencies: ["ClusterConfig", argumentParser, logging]),

        .testTarget(name: "ClusterConfigTests", dependencies: ["ClusterConfig"]),
        // Runs the built `quorum` binary as a user would (exit codes, messages).
        .testTarget(name: "QuorumCLITests", dependencies: ["quorum"]),
        .testTarget(
            name: "ExecutorTests",
            dependencies: [
                "Executor",
                logging,
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
