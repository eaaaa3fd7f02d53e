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
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
    ],
    targets: [
        // Consensus as a pure, deterministic state machine: no I/O, clocks or threads.
        .target(name: "RaftCore"),
        // The cluster TOML file: typed, strictly validated, resolved per node.
        .target(name: "ClusterConfig", dependencies: ["TOMLKit"]),
        // The one executable: node, config, cron, certs, wal, and the client commands.
        .executableTarget(name: "quorum", dependencies: ["ClusterConfig", argumentParser, logging]),

        .testTarget(name: "ClusterConfigTests", dependencies: ["ClusterConfig"]),
        // Runs the built `quorum` binary as a user would (exit codes, messages).
        .testTarget(name: "QuorumCLITests", dependencies: ["quorum"]),
    ],
    swiftLanguageModes: [.v6]
)
