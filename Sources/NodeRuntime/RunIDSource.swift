import HTTPAPI
import SchedulerCore
import Synchronization

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
struct RunIDSource: Sendable {
    let generator: NodeIDGenerator
    func next() -> RunID { RunID(generator.next(prefix: "r")) }
}
