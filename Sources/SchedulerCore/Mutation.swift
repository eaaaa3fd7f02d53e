/// Which deliberate bug, if any, a value runs with. In a shipped build there are none: the
/// switch is empty and ``isOn(_:)`` is always `false`. The scheduler simulator's build
/// (`-DQUORUM_SIM_MUTATIONS`, `scripts/simulate.sh --scheduler`) can switch one on to prove the
/// simulator's invariants catch it.
public struct MutationSwitch: Hashable, Sendable {
    #if QUORUM_SIM_MUTATIONS
    /// The active mutation.
    public var active: SchedulerMutation?
    /// A switch with `active` on.
    public init(_ active: SchedulerMutation?) { self.active = active }
    #endif

    /// No mutation.
    public init() {}

    /// Whether the mutation named `name` is on (never, outside simulator builds).
    public func isOn(_ name: @autoclosure () -> String) -> Bool {
        #if QUORUM_SIM_MUTATIONS
        return active?.rawValue == name()
        #else
        return false
        #endif
    }
}

#if QUORUM_SIM_MUTATIONS
/// Deliberate bugs the scheduler simulator must catch (each is what the code did, or could
/// easily do, wrong).
public enum SchedulerMutation: String, CaseIterable, Hashable, Sendable {
    /// Within one applied batch, stops are handled before starts, and a start is checked
    /// against the state in the middle of the batch: a node catching up starts an attempt the
    /// same batch already expired or cancelled.
    case startAfterStop = "start-after-stop"
    /// Finish reports are not checked against the run's current attempt: a late report of an
    /// expired attempt ends its retry.
    case noFencing = "no-fencing"
    /// The leader renews an executor's lease on any probe it receives, without proof that its
    /// echoes reach the executor (a one-way partition keeps dead attempts `running`).
    case oneWayLease = "one-way-lease"
    /// The leader keeps a forwarded command's time as the follower stamped it.
    case followerClock = "follower-clock"
    /// The leader names no executor incarnation in its assignments (as before command format
    /// 12): a node wiped and restarted within the clock cut-off's second of slack after an
    /// assignment starts its predecessor's attempt again (issue #15, the quick-wipe duplicate).
    case unnamedAssignments = "unnamed-assignments"
    /// The leader names the executor's data directory in its assignments, not its process (as
    /// before command format 15): a node that restarts with its log and proves its lease before
    /// it has caught up starts an assignment its previous process was given, which the leader
    /// already expired and retried elsewhere (seed 1058 with five nodes and `--prefetch 4`).
    case directoryNamedAssignments = "directory-named-assignments"
}
#endif
