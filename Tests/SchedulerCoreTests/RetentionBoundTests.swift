import SchedulerCore
import Testing

/// The retention sweep's per-entry bound: a backlog of expired jobs is removed over several
/// entries, the same ones in the same entry on every replica.
@Suite("Retention: at most 10,000 removals per applied entry")
struct RetentionBoundTests {
    static let start = Timestamp(1_800_000_000_000)
    static let retentionMs: Int64 = 60_000

    /// `count` once jobs submitted and cancelled (finished) at `start`, in batches of 5,000.
    static func finishedJobs(_ count: Int) -> [Command] {
        var commands: [Command] = []
        var next = 0
        while next < count {
            let ids = (next..<min(count, next + 5_000)).map { "j\($0)" }
            commands.append(.batch(ids.map { id in
                .submitJob(SubmitJob(jobID: JobID(id), spec: JobSpec(name: id, runAt: start, retentionMs: retentionMs),
                                     runID: RunID("r-" + id)))
            }))
            commands.append(.batch(ids.map { .cancelJob(JobID($0)) }))
            next += ids.count
        }
        return commands
    }

    static func removals(_ events: [SchedulerEvent]) -> Int {
        events.count { if case .removed = $0 { true } else { false } }
    }

    @Test("25,000 expired jobs: three ticks remove 10,000, 10,000 and 5,000; replicas stay identical")
    func boundedBacklog() throws {
        var leader = SchedulerState()
        for command in Self.finishedJobs(25_000) { _ = leader.apply(command, at: Self.start) }
        #expect(leader.jobCount == 25_000)
        // A second replica joins from a snapshot taken before the sweep.
        var follower = try SchedulerState(snapshot: leader.snapshot())
        let later = Self.start.adding(milliseconds: Self.retentionMs + 1)
        var removed: [Int] = []
        // Due at `later`: the leader's duty planner proposes a tick then.
        #expect(try #require(leader.nextDueInstant) <= later)
        for entry in 0..<4 {
            let stamp = later.adding(milliseconds: Int64(entry))
            let events = leader.apply(.tick, at: stamp)
            let followerEvents = follower.apply(.tick, at: stamp)
            #expect(events == followerEvents)
            removed.append(Self.removals(events))
            #expect(SchedulerSnapshot.digest(leader.snapshot()) == SchedulerSnapshot.digest(follower.snapshot()),
                    "replicas differ after entry \(entry)")
            // What is left is still due, so the planner keeps proposing ticks until it is gone.
            #expect(leader.hasRetentionBacklog == (entry < 2))
            #expect((leader.nextDueInstant.map { $0 <= stamp } ?? false) == (entry < 2))
        }
        #expect(removed == [10_000, 10_000, 5_000, 0])
        #expect(leader.jobCount == 0 && leader.runCount == 0)
        #expect(!leader.hasRetentionBacklog)
    }

    @Test("a batch is one entry: its commands share one budget of removals")
    func batchSharesTheBudget() {
        var state = SchedulerState()
        for command in Self.finishedJobs(12_000) { _ = state.apply(command, at: Self.start) }
        let later = Self.start.adding(milliseconds: Self.retentionMs + 1)
        let events = state.apply(.batch([.tick, .tick, .tick]), at: later)
        #expect(Self.removals(events) == SchedulerState.maxRetentionRemovalsPerEntry)
        #expect(state.jobCount == 2_000)
        #expect(state.hasRetentionBacklog)
    }
}
