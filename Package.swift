// swift-tools-version:6.1
import PackageDescription

let argumentParser = Target.Dependency.product(name: "ArgumentParser", package: "swift-argument-parser")
let logging = Target.Dependency.product(name: "Logging", package: "swift-log")
let metrics = Target.Dependency.product(name: "Metrics", package: "swift-metrics")
let nioCore = Target.Dependency.product(name: "NIOCore", package: "swift-nio")
let nioPosix = Target.Dependency.product(name: "NIOPosix", package: "swift-nio")
let nioEmbedded = Target.Dependency.product(name: "NIOEmbedded", package: "swift-nio")
let nioTLS = Target.Dependency.product(name: "NIOTLS", package: "swift-nio")
let nioHTTP1 = Target.Dependency.product(name: "NIOHTTP1", package: "swift-nio")
let nioSSL = Target.Dependency.product(name: "NIOSSL", package: "swift-nio-ssl")
let x509 = Target.Dependency.product(name: "X509", package: "swift-certificates")
let crypto = Target.Dependency.product(name: "Crypto", package: "swift-crypto")
let asn1 = Target.Dependency.product(name: "SwiftASN1", package: "swift-asn1")
let subprocess = Target.Dependency.product(name: "Subprocess", package: "swift-subprocess")
let asyncHTTPClient = Target.Dependency.product(name: "AsyncHTTPClient", package: "async-http-client")
let hummingbird = Target.Dependency.product(name: "Hummingbird", package: "hummingbird")
let hummingbirdTesting = Target.Dependency.product(name: "HummingbirdTesting", package: "hummingbird")
let hummingbirdAuth = Target.Dependency.product(name: "HummingbirdAuth", package: "hummingbird-auth")
let hummingbirdCore = Target.Dependency.product(name: "HummingbirdCore", package: "hummingbird")
let hummingbirdTLS = Target.Dependency.product(name: "HummingbirdTLS", package: "hummingbird")
let serviceLifecycle = Target.Dependency.product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
let unixSignals = Target.Dependency.product(name: "UnixSignals", package: "swift-service-lifecycle")
let coreMetrics = Target.Dependency.product(name: "CoreMetrics", package: "swift-metrics")
let prometheus = Target.Dependency.product(name: "Prometheus", package: "swift-prometheus")
let clocks = Target.Dependency.product(name: "Clocks", package: "swift-clocks")
let hashTrees = Target.Dependency.product(name: "HashTreeCollections", package: "swift-collections")

