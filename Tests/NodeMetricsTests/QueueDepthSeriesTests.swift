@testable import NodeMetrics
import Testing

/// Issue #12: priorities are any integer, so `quorum_queue_depth` exports at most 16 priority
/// series plus `other`, and the series still sum to the whole queue.
@Suite("quorum_queue_depth cardinality")
struct QueueDepthSeriesTests {
    @Test("40 distinct priorities: the 16 with the most queued runs, then other; the sum is the queue")
    func fortyPriorities() {
        // Priority p (1...40) has p queued runs, so 25...40 are the 16 most common.
        var byPriority: [Int: Int] = [:]
        for p in 1...40 { byPriority[p * 7 - 100] = p }
        let metrics = QuorumMetrics()
        metrics.setQueueDepth(byPriority: byPriority)
        let scrape = Exposition(metrics.exposition())
        let series = scrape.samples.filter { $0.key.hasPrefix("quorum_queue_depth{") }
        #expect(series.count == 17, "\(series.keys.sorted())")
        // Priority 0 (always exported, here idle) takes the 16th slot: 26...40 have their own
        // series, 1...25 are summed in other.
        #expect(scrape.value("quorum_queue_depth", #"priority="0""#) == 0)
        for p in 26...40 { #expect(scrape.value("quorum_queue_depth", "priority=\"\(p * 7 - 100)\"") == Double(p)) }
        #expect(scrape.value("quorum_queue_depth", #"priority="other""#) == Double((1...25).reduce(0, +)))
        #expect(series.values.reduce(0, +) == Double((1...40).reduce(0, +)))
        // The next scrape with fewer priorities drops other and the unused series.
        metrics.setQueueDepth(byPriority: [5: 2])
        let after = Exposition(metrics.exposition()).samples.filter { $0.key.hasPrefix("quorum_queue_depth{") }
        #expect(after == [#"quorum_queue_depth{priority="5"}"#: 2, #"quorum_queue_depth{priority="0"}"#: 0])
    }

    @Test("the rule: most queued first, ties to the higher priority, priority 0 kept at 0 when idle")
    func rule() {
        let few = QueueDepthSeries.series(byPriority: [3: 1, 5: 1], alwaysExported: 0, maxSeries: 2)
        #expect(few == ["5": 1, "0": 0, "other": 1])
        let zeroBusy = QueueDepthSeries.series(byPriority: [0: 1, 9: 5, 8: 4, 7: 3], alwaysExported: 0, maxSeries: 3)
        #expect(zeroBusy == ["9": 5, "8": 4, "0": 1, "other": 3])
        #expect(QueueDepthSeries.series(byPriority: [:], alwaysExported: 0) == ["0": 0])
    }

    @Test("the fast path for few priorities gives what ranking every priority gives", arguments: [UInt64(0x51), 0xC0FFEE])
    func fastPathMatchesRanking(seed: UInt64) {
        var state = seed
        func next() -> UInt64 {  // SplitMix64, inline (this target does not depend on DeterministicRandom)
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        for round in 0..<2_000 {
            let maxSeries = Int(next() % 5) + 1
            var byPriority: [Int: Int] = [:]
            for _ in 0..<Int(next() % UInt64(maxSeries + 2)) {
                byPriority[Int(next() % 7) - 3] = Int(next() % 4)
            }
            let fast = QueueDepthSeries.series(byPriority: byPriority, alwaysExported: 0, maxSeries: maxSeries)
            let ranked = QueueDepthSeries.rankedSeries(byPriority: byPriority, alwaysExported: 0, maxSeries: maxSeries)
            #expect(fast == ranked, "seed \(seed) round \(round): \(byPriority) with at most \(maxSeries) series")
            if fast != ranked { return }
        }
    }
}
