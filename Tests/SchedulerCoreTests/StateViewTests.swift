import DeterministicRandom
import Foundation
@testable import SchedulerCore
import SchedulerTesting
import Testing

/// Readers hold a copy of the state (an isolated view, issue #12) while apply goes on: the tables
/// are chunked arrays and hash tries, so the copy shares them and the applies after it duplicate
/// only what they touch. A view must never see those applies, and the tables must behave as the
/// arrays they replaced (same order, so the same snapshot bytes).
@Suite("Isolated views: persistent tables")
struct StateViewTests {
    static let seeds: [UInt64] = [3, 99, ProcessInfo.processInfo.environment["QUORUM_VIEW_SEED"].flatMap { UInt64($0) }
        ?? UInt64(Date().timeIntervalSince1970)]

    @Test("a chunked array behaves as an Array under random appends, writes, removals, inserts and copies", arguments: seeds)
    func chunkedArrayMatchesArray(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        var chunked = ChunkedArray<Int>()
        var model: [Int] = []
        var frozen: [(ChunkedArray<Int>, [Int])] = []
        for step in 0..<40_000 {
            switch random.below(100) {
            case 0..<55:
                chunked.append(step)
                model.append(step)
            case 55..<75 where !model.isEmpty:
                let i = random.below(model.count)
                chunked[i] = -step
                model[i] = -step
            case 75..<90 where !model.isEmpty:
                #expect(chunked.removeLast() == model.removeLast(), "seed \(seed) step \(step)")
            case 90..<92:
                let i = random.below(model.count + 1)
                chunked.insert(step, at: i)
                model.insert(step, at: i)
            case 92..<93:
                chunked.removeAll { $0 % 3 == 0 }
                model.removeAll { $0 % 3 == 0 }
            case 93..<96 where frozen.count < 8:
                frozen.append((chunked, model))  // a view: later writes must not reach it
            default:
                break
            }
        }
        #expect(Array(chunked) == model, "rerun with QUORUM_VIEW_SEED=\(seed)")
        #expect(chunked.count == model.count && chunked.last == model.last && chunked.first == model.first)
        for (view, expected) in frozen {
            #expect(Array(view) == expected, "a copy changed under later writes (rerun with QUORUM_VIEW_SEED=\(seed))")
        }
    }

    @Test("a view of the state keeps its snapshot bytes and its pages while the state applies on", arguments: seeds)
    func viewIsIsolated(seed: UInt64) throws {
        var state = SchedulerState()
        var workload = SchedulerWorkload(seed: seed)
        for _ in 0..<1_500 { _ = state.apply(workload.next(for: state)) }
        let view = state
        let bytes = view.snapshot()
        let page = view.listJobs(filter: JobFilter(state: nil, labels: []), limit: 50, cursor: nil)
        let counts = (view.jobCount, view.runCount, view.dagCount, view.queuedCount)
        for _ in 0..<1_500 { _ = state.apply(workload.next(for: state)) }
        let context = "rerun with QUORUM_VIEW_SEED=\(seed)"
        #expect(view.snapshot() == bytes, "\(context)")
        #expect(view.listJobs(filter: JobFilter(state: nil, labels: []), limit: 50, cursor: nil).items.map(\.id) == page.items.map(\.id),
                "\(context)")
        #expect((view.jobCount, view.runCount, view.dagCount, view.queuedCount) == counts, "\(context)")
        #expect(view.invariantViolations().isEmpty, "\(context)")
        #expect(state.invariantViolations().isEmpty, "\(context)")
        // The state that went on restores from its own bytes to the same bytes (slab order kept).
        let restored = try SchedulerState(snapshot: state.snapshot())
        #expect(restored.snapshot() == state.snapshot(), "\(context)")
    }
}
