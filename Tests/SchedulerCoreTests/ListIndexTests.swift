import DeterministicRandom
import Foundation
@testable import SchedulerCore
import SchedulerTesting
import Testing

/// The lists read through the apply-maintained indexes give the same pages as the scan-and-sort
/// they replaced (kept below as the reference), on random states with removals, requeues,
/// purges and snapshot restores.
@Suite("List indexes: pages equal the full scan's")
struct ListIndexTests {
    static let seeds: [UInt64] = [7, 11, 2024, ProcessInfo.processInfo.environment["QUORUM_LIST_SEED"].flatMap { UInt64($0) }
        ?? UInt64(Date().timeIntervalSince1970)]
    static let labelPool = [KeyValue("team", "t0"), KeyValue("team", "t1"), KeyValue("team", "t2"),
                            KeyValue("env", "e0"), KeyValue("env", "e1"), KeyValue("tier", "x")]
    static let states: [String?] = [nil, "queued", "pending", "running", "succeeded", "dead", "cancelled", "scheduled", "paused"]

    @Test("jobs, DAG runs and the DLQ page like the old full scan", arguments: seeds)
    func pagesMatchReference(seed: UInt64) throws {
        var state = SchedulerState()
        var workload = SchedulerWorkload(seed: seed)
        var random = SplitMix64(seed: seed ^ 0x5eed)
        var extra = 0
        for step in 0..<1_200 {
            _ = state.apply(workload.next(for: state))
            if random.chance(40) {
                extra += 1
                var labels: [KeyValue] = []
                for label in Self.labelPool where random.chance(35) { labels.append(label) }
                if random.chance(5), let first = labels.first { labels.append(first) }  // a repeated label
                let spec = JobSpec(name: "x\(extra)", labels: labels, retentionMs: Int64(random.below(20_000)))
                _ = state.apply(.submitJob(SubmitJob(jobID: JobID("x\(extra)"), spec: spec, runID: RunID("rx\(extra)"))),
                                at: workload.clock)
            }
            #expect(state.jobOrder.entries.count <= max(64, 2 * state.jobCount), "seed \(seed) step \(step): job index not compacted")
            guard step % 100 == 99 else { continue }
            compare(state, seed: seed, step: step, random: &random)
            let restored = try SchedulerState(snapshot: state.snapshot())
            compare(restored, seed: seed, step: step, random: &random)
        }
    }

