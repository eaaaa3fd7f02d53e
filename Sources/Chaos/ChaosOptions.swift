/// How `quorum chaos` runs: the cluster, the nemeses, the workload and where the report goes.
public struct ChaosOptions: Sendable {
    /// Nodes in the generated cluster (3 or 5).
    public var nodes = 3
    /// Seconds of workload and faults (the heal, quiescence wait and checks come after).
    public var duration = 60.0
    /// Makes the nemesis schedule and the workload's choices reproducible (not their timing).
    public var seed: UInt64 = 1
    /// The nemeses to draw faults from.
    public var nemeses: [NemesisKind] = [.kill, .stop, .partition]
    /// Where the history, logs, cluster and report go (created if missing).
    public var outDirectory: String
    /// The `quorum` executable the nodes run (this one: `/proc/self/exe`).
    public var binary: String
    /// Allow faults that take a majority (quorum loss until healed).
    public var unsafe = false
    /// Concurrent workload clients.
    public var clients = 4
    /// Seconds to wait after healing for every acknowledged job and DAG run to finish.
    public var settle = 60.0
    /// Delay and loss on every peer link for the whole run (`--link-delay-ms`, `--link-loss`).
    public var linkQuality = LinkQuality()
    /// `--config`: drive this running cluster instead of generating one (`nodes` is then its size).
    public var existing: ExistingCluster?
    /// `[executor] prefetch` of the generated cluster (its 4 slots hold up to this many more).
    public var prefetch = 0

    /// Options writing to `outDirectory`, running nodes from `binary`.
    public init(outDirectory: String, binary: String) {
        self.outDirectory = outDirectory
        self.binary = binary
    }

    /// Throws naming the first option out of range.
    public func validate() throws(ChaosError) {
        if let existing {
            try existing.validate(nemeses: nemeses)
            guard linkQuality == LinkQuality() else {
                throw .invalid("--link-delay-ms and --link-loss need the tool's link proxies: not with --config")
            }
        }
        guard existing != nil || nodes == 3 || nodes == 5 else { throw .invalid("--nodes must be 3 or 5, got \(nodes)") }
        guard duration >= 10, duration <= 86_400 else { throw .invalid("--duration must be 10…86400 seconds, got \(duration)") }
        guard (0...4).contains(prefetch) else { throw .invalid("--prefetch must be 0…4 (the generated nodes' slots), got \(prefetch)") }
        if existing != nil, prefetch != 0 { throw .invalid("--prefetch sets the generated cluster's config: not with --config") }
        guard (1...64).contains(clients) else { throw .invalid("--clients must be 1…64, got \(clients)") }
        guard settle >= 5, settle <= 3_600 else { throw .invalid("--settle must be 5…3600 seconds, got \(settle)") }
        guard (0...5_000).contains(linkQuality.delayMilliseconds) else {
            throw .invalid("--link-delay-ms must be 0…5000 milliseconds, got \(linkQuality.delayMilliseconds)")
        }
        guard linkQuality.loss >= 0, linkQuality.loss <= 0.5 else {
            throw .invalid("--link-loss must be a probability 0…0.5 per relayed chunk, got \(linkQuality.loss)")
        }
    }
}
