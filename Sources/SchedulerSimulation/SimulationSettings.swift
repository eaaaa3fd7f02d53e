import NodeCore
import RaftCore
import SchedulerCore

/// The shape and timing of one simulated scheduler history. Defaults mirror a real cluster with
/// short timers, so faults outlast leases and the interesting interleavings happen often.
public struct SchedulerSimulationSettings: Sendable {
    /// Voters (every one also an executor).
    public var nodes = 3
    /// Executor slots per node.
    public var slots = 2
    /// Assignments an executor may hold beyond its slots (`[executor] prefetch`, at most
    /// `slots`): 2 by default. (`--prefetch 4`, two rounds of slots, is what the running node
    /// refuses: with it the simulator finds late starts beside retries, seeds 858 and 1214.)
    public var prefetch = 2
    /// The executor lease.
    public var lease: Duration = .seconds(2)
    /// SIGTERM→SIGKILL of a stopped task.
    public var killGrace: Duration = .seconds(1)
    /// The largest election timeout (the fencing margin covers it).
    public var electionTimeout: Duration = .milliseconds(600)
    /// Faults and submissions happen during this phase; then everything heals.
    public var faultPhase: Duration = .seconds(40)
    /// Submissions stop this long before the fault phase ends.
    public var submissionPhase: Duration = .seconds(30)
    /// After healing, every job must be terminal within this.
    public var healDeadline: Duration = .seconds(150)
    /// The deliberate bug to run with, if any (simulator builds only).
    public var mutations = MutationSwitch()

    /// Defaults.
    public init() {}

    /// The fencing margin as the config derives it: kill grace + election timeout + max(500 ms, lease/4).
    public var leaseMargin: Duration { killGrace + electionTimeout + max(.milliseconds(500), lease / 4) }

    func coreSettings() -> NodeCore.Settings {
        let ids = (1...nodes).map { Raft.NodeID("n\($0)") }
        var slotsByExecutor: [ExecutorID: Int] = [:]
        for id in ids { slotsByExecutor[ExecutorID(id.rawValue)] = slots }
        var settings = NodeCore.Settings(lease: lease, leaseMargin: leaseMargin, voters: Set(ids), slots: slotsByExecutor)
        settings.deadlineSlackMs = 10_000
        settings.killGraceMs = SchedulerWorld.ms(killGrace)
        settings.prefetch = prefetch
        return settings
    }
}
