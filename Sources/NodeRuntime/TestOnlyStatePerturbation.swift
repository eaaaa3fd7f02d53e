#if DEBUG
import Foundation
import SchedulerCore

/// **Test only** (compiled only in debug builds, honoured only when its environment variable is
/// set): makes this node's scheduler state diverge from its peers', so a real-cluster test can
/// show that the replica check finds a diverged replica (issue #19: "a digest mismatch made by
/// editing one node's state in a test build is detected within one check period").
///
/// With `QUORUM_TEST_ONLY_DIVERGE_AT_INDEX=N` in the node's environment, the state machine
/// applies one extra command locally, once per process, right after the first entry at index N
/// or above: a cancel of a job that does not exist. Apply refuses it, which counts one more
/// rejected command in the state — a field of the snapshot, so every later digest of this node
/// differs from its peers' — and changes nothing a job, a run or a duty round depends on (so
/// the diverged node behaves as before, even as leader). Nothing on the log, the wire or the
/// API reaches it: a peer's bytes or a user's request cannot turn it on, and a release build
/// does not contain it (docs/testing.md, "Test-only hooks").
struct TestOnlyStatePerturbation: Sendable {
    /// The environment variable that turns it on.
    static let environmentVariable = "QUORUM_TEST_ONLY_DIVERGE_AT_INDEX"
    /// The job id the refused cancel names (never a real job's: ids are generated, and this one
    /// says what it is).
    static let missingJob = JobID("test-only-divergence")

    /// The index at or after which the state is perturbed.
    let index: UInt64
    private var done = false

    /// The hook this process's environment asks for, if any.
    static func fromProcessEnvironment() -> TestOnlyStatePerturbation? {
        fromEnvironment(ProcessInfo.processInfo.environment)
    }

    /// The hook `environment` asks for, if any (an unparsable or zero value is ignored).
    static func fromEnvironment(_ environment: [String: String]) -> TestOnlyStatePerturbation? {
        guard let text = environment[environmentVariable], let index = UInt64(text), index > 0 else { return nil }
        return TestOnlyStatePerturbation(index: index)
    }

    /// Perturbs `state`, just after entry `index` stamped `at` was applied, the first time
    /// `index` reaches ``index``; whether it did.
    mutating func perturb(_ state: inout SchedulerState, after index: UInt64, at stamp: Timestamp) -> Bool {
        guard !done, index >= self.index else { return false }
        done = true
        var ignored: [SchedulerEvent] = []
        state.apply(.cancelJob(Self.missingJob), at: stamp, index: index, into: &ignored)
        return true
    }
}
#endif
