import SchedulerCore
import Synchronization

/// Makes fresh ids for jobs, runs and DAG runs. The leader's generator must never repeat an id
/// across leader changes (e.g. term and log index in the id); the in-memory one counts.
public protocol IDGenerator: Sendable {
    /// A new id starting with `prefix` (`j`, `r`, `d`).
    mutating func next(prefix: String) -> String
}

/// `j1`, `r2`, `d3`, …: one counter for every kind, so no two ids are equal.
public struct SequentialIDGenerator: IDGenerator {
    private var counter: UInt64
    /// Starts after `start`.
    public init(start: UInt64 = 0) { counter = start }
    /// The next id.
    public mutating func next(prefix: String) -> String {
        counter += 1
        return prefix + String(counter)
    }
}

/// Fresh ids for this node that no other node and no earlier run of this node repeats:
/// `<prefix><node>-<start time, base 36>-<counter, base 36>`.
public final class NodeIDGenerator: IDGenerator, Sendable {
    private let stem: String
    private let counter = Atomic<UInt64>(0)

    /// Ids for `node`, distinct from every id made by an earlier process (`startMillis` is the
    /// process start time; two starts of a node in one millisecond are not possible in practice).
    public init(node: String, startMillis: Int64) {
        stem = "\(node)-\(String(startMillis, radix: 36))-"
    }

    /// The next id with `prefix`.
    public func next(prefix: String) -> String {
        let value = counter.add(1, ordering: .relaxed).newValue
        return prefix + stem + String(value, radix: 36)
    }
}

/// Run ids for cron fires planned by the leader.
public struct RunIDSource: Sendable {
    let generator: NodeIDGenerator
    /// Run ids from `generator`.
    public init(generator: NodeIDGenerator) { self.generator = generator }
    /// A fresh run id.
    public func next() -> RunID { RunID(generator.next(prefix: "r")) }
}
