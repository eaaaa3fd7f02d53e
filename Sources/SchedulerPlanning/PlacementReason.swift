import SchedulerCore

/// Why a queued run waits, from its ``Placement`` and the members as a node sees them: the
/// `reason` field of `GET /api/jobs/{id}` and the job lists (docs/scheduling.md, "Placement").
///
/// Computed when a job is read, never at apply: the member directory and liveness are not
/// scheduler state, and apply reads no clock or configuration. Pure and deterministic: the
/// same members give the same text.
public enum PlacementReason {
    /// One member as the reason sees it.
    public struct Node: Hashable, Sendable {
        /// The node id.
        public var id: String
        /// Its labels from the replicated member directory.
        public var labels: [String: String]
        /// Whether an operator drains it.
        public var isDraining: Bool
        /// Whether it was heard from within the executor lease.
        public var isReachable: Bool
        /// Its executor slots.
        public var slots: Int
        /// Attempts running there.
        public var busy: Int
        /// A node.
        public init(id: String, labels: [String: String], isDraining: Bool, isReachable: Bool, slots: Int, busy: Int) {
            self.id = id
            self.labels = labels
            self.isDraining = isDraining
            self.isReachable = isReachable
            self.slots = slots
            self.busy = busy
        }
    }

    /// Why a run with `placement` cannot be placed on `nodes` now, or `nil` when some node may
    /// take it (it waits at most a duty round). `runningHere(node)` counts the attempts of the
    /// run's ``Placement/maxPerNode`` group on a node.
    public static func reason(for placement: Placement, nodes: [Node], runningHere: (String) -> Int = { _ in 0 }) -> String? {
        let what = placement.constraints.isEmpty ? "nodes" : "nodes with \(placement.constraintText)"
        let matching = nodes.filter { placement.matches($0.labels) && $0.slots > 0 }
        guard !matching.isEmpty else {
            return placement.constraints.isEmpty ? "no node has executor slots" : "no node with \(placement.constraintText)"
        }
        let open = matching.filter { !$0.isDraining }
        guard !open.isEmpty else { return "all \(what) are draining" }
        let live = open.filter(\.isReachable)
        guard !live.isEmpty else { return "no live node among the \(what) (\(open.map(\.id).sorted().joined(separator: ", ")) not reachable)" }
        let free = live.filter { $0.busy < $0.slots }
        guard !free.isEmpty else { return "all live \(what) are full" }
        if let limit = placement.maxPerNode, free.allSatisfy({ runningHere($0.id) >= limit }) {
            return "every live \(what.hasPrefix("nodes with") ? "node with \(placement.constraintText)" : "node") with a free slot "
                + "already runs max_per_node=\(limit) of its attempts"
        }
        return nil
    }
}