let package = Package(
    name: "quorum",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "quorum", targets: ["quorum"]),
        .library(name: "RaftCore", targets: ["RaftCore"]),
        .library(name: "RaftWire", targets: ["RaftWire"]),
        .library(name: "RaftStorage", targets: ["RaftStorage"]),
        .library(name: "Transport", targets: ["Transport"]),
        .library(name: "Cron", targets: ["Cron"]),
        .library(name: "SchedulerCore", targets: ["SchedulerCore"]),
        .library(name: "Executor", targets: ["Executor"]),
        .library(name: "HTTPAPI", targets: ["HTTPAPI"]),
        .library(name: "ClusterConfig", targets: ["ClusterConfig"]),
        .library(name: "Node", targets: ["Node"]),
        .library(name: "NodeRuntime", targets: ["NodeRuntime"]),
        .library(name: "NodeMetrics", targets: ["NodeMetrics"]),
        .library(name: "SchedulerPlanning", targets: ["SchedulerPlanning"]),
        .library(name: "NodeCore", targets: ["NodeCore"]),
        .library(name: "EgressPolicy", targets: ["EgressPolicy"]),
        .library(name: "EgressHTTP", targets: ["EgressHTTP"]),
        .library(name: "Notify", targets: ["Notify"]),
        .library(name: "Chaos", targets: ["Chaos"]),
        // The `clock` nemesis's LD_PRELOAD (libChaosWallClock.so beside the quorum binary): never a
        // dependency of another target, since linking it in would skew that program's own clock.
        .library(name: "ChaosWallClock", type: .dynamic, targets: ["ChaosWallClock"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // TreeDictionary: the scheduler's id indexes, copied in O(1) for readers' views (issue #12).
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        // Test-only: `TestClock` drives the node runtime's injected clock (NodeRuntimeTests).
        .package(url: "https://github.com/pointfreeco/swift-clocks", from: "1.1.1"),
    ],
    targets: [
        // Consensus as a pure, deterministic state machine: no I/O, clocks or threads.
        .target(name: "RaftCore", dependencies: ["DeterministicRandom"]),
        // A seeded generator (SplitMix64) for every reproducible random choice. Pure.
        .target(name: "DeterministicRandom"),
        // Bounds-checked binary writer/reader shared by every binary format. Pure.
        .target(name: "BinaryCoding"),
        // The wire encoding of Raft messages for the peer transport. Pure.
        .target(name: "RaftWire", dependencies: ["RaftCore", "BinaryCoding", "DeterministicRandom"]),
        // Hardware CRC32C (SSE4.2), chosen at run time; no compiler flags needed.
        .target(name: "CCRC32C"),
        // The crash-safe write-ahead log, hard state and snapshots on disk.
        .target(name: "RaftStorage", dependencies: ["RaftCore", "CCRC32C", logging, metrics]),
        // A server's accepted NIOAsyncChannel in a box that closes it if NIO or a stopping server
        // drops it unserved (instead of trapping): shared by the peer listener and the HTTP API.
        .target(name: "AcceptedChannels", dependencies: [nioCore]),
        // Peer-to-peer transport: mutually authenticated TLS 1.3, framing, cluster certificates.
        .target(name: "Transport", dependencies: ["AcceptedChannels", "RaftCore", "DeterministicRandom", nioCore, nioPosix, nioTLS, nioSSL, x509, crypto, asn1, logging]),
        // Cron expressions and next-fire times in IANA time zones, with cronie's semantics. Pure.
        .target(name: "Cron"),
        // Which addresses http tasks may reach (CIDRs, the built-in deny list, URL host literals). Pure:
        // the config, the API (at submission) and the executor (after resolution) all judge with it.
        .target(name: "EgressPolicy"),
        // Resolves a URL's host, judges every address with an AddressPolicy and pins the connection
        // to the judged one: what http tasks and webhooks share (getaddrinfo, AsyncHTTPClient settings).
        .target(name: "EgressHTTP", dependencies: ["EgressPolicy", asyncHTTPClient, nioCore, nioPosix]),
        // Notification delivery: event payloads, signed webhooks, an SMTP client, retry schedules.
        // Knows no scheduler: the integration maps scheduler events to NotificationEvent.
        .target(name: "Notify", dependencies: ["EgressPolicy", "EgressHTTP", crypto, asyncHTTPClient, nioCore, nioPosix, nioHTTP1, nioSSL, nioTLS, logging]),
        // The replicated scheduler state machine: pure and deterministic, time comes from commands.
        .target(name: "SchedulerCore", dependencies: ["BinaryCoding", hashTrees]),
        // Pure planning: requests and time become commands (cron next fires, the leader's duties, ids).
        // No HTTP types, no I/O: the API and the runtime both build on it.
        .target(name: "SchedulerPlanning", dependencies: ["SchedulerCore", "Cron"]),
        // The node's decisions as a value: applied entries, ticks, probes in; directives out. Pure.
        .target(name: "NodeCore", dependencies: ["SchedulerCore", "SchedulerPlanning", "RaftCore", "BinaryCoding"]),
        // Runs one attempt of a task (noop, sleep, shell argv, http) and reports how it ended.
        // It runs SchedulerCore's `TaskSpec` and returns its `AttemptReport` as they are: one task
        // type in Quorum (the arrow points down, to a pure module; SchedulerCore knows no executor).
        .target(name: "Executor", dependencies: ["SchedulerCore", "EgressPolicy", "EgressHTTP", logging, subprocess, asyncHTTPClient, nioCore, nioPosix, nioHTTP1]),
        // The HTTP API: strict JSON wire types, the SchedulerService protocol and its in-memory twin, routes.
        // The dashboard's files (Dashboard/static) are compiled in (DashboardFiles.swift, scripts/dashboard/embed.py).
        .target(name: "HTTPAPI", dependencies: ["AcceptedChannels", "SchedulerCore", "SchedulerPlanning", "Cron", "EgressPolicy", hummingbird, hummingbirdCore, hummingbirdAuth, crypto, nioCore],
                exclude: ["Dashboard/static"]),
        // A node's Prometheus metrics (api.md names), the scheduler-event adapter, /metrics and HTTP request counting.
        .target(name: "NodeMetrics", dependencies: ["SchedulerCore", hummingbird, prometheus, coreMetrics]),
        // The cluster TOML file: typed, strictly validated, resolved per node.
        .target(name: "ClusterConfig", dependencies: ["TOMLKit", "EgressPolicy", "SchedulerCore"]),
        // The node runtime: the Raft driver (persist before send, apply in order, proposals and reads).
        // glibc's malloc_trim and mallinfo2 (not in Swift's Glibc module): the driver returns the
        // memory a snapshot freed (docs/node.md, "Snapshots").
        .target(name: "CAllocator"),
        .target(name: "Node", dependencies: ["RaftCore", "RaftStorage", "CAllocator", logging]),
        // A running member: driver + WAL + transport + scheduler state machine + leader duties
        // + executor, wired together. Never imports HTTPAPI: the two meet only in `quorum`.
        .target(
            name: "NodeRuntime",
            dependencies: ["Node", "NodeCore", "NodeMetrics", "RaftCore", "RaftWire", "RaftStorage", "Transport", "SchedulerCore",
                           "SchedulerPlanning", "Executor", "ClusterConfig", "BinaryCoding", logging, nioCore, crypto]),
        // The API client the CLI uses: typed requests and replies, failover across nodes.
        .target(name: "QuorumClient", dependencies: ["HTTPAPI", asyncHTTPClient, nioCore, nioPosix, nioHTTP1, nioSSL]),
        // `quorum chaos`: a generated local cluster, fault-injecting link proxies, the workload, the
        // nemesis, the history and its checker (the checker is pure). Talks to nodes over HTTP only.
        // Skews only the wall clock of a process it is preloaded into (docs/chaos.md, "How clocks are skewed").
        .target(name: "ChaosWallClock", linkerSettings: [.linkedLibrary("dl")]),
        .target(name: "Chaos", dependencies: ["DeterministicRandom", asyncHTTPClient, nioCore, nioPosix, nioHTTP1]),
        // The one executable: node, config, cron, certs, wal, and the client commands.
        .executableTarget(
            name: "quorum",
            dependencies: ["ClusterConfig", "Cron", "RaftStorage", "Transport", "NodeRuntime", "NodeCore", "NodeMetrics", "QuorumClient", "Executor",
                           "Notify", "HTTPAPI", "SchedulerPlanning", "SchedulerCore", "Chaos", argumentParser, logging, metrics, hummingbird, serviceLifecycle, unixSignals,
                           hummingbirdTLS, nioSSL, asyncHTTPClient, nioCore, x509, asn1]),

        // Test-only: the seeded cluster simulator (network, disks, clocks, invariant checkers).
        .target(name: "SimulationKit", dependencies: ["RaftCore"]),
        // Test-only: the scheduler simulator — NodeCores over an abstract log with faults, checking the scheduler's promises.
        .target(name: "SchedulerSimulation", dependencies: ["NodeCore", "SchedulerCore", "SchedulerPlanning", "RaftCore", "DeterministicRandom"]),
        // The scheduler simulator's command line (scripts/simulate.sh --scheduler).
        .executableTarget(name: "scheduler-sim", dependencies: ["SchedulerSimulation", "SchedulerCore"]),
        // The simulator's command line: thousands of seeded histories in release (scripts/simulate.sh).
        .executableTarget(name: "quorum-sim", dependencies: ["SimulationKit"]),
        // Test-only: seeded random scheduler command streams (tests, replay tool, benchmark).
        .target(name: "SchedulerTesting", dependencies: ["SchedulerCore", "DeterministicRandom"]),
        // Replays a seeded stream and prints the snapshot digest (the cross-process determinism check).
        .executableTarget(name: "scheduler-replay", dependencies: ["SchedulerCore", "SchedulerTesting"]),
        // The child process of the WAL kill test; a test dependency so `swift build --build-tests` builds it.
        .executableTarget(
            name: "WALCrashChild", dependencies: ["RaftStorage", "RaftCore", logging], path: "Tests/Support/WALCrashChild"),

        .testTarget(name: "RaftCoreTests", dependencies: ["RaftCore", "DeterministicRandom"]),
        .testTarget(name: "SimulationKitTests", dependencies: ["SimulationKit", "RaftCore"]),
        .testTarget(name: "AcceptedChannelsTests", dependencies: ["AcceptedChannels", nioCore, nioPosix]),
        .testTarget(name: "RaftWireTests", dependencies: ["RaftWire", "RaftCore", "BinaryCoding"]),
        .testTarget(
            name: "RaftStorageTests", dependencies: ["RaftStorage", "RaftCore", "WALCrashChild", "DeterministicRandom", logging]),
        .testTarget(
            name: "TransportTests",
            dependencies: ["Transport", "RaftCore", "DeterministicRandom", nioCore, nioEmbedded, nioPosix, nioSSL, x509, crypto, asn1, logging]),
        .testTarget(name: "CronTests", dependencies: ["Cron", "DeterministicRandom"], exclude: ["Fixtures"]),
        .testTarget(
            name: "SchedulerCoreTests", dependencies: ["SchedulerCore", "SchedulerTesting", "scheduler-replay", "BinaryCoding", "DeterministicRandom"]),
        .testTarget(name: "ExecutorTests", dependencies: ["Executor", "SchedulerCore", "EgressPolicy", logging, asyncHTTPClient, nioCore, nioPosix, nioHTTP1]),
        .testTarget(name: "NodeCoreTests", dependencies: ["NodeCore", "SchedulerCore", "RaftCore", "SchedulerSimulation",
                                                           "SchedulerPlanning", "BinaryCoding", "DeterministicRandom"]),
        .testTarget(name: "SchedulerPlanningTests", dependencies: ["SchedulerPlanning", "SchedulerCore", "Cron"]),
        .testTarget(name: "HTTPAPITests", dependencies: ["HTTPAPI", "SchedulerCore", "EgressPolicy", "SchedulerPlanning", "DeterministicRandom", hummingbirdTesting,
                                                          hummingbirdCore, nioCore, nioPosix, logging]),
        .testTarget(
            name: "NodeMetricsTests",
            dependencies: ["NodeMetrics", "SchedulerCore", "HTTPAPI", coreMetrics, hummingbirdTesting]),
        .testTarget(name: "NodeTests", dependencies: ["Node", "RaftCore", "RaftStorage", "DeterministicRandom", logging]),
        .testTarget(name: "ChaosTests", dependencies: ["Chaos"]),
        .testTarget(name: "ClusterConfigTests", dependencies: ["ClusterConfig", "EgressPolicy"]),
        .testTarget(name: "EgressPolicyTests", dependencies: ["EgressPolicy", "DeterministicRandom"]),
        .testTarget(
            name: "NotifyTests",
            dependencies: ["Notify", "SMTPTestServer", "EgressPolicy", "DeterministicRandom", "Transport", crypto, asyncHTTPClient, nioCore, nioPosix, nioHTTP1, nioSSL, logging]),
        .testTarget(
            name: "NodeRuntimeTests",
            dependencies: ["NodeRuntime", "NodeCore", "SchedulerCore", "SchedulerPlanning", "RaftCore", "Executor", "Transport", "DeterministicRandom",
                           "BinaryCoding", "Node", "ClusterConfig", "RaftStorage", "NodeMetrics", logging, nioCore, clocks]),
        // Runs the built `quorum` binary as a user would (exit codes, messages).
        .testTarget(
            name: "QuorumCLITests",
            dependencies: ["quorum", "Notify", "RaftStorage", "RaftCore", "QuorumTestServer", "HTTPAPI", "SchedulerCore", "NodeRuntime", "NodeCore",
                           "SchedulerPlanning", "ClusterConfig", "Transport", asyncHTTPClient, logging]),
        // Test-only: a scripted SMTP server on a free loopback port (Notify's client tests, the
        // email delivery cluster test).
        .target(name: "SMTPTestServer", dependencies: [nioCore, nioPosix, nioSSL], path: "Tests/Support/SMTPTestServer"),
        // Test-only: a real Hummingbird server on a free loopback port over the in-memory service.
        .target(
            name: "QuorumTestServer", dependencies: ["HTTPAPI", "SchedulerCore", hummingbird, nioCore, serviceLifecycle],
            path: "Tests/Support/QuorumTestServer"),
        .testTarget(
            name: "QuorumClientTests",
            dependencies: ["QuorumClient", "QuorumTestServer", "HTTPAPI", "SchedulerCore", asyncHTTPClient]),
        // Real clusters of `quorum node` processes on loopback: failover, DLQ, DAGs, cron, the README flow.
        .testTarget(name: "ClusterTests", dependencies: ["quorum", "Notify", "QuorumTestServer", "SMTPTestServer", hummingbird, asyncHTTPClient, nioCore, nioPosix]),

        // Benchmarks: small release executables run by scripts/bench-*.sh.
        .executableTarget(name: "CronBenchmark", dependencies: ["Cron"], path: "Benchmarks/CronBenchmark"),
        .executableTarget(
            name: "WALBenchmark", dependencies: ["RaftStorage", "RaftCore", logging], path: "Benchmarks/WALBenchmark"),
        .executableTarget(
            name: "TransportBenchmark", dependencies: ["Transport", "RaftCore", nioCore, logging],
            path: "Benchmarks/TransportBenchmark"),
        .executableTarget(name: "SchedulerBenchmark", dependencies: ["SchedulerCore"], path: "Benchmarks/SchedulerBenchmark"),
        .executableTarget(name: "MetricsBenchmark", dependencies: ["NodeMetrics", "SchedulerCore"], path: "Benchmarks/MetricsBenchmark"),
        .executableTarget(name: "ExecutorBenchmark", dependencies: ["Executor", "SchedulerCore", logging], path: "Benchmarks/ExecutorBenchmark"),
        .executableTarget(name: "JSONBenchmark", dependencies: ["HTTPAPI", nioCore], path: "Benchmarks/JSONBenchmark"),
        // Fuzz drivers (scripts/check-fuzz-*.sh).
        .executableTarget(name: "TransportFuzz", dependencies: ["Transport"], path: "Tools/TransportFuzz"),
        .executableTarget(
            name: "RaftWireFuzz", dependencies: ["RaftWire", "RaftCore", "BinaryCoding"], path: "Tools/RaftWireFuzz"),
        // Decode-and-step fuzz of RaftCore with messages from a certified peer (scripts/check-fuzz-step.sh).
        .executableTarget(name: "RaftStepFuzz", dependencies: ["RaftWire", "RaftCore"], path: "Tools/RaftStepFuzz"),
    ],
    swiftLanguageModes: [.v6]
)
