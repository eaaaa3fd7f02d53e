/// Which `quorum_queue_depth{priority}` series a node exports.
///
/// Priorities are any integer (the contract), so one series per priority would let a client
/// create unbounded metric cardinality with 40 (or 40,000) distinct values. The node exports
/// the ``maxPrioritySeries`` priorities with the most queued runs, and one `priority="other"`
/// series summing the rest, so `sum(quorum_queue_depth)` is still the whole queue.
public enum QueueDepthSeries {
    /// Most per-priority series. Default priority 0 is always one of them.
    public static let maxPrioritySeries = 16
    /// The label value of the series that sums every priority not exported on its own.
    public static let otherLabel = "other"

    /// The label value → queued runs to export, for `byPriority` (priority → queued runs).
    ///
    /// Picks the priorities with the most queued runs (ties: the higher priority first, as it
    /// runs first), keeping `alwaysExported` among them even at 0 (so the family never
    /// disappears); the remaining counts go to ``otherLabel`` when there are any.
    /// Deterministic: the same input always gives the same series.
    public static func series(byPriority: [Int: Int], alwaysExported: Int,
                              maxSeries: Int = maxPrioritySeries) -> [String: Int] {
        // The common case (few priorities, so none is ranked out and nothing sums to "other")
        // without sorting: the state machine calls this after every applied batch.
        if byPriority.count < maxSeries || (byPriority.count == maxSeries && byPriority[alwaysExported] != nil) {
            var result: [String: Int] = [:]
            for (priority, count) in byPriority where count > 0 { result[String(priority)] = count }
            let always = String(alwaysExported)
            if result[always] == nil { result[always] = max(0, byPriority[alwaysExported] ?? 0) }
            return result
        }
        return rankedSeries(byPriority: byPriority, alwaysExported: alwaysExported, maxSeries: maxSeries)
    }

    /// ``series(byPriority:alwaysExported:maxSeries:)`` by ranking every priority: the general
    /// case, and the reference the fast path is tested against.
    static func rankedSeries(byPriority: [Int: Int], alwaysExported: Int, maxSeries: Int) -> [String: Int] {
        let ranked = byPriority.filter { $0.value > 0 }.sorted { lhs, rhs in
            lhs.value != rhs.value ? lhs.value > rhs.value : lhs.key > rhs.key
        }
        var chosen = Array(ranked.prefix(maxSeries))
        if !chosen.contains(where: { $0.key == alwaysExported }) {
            if chosen.count == maxSeries { chosen.removeLast() }
            chosen.append((key: alwaysExported, value: byPriority[alwaysExported] ?? 0))
        }
        var result: [String: Int] = [:]
        for entry in chosen { result[String(entry.key)] = max(0, entry.value) }
        let chosenKeys = Set(chosen.map(\.key))
        let other = ranked.reduce(0) { sum, entry in
            chosenKeys.contains(entry.key) ? sum : sum.addingReportingOverflow(entry.value).partialValue
        }
        if other > 0 { result[otherLabel] = other }
        return result
    }
}
