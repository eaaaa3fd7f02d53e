/// The namespace of Quorum's deterministic cluster simulator (test-only).
///
/// A simulation runs a cluster of `Raft.Instance` values over a simulated network, simulated disks
/// and skewed clocks, all driven by one seeded generator, so a history is a pure function of its
/// seed and one seed can be replayed alone. After every step the `SafetyChecker` checks the Raft
/// invariants (Raft §5.2–§5.4 Figure 3) and the linearizability of reads.
public enum Simulation {}

extension Simulation {
    /// Simulated time, in abstract units (a node's tick lasts about 100 units).
    public typealias Time = UInt64
}
