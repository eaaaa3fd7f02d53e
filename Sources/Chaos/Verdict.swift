/// The seven counts of a chaos run, the facts behind them, and the verdict line.
public struct ChaosVerdict: Hashable, Sendable {
    /// Acknowledged jobs the cluster no longer has (or never listed).
    public var lost = 0
    /// Jobs completed more than once, idempotency keys that created two jobs, and real
    /// executions beyond at-least-once.
    public var duplicates = 0
    /// DAG tasks that started or ran before a dependency finished.
    public var orderViolations = 0
    /// Nodes whose digest differed from another's at the same applied index.
    public var disagreements = 0
    /// Status reads that went back in a job's order, or missed an acknowledged write.
    public var nonLinearizable = 0
    /// Acknowledged jobs or DAG runs not terminal after the quiescence wait.
    public var stuck = 0
    /// Checks that could not be decided (an unreadable final state, no common applied index).
    public var unknown = 0
    /// One line per problem, naming the operations and ids that show it.
    public var findings: [String] = []

    /// Empty counts.
    public init() {}

    /// Whether every count is zero (exit 0).
    public var passed: Bool {
        lost == 0 && duplicates == 0 && orderViolations == 0 && disagreements == 0 && nonLinearizable == 0 && stuck == 0
            && unknown == 0
    }

    /// The last line of the report, exactly as `../shared/api.md` fixes it.
    public func line(jobs: Int, dags: Int, faults: Int, seed: UInt64) -> String {
        "chaos: \(jobs) acked jobs, \(dags) DAGs, \(faults) faults; lost \(lost), duplicates \(duplicates), "
            + "order violations \(orderViolations), disagreements \(disagreements), non-linearizable \(nonLinearizable), "
            + "stuck \(stuck), unknown \(unknown) (seed \(seed))"
    }
}
