import RaftCore

/// Staggers local snapshots across replicas (issue #10): each node snapshots every
/// `interval × (1 + f)` applied entries (or bytes), with `f` in `[0, maxFraction)` fixed by the
/// node's position among the cluster's members.
///
/// Why: with one interval for all, every replica reached the snapshot index at about the same
/// moment, so all of them serialised and fsynced their state together (every replica's apply
/// and disk busy at once, the leader's included). With different periods the replicas' snapshot
/// indexes drift apart and rarely meet; after a follower installs the leader's snapshot it does
/// not fall back into step with it, as a shared phase offset would.
///
/// Deterministic (a restarted node keeps its interval) and bounded: no node waits more than
/// `maxFraction` longer than configured, and the first member in id order keeps the interval.
public enum SnapshotStagger {
    /// The largest fraction of the interval a node adds (a half).
    public static let maxFraction = 0.5

    /// The fraction `node` adds: its position among `members` (sorted by id) over their number,
    /// times ``maxFraction``; a node not among them gets a fraction from a hash of its id.
    public static func fraction(for node: Raft.NodeID, among members: Set<Raft.NodeID>) -> Double {
        let sorted = members.map(\.rawValue).sorted()
        if let position = sorted.firstIndex(of: node.rawValue) {
            return maxFraction * Double(position) / Double(sorted.count)
        }
        // FNV-1a: stable across processes and builds (Swift's `Hasher` is seeded per process).
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in node.rawValue.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x100_0000_01b3
        }
        return maxFraction * Double(hash % 1_000) / 1_000
    }

    /// `interval` stretched by `node`'s fraction (at least `interval`, never overflowing).
    public static func interval(_ interval: Int, for node: Raft.NodeID, among members: Set<Raft.NodeID>) -> Int {
        guard interval > 0 else { return interval }
        let stretched = Double(interval) * (1 + fraction(for: node, among: members))
        return stretched >= Double(Int.max) ? Int.max : max(interval, Int(stretched))
    }
}
