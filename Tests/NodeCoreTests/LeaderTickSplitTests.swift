@testable import NodeCore
import RaftCore
import SchedulerCore
import Testing

@Suite("NodeCore.leaderTick splits a round over max_entry_bytes into several entries")
struct LeaderTickSplitTests {
    @Test("a round of many assignments becomes several proposals, each encoded within the limit, together assigning every run")
    func splitsAssignments() throws {
        let t0 = MonotonicTime(.seconds(100))
        let wall = Timestamp(1_800_000_000_000)
        var settings = NodeCore.Settings(lease: .seconds(5), leaseMargin: .seconds(6), voters: ["n1"], slots: [ExecutorID("n1"): 500])
        settings.maxEntryBytes = 4_096
        var core = NodeCore(id: "n1", settings: settings, started: t0, startedWall: wall)
        let submits = (0..<300).map { i in
            Command.submitJob(SubmitJob(jobID: JobID("job-\(i)"), spec: JobSpec(name: "job-\(i)"), runID: RunID("run-\(i)")))
        }
        _ = core.apply([(index: Raft.LogIndex(1), command: StampedCommand(at: wall, command: .batch(submits)))])
        core.leadership(since: t0)
        let directives = core.leaderTick(at: t0 + .milliseconds(10), wallClock: wall, commitIndex: Raft.LogIndex(1)) {
            RunID("unused")
        }
        var assigned = Set<String>()
        var proposals = 0
        for case .propose(let command, let stamp) in directives {
            proposals += 1
            #expect(CommandCodec.encode(command, at: stamp).count <= 4_096)
            let inner: [Command] = if case .batch(let list) = command { list } else { [command] }
            for case .assignAttempt(let assignment) in inner { assigned.insert(assignment.runID.rawValue) }
        }
        #expect(proposals > 1)
        #expect(assigned == Set((0..<300).map { "run-\($0)" }))
    }
}