    private func compare(_ state: SchedulerState, seed: UInt64, step: Int, random: inout SplitMix64) {
        let context = "seed \(seed) (rerun with QUORUM_LIST_SEED=\(seed)) step \(step)"
        for _ in 0..<12 {
            let stateFilter = Self.states[random.below(Self.states.count)]
            var labels: [KeyValue] = []
            for _ in 0..<random.below(3) { labels.append(Self.labelPool[random.below(Self.labelPool.count)]) }
            let limit = 1 + random.below(7)
            let filter = JobFilter(state: stateFilter, labels: labels)
            let expected = Self.referenceJobs(state, filter: filter, limit: Int.max, cursor: nil).items.map(\.id)
            var seen: [JobID] = []
            var cursor: String?
            repeat {
                let page = state.listJobs(filter: filter, limit: limit, cursor: cursor)
                if labels.count <= 1 {
                    let old = Self.referenceJobs(state, filter: filter, limit: limit, cursor: cursor)
                    #expect(page.items.map(\.id) == old.items.map(\.id) && page.nextCursor == old.nextCursor,
                            "\(context) \(filter) limit \(limit) cursor \(cursor ?? "-")")
                }
                seen += page.items.map(\.id)
                cursor = page.nextCursor
                #expect(page.items.count <= limit)
            } while cursor != nil && seen.count <= expected.count
            #expect(seen == expected, "\(context) \(filter) limit \(limit)")
        }
        for dagState in [nil, DAGState.running, .succeeded, .failed, .cancelled] {
            var cursor: String?
            repeat {
                let page = state.listDAGRuns(state: dagState, limit: 3, cursor: cursor)
                let old = Self.referenceDAGRuns(state, filter: dagState, limit: 3, cursor: cursor)
                #expect(page.items.map(\.id) == old.items.map(\.id) && page.nextCursor == old.nextCursor, "\(context) DAG runs \(String(describing: dagState))")
                cursor = page.nextCursor
            } while cursor != nil
        }
        var cursor: String?
        repeat {
            let page = state.listDLQ(limit: 2, cursor: cursor)
            let old = Self.referenceDLQ(state, limit: 2, cursor: cursor)
            #expect(page.items == old.items && page.nextCursor == old.nextCursor, "\(context) DLQ")
            cursor = page.nextCursor
        } while cursor != nil
    }

    @Test("a label list whose jobs are all gone is dropped, and re-submitted ids are listed once")
    func labelListsShrink() {
        var state = SchedulerState()
        let label = KeyValue("team", "gone")
        for i in 0..<200 {
            let spec = JobSpec(name: "j\(i)", labels: [label], retentionMs: 0)
            _ = state.apply(.submitJob(SubmitJob(jobID: JobID("j\(i)"), spec: spec, runID: RunID("r\(i)"))), at: Timestamp(1_000))
            _ = state.apply(.cancelJob(JobID("j\(i)")), at: Timestamp(1_000))
        }
        _ = state.apply(.tick, at: Timestamp(2_000))
        #expect(state.jobCount == 0)
        #expect(state.jobsByLabel[label] == nil)
        #expect(state.jobOrder.entries.count <= 64)
        _ = state.apply(.submitJob(SubmitJob(jobID: "j5", spec: JobSpec(name: "again", labels: [label]), runID: "r5b")),
                        at: Timestamp(3_000))
        #expect(state.listJobs(filter: JobFilter(label: label), limit: 10).items.map(\.id) == ["j5"])
    }

    // MARK: The scan-and-sort implementation the indexes replaced (the reference)

    static func referenceJobs(_ s: SchedulerState, filter: JobFilter, limit: Int, cursor: String?) -> Page<Job> {
        let before = cursor.flatMap { UInt64($0) } ?? UInt64.max
        let matching = s.jobs.filter { job in
            job.createdSeq < before
                && (filter.state.map { s.fineState(of: job) == $0 } ?? true)
                && filter.labels.allSatisfy { job.spec.labels.contains($0) }
        }
        return page(matching, limit: limit, seq: \.createdSeq)
    }

    static func referenceDAGRuns(_ s: SchedulerState, filter: DAGState?, limit: Int, cursor: String?) -> Page<DAGRun> {
        let before = cursor.flatMap { UInt64($0) } ?? UInt64.max
        let matching = s.dags.filter { dag in dag.createdSeq < before && (filter.map { dag.state == $0 } ?? true) }
        return page(matching, limit: limit, seq: \.createdSeq)
    }

    static func referenceDLQ(_ s: SchedulerState, limit: Int, cursor: String?) -> Page<DLQEntry> {
        let before = cursor.flatMap { UInt64($0) } ?? UInt64.max
        let matching = s.runs.filter { $0.state == .dead && !$0.purged && $0.stateSeq < before }
        let p = page(matching, limit: limit, seq: \.stateSeq)
        return Page(items: p.items.map(s.dlqEntry), nextCursor: p.nextCursor)
    }

    static func page<T>(_ items: [T], limit: Int, seq: KeyPath<T, UInt64>) -> Page<T> {
        let n = max(1, limit)
        let sorted = items.sorted { $0[keyPath: seq] > $1[keyPath: seq] }
        guard sorted.count > n else { return Page(items: sorted, nextCursor: nil) }
        let slice = Array(sorted.prefix(n))
        return Page(items: slice, nextCursor: slice.last.map { String($0[keyPath: seq]) })
    }
}
