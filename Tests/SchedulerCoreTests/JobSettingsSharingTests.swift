@testable import SchedulerCore
import Testing

/// Issue #18, "Memory": jobs submitted alike share one settings object (a spec cost ~300 bytes
/// per job), after applies and after a restore, and nothing a reader or a replica sees changes.
@Suite("Job settings shared between jobs submitted alike")
struct JobSettingsSharingTests {
    /// Jobs `a0`…`a5` alike (priority 1), then `b` (priority 2), then `c` alike `a`, then `d`
    /// alike `a` but with its own label.
    func submitted() -> Harness {
        var h = Harness()
        for i in 0..<6 { h.submitOnce("a\(i)", priority: 1) }
        h.submitOnce("b", priority: 2)
        h.submitOnce("c", priority: 1)
        h.submitOnce("d", priority: 1, labels: [KeyValue("team", "t1")])
        return h
    }

    func settings(_ state: SchedulerState, _ id: String) throws -> JobSettings {
        try #require(state.job(JobID(id))?.spec.settings)
    }

    @Test("applied submits share settings with a recent equal job, never with a different one")
    func appliedJobsShare() throws {
        let state = submitted().state
        let shared = try settings(state, "a0")
        for i in 1..<6 { #expect(try settings(state, "a\(i)") === shared, "a\(i) holds its own settings") }
        #expect(try settings(state, "c") === shared, "c is within the window of a5")
        #expect(try settings(state, "b") !== shared)
        #expect(try settings(state, "d") !== shared)
        #expect(state.job(JobID("a3"))?.spec.name == "a3")
        #expect(state.job(JobID("d"))?.spec.labels == [KeyValue("team", "t1")])
        #expect(state.job(JobID("b"))?.spec.priority == 2)
    }

    @Test("a restore shares them again and encodes the same image")
    func restoreShares() throws {
        let state = submitted().state
        let image = state.snapshot()
        let restored = try SchedulerState(snapshot: image)
        #expect(restored.snapshot() == image)
        let shared = try settings(restored, "a0")
        for id in ["a1", "a5", "c"] { #expect(try settings(restored, id) === shared, "\(id) holds its own settings") }
        #expect(try settings(restored, "b") !== shared)
        #expect(restored.job(JobID("a4"))?.spec == state.job(JobID("a4"))?.spec)
    }

    @Test("specs are equal by value whether or not they share settings")
    func equalityByValue() throws {
        let one = JobSpec(name: "x", priority: 3, labels: [KeyValue("k", "v")])
        let other = JobSpec(name: "x", priority: 3, labels: [KeyValue("k", "v")])
        #expect(one == other && one.settings !== other.settings)
        let renamed = JobSpec(name: "y", priority: 3, labels: [KeyValue("k", "v")])
        let shared = try #require(renamed.sharingSettings(with: one))
        #expect(shared.settings === one.settings && shared.name == "y" && shared == renamed)
        #expect(JobSpec(name: "y", priority: 4).sharingSettings(with: one) == nil)
    }
}
