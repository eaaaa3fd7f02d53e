// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "quorum",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "RaftCore", targets: ["RaftCore"]),
        .library(name: "Cron", targets: ["Cron"]),
    ],
    dependencies: [
    ],
    targets: [
        // Consensus as a pure, deterministic state machine: no I/O, clocks or threads.
        .target(name: "RaftCore"),
        // Cron expressions and next-fire times in IANA time zones, with cronie's semantics. Pure.
        .target(name: "Cron"),
        .testTarget(name: "CronTests", dependencies: ["Cron"], exclude: ["Fixtures"]),
        .executableTarget(name: "CronBenchmark", dependencies: ["Cron"], path: "Benchmarks/CronBenchmark"),
    ],
    swiftLanguageModes: [.v6]
)
