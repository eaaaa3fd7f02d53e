/// Per node, the longest window in which it refused or could not acknowledge writes: the
/// node-side companion of the client-observed write gaps (docs/chaos.md, "Output").
///
/// A window opens at the invocation of a write sent to that node that did not come back `ok`
/// (`fail`: refused, 503 `unavailable`; `info`: a timeout, a dropped connection,
/// `outcome_unknown`) after the node's previous write, in invocation order, was acknowledged; it
/// closes at the completion of the next write *invoked after it* that the node acknowledged, or at
/// `end` (then it is `open`). Writes are job, DAG and cron submits and cancels; triggers are left
/// out (a 409 while the `forbid` job runs is a refusal by design). Includes the clients' 4 s
/// timeouts: a stopped node's window lasts until a client's request to it is answered again.
public enum WriteRefusals {
    /// One window of one node.
    public struct Window: Hashable, Sendable {
        /// When it opened (history seconds).
        public var start: Double
        /// When it closed (history seconds).
        public var end: Double
        /// Writes in it that were refused (`fail`).
        public var refused: Int
        /// Writes in it whose outcome stayed unknown (`info`, or no completion).
        public var unknown: Int
        /// Whether it was still open when the history ended.
        public var open: Bool

        /// A window from `start` to `end` holding `refused` and `unknown` writes.
        public init(start: Double, end: Double, refused: Int, unknown: Int, open: Bool) {
            self.start = start
            self.end = end
            self.refused = refused
            self.unknown = unknown
            self.open = open
        }

        /// How long it lasted.
        public var seconds: Double { end - start }
    }

    /// The kinds that count as writes.
    static let writes: Set<OperationKind> = [.submitJob, .submitDAG, .submitCron, .cancel]

    /// Each node's longest window (nodes that never refused a write are absent); `end` closes a
    /// window still open when the history ends.
    public static func longest(_ operations: [Operation], end: Double) -> [String: Window] {
        var byNode: [String: [Operation]] = [:]
        for operation in operations where writes.contains(operation.kind) { byNode[operation.node, default: []].append(operation) }
        var longest: [String: Window] = [:]
        for (node, writes) in byNode {
            var current: Window?
            func close(_ window: Window) {
                if window.seconds > (longest[node]?.seconds ?? -1) { longest[node] = window }
            }
            for write in writes.sorted(by: { ($0.invokedAt, $0.op) < ($1.invokedAt, $1.op) }) {
                if write.completion == .ok {
                    guard var window = current else { continue }
                    window.end = max(window.start, write.completedAt ?? window.start)
                    close(window)
                    current = nil
                } else {
                    var window = current ?? Window(start: write.invokedAt, end: write.invokedAt, refused: 0, unknown: 0, open: false)
                    if write.completion == .fail { window.refused += 1 } else { window.unknown += 1 }
                    current = window
                }
            }
            if var window = current {
                window.end = max(window.start, end)
                window.open = true
                close(window)
            }
        }
        return longest
    }

    /// One report line per node, in node order: `n2: 4.31 s from 37.20 s (3 refused, 1 unknown)`.
    public static func report(_ windows: [String: Window], nodes: [String]) -> [String] {
        nodes.map { node in
            guard let window = windows[node] else { return "\(node): none" }
            return "\(node): \(ChaosChecker.format(window.seconds)) s from \(ChaosChecker.format(window.start)) s "
                + "(\(window.refused) refused, \(window.unknown) unknown\(window.open ? ", still open at the end" : ""))"
        }
    }
}
