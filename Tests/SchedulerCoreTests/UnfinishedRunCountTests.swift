import SchedulerCore
import Testing

/// `unfinishedRunCount` (pending + queued + running), which `[quotas] max_pending_jobs` reads in
/// O(1): exact through submit, dispatch, finish and retention, and rebuilt by a snapshot restore.
@Suite("Unfinished run count")
struct UnfinishedRunCountTests {
    @Test("submit, start, finish and retention keep the count exact; a restore rebuilds it")
    func exactThroughLifecycle() throws {
        var h = Harness()
        h.submitOnce("now", retentionMs: 60_000)
        h.submitOnce("later", runAt: h.clock + 10_000, retentionMs: 60_000)
        h.submitOnce("other", retentionMs: 60_000)
        #expect(h.state.unfinishedRunCount == 3)
        #expect(h.state.pendingCount == 1)

        h.assign("r-now")
        #expect(h.runState("r-now") == .running)
        #expect(h.state.unfinishedRunCount == 3)
        h.finish("r-now")
        #expect(h.state.unfinishedRunCount == 2)

        let restored = try SchedulerState(snapshot: h.state.snapshot())
        #expect(restored.unfinishedRunCount == 2)
        #expect(restored.pendingCount == 1)
        #expect(restored.invariantViolations().isEmpty)

        h.advance(ms: 10_000)
        #expect(h.runState("r-later") == .queued)
        #expect(h.state.pendingCount == 0)
        #expect(h.state.unfinishedRunCount == 2)

        // The finished job expires; removing it leaves the unfinished count alone.
        h.advance(ms: 61_000)
        #expect(h.state.job(JobID("now")) == nil)
        #expect(h.state.unfinishedRunCount == 2)
        #expect(h.state.invariantViolations().isEmpty)
    }
}
