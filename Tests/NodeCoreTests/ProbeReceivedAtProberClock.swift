import NodeCore
import RaftCore
import SchedulerCore

// Most tests here judge probes, not clocks: they answer with the leader's wall clock equal to
// the prober's (a cluster in sync). `LapseStampTests` passes clocks explicitly.

extension LeaderSide {
    /// ``LeaderSide/probeReceived(_:from:at:wallClock:)`` with the leader's wall clock at the prober's.
    mutating func probeReceived(_ probe: LeaseProbe, from peer: Raft.NodeID, at now: MonotonicTime) -> LeaseEcho? {
        probeReceived(probe, from: peer, at: now, wallClock: Timestamp(probe.wallClockMilliseconds))
    }
}

extension NodeCore {
    /// ``NodeCore/probeReceived(_:from:at:wallClock:)`` with the leader's wall clock at the prober's.
    mutating func probeReceived(_ probe: LeaseProbe, from peer: Raft.NodeID, at now: MonotonicTime) -> [Directive] {
        probeReceived(probe, from: peer, at: now, wallClock: Timestamp(probe.wallClockMilliseconds))
    }
}
