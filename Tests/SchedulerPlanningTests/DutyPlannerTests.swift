@testable import SchedulerPlanning
import SchedulerCore
import Testing

@Suite("DutyPlanner: the leader's duties as a pure function")
struct DutyPlannerTests {
    let t0 = Timestamp(1_800_000_000_000)

    func state(queued ids: [String], priorities: [Int]? = nil) -> SchedulerState {
        var state = SchedulerState()
        for (i, id) in ids.enumerated() {
            let spec = JobSpec(name: id, priority: priorities?[i] ?? 0)
            _ = state.apply(.submitJob(SubmitJob(jobID: JobID(id), spec: spec, runID: RunID("r-" + id))), at: t0)
        }
        return state
    }

    func executors(_ list: [(String, Int, Bool)], unreachable: Set<String> = []) -> [ExecutorCapacity] {
        list.map { ExecutorCapacity(id: ExecutorID($0.0), slots: $0.1, isLeader: $0.2, isReachable: !unreachable.contains($0.0)) }
    }

    func assignments(_ commands: [Command]) -> [(run: String, executor: String)] {
        commands.compactMap {
            if case .assignAttempt(let a) = $0 { (a.runID.rawValue, a.executor.rawValue) } else { nil }
        }
    }

    func plan(_ state: SchedulerState, _ executors: [ExecutorCapacity], lost: Set<ExecutorID> = [], max: Int = 100,
              at now: Timestamp? = nil) -> [Command] {
        var counter = 0
        return DutyPlanner.plan(state: state, now: now ?? t0, executors: executors, lost: lost, maxAssignments: max) {
            counter += 1
            return RunID("fire-\(counter)")
        }
    }

    @Test("followers take work first, spread by free slots; the leader only when they are full")
    func followersFirst() {
        let state = state(queued: ["a", "b", "c", "d", "e"])
        let result = assignments(plan(state, executors([("n1", 2, true), ("n2", 2, false), ("n3", 2, false)])))
        #expect(result.count == 5)
        #expect(result.prefix(4).allSatisfy { $0.executor != "n1" })
        #expect(result.filter { $0.executor == "n2" }.count == 2)
        #expect(result.filter { $0.executor == "n3" }.count == 2)
        #expect(result.last?.executor == "n1")
    }

    @Test("highest priority first, FIFO within a priority; no more than the free slots")
    func priorityOrder() {
        let state = state(queued: ["low", "high", "mid", "high2"], priorities: [0, 9, 5, 9])
        let result = assignments(plan(state, executors([("n2", 3, false)])))
        #expect(result.map(\.run) == ["r-high", "r-high2", "r-mid"])
    }

    @Test("unreachable executors get nothing; with none reachable nothing is assigned")
    func unreachable() {
        let state = state(queued: ["a", "b"])
        #expect(assignments(plan(state, executors([("n1", 1, true), ("n2", 4, false)], unreachable: ["n2"]))).map(\.executor) == ["n1"])
        #expect(assignments(plan(state, executors([("n2", 4, false)], unreachable: ["n2"]))).isEmpty)
    }

    @Test("busy slots count: an executor running its slots gets no more")
    func busySlots() {
        var state = state(queued: ["a", "b"])
        _ = state.apply(.assignAttempt(AssignAttempt(runID: "r-a", executor: "n2", attempt: 1, deadline: t0.adding(milliseconds: 60_000))), at: t0)
        let result = assignments(plan(state, executors([("n2", 1, false), ("n3", 1, false)])))
        #expect(result.map(\.executor) == ["n3"])
        #expect(result.map(\.run) == ["r-b"])
    }

    @Test("an assignment's deadline is the run's timeout plus the slack")
    func deadlineSlack() {
        let state = state(queued: ["a"])
        let commands = DutyPlanner.plan(state: state, now: t0, executors: executors([("n2", 1, false)]), lost: [], maxAssignments: 10,
                                        deadlineSlackMs: 10_000) { RunID("x") }
        guard case .assignAttempt(let assignment)? = commands.first else {
            Issue.record("expected an assignment, got \(commands)")
            return
        }
        #expect(assignment.deadline == t0.adding(milliseconds: JobSpec.defaultTimeoutMs + 10_000))
    }

    @Test("at most maxAssignments per round")
    func cap() {
        let state = state(queued: (0..<10).map { "j\($0)" })
        #expect(assignments(plan(state, executors([("n2", 100, false)]), max: 3)).count == 3)
    }

    @Test("attempts past their deadline and attempts on lost executors are expired, with the right reason")
    func expiries() {
        var state = state(queued: ["a", "b"])
        _ = state.apply(.assignAttempt(AssignAttempt(runID: "r-a", executor: "n2", attempt: 1, deadline: t0.adding(milliseconds: 10))), at: t0)
        _ = state.apply(.assignAttempt(AssignAttempt(runID: "r-b", executor: "n3", attempt: 1, deadline: t0.adding(milliseconds: 60_000))), at: t0)
        let commands = plan(state, executors([("n2", 1, false), ("n3", 1, false)]), lost: ["n3"], at: t0.adding(milliseconds: 20))
        let expiries = commands.compactMap { if case .expireAttempt(let e) = $0 { e } else { nil } }
        #expect(expiries.contains(ExpireAttempt(runID: "r-a", attempt: 1, reason: .deadlinePassed)))
        #expect(expiries.contains(ExpireAttempt(runID: "r-b", attempt: 1, reason: .executorLost)))
    }

    @Test("a due cron job fires with the next fire time computed from its schedule")
    func cronFire() {
        var state = SchedulerState()
        let spec = JobSpec(name: "c", schedule: CronSchedule(expression: "* * * * *"))
        _ = state.apply(.submitJob(SubmitJob(jobID: "c", spec: spec, runID: "unused", firstFireAt: t0)), at: t0)
        let fires = plan(state, [], at: t0.adding(milliseconds: 1)).compactMap { if case .fireCron(let f) = $0 { f } else { nil } }
        #expect(fires.count == 1)
        #expect(fires.first?.scheduledAt == t0)
        #expect(fires.first?.nextFireAt == t0.adding(milliseconds: 60_000))
        #expect(fires.first?.runID == "fire-1")
    }

    @Test("nothing due, nothing queued: no commands (the leader proposes nothing while idle)")
    func idle() {
        #expect(plan(SchedulerState(), executors([("n2", 4, false)])).isEmpty)
    }
}

@Suite("EntrySplitter: a leader's commands as entries under max_entry_bytes")
struct EntrySplitterTests {
    func expiries(_ count: Int, idLength: Int = 40) -> [Command] {
        (0..<count).map { i in
            let id = "run-\(i)-" + String(repeating: "x", count: idLength)
            return .expireAttempt(ExpireAttempt(runID: RunID(id), attempt: 1, reason: .deadlinePassed))
        }
    }

    /// Flattens entries back into the commands they carry.
    func flattened(_ entries: [Command]) -> [Command] {
        entries.flatMap { entry -> [Command] in
            if case .batch(let inner) = entry { inner } else { [entry] }
        }
    }

    @Test("commands over the limit become several entries, each encoded within it, in the original order",
          arguments: [1_000, 4_096, 65_536])
    func splitsUnderLimit(limit: Int) {
        let commands = expiries(2_000)
        let entries = EntrySplitter.entries(commands, maxEntryBytes: limit)
        #expect(entries.count > 1)
        #expect(flattened(entries) == commands)
        let stamp = Timestamp(Int64.max)  // the longest stamp encoding
        for entry in entries {
            #expect(CommandCodec.encode(entry, at: stamp).count <= limit)
            if case .batch(let inner) = entry { #expect(inner.count > 1) }
        }
        // Greedy: no two neighbours would have fitted together.
        for (left, right) in zip(entries, entries.dropFirst()) {
            let joined = flattened([left]) + flattened([right])
            #expect(CommandCodec.encode(.batch(joined), at: .zero).count > limit - EntrySplitter.batchOverheadBytes)
        }
    }

    @Test("commands that fit stay one entry (one command alone stays unbatched), nothing yields no entry")
    func fitsInOne() {
        let commands = expiries(10)
        #expect(EntrySplitter.entries(commands, maxEntryBytes: 4 << 20) == [.batch(commands)])
        #expect(EntrySplitter.entries([commands[0]], maxEntryBytes: 4 << 20) == [commands[0]])
        #expect(EntrySplitter.entries([], maxEntryBytes: 4 << 20).isEmpty)
    }

    @Test("a command too large on its own is its own entry and does not hold back the others")
    func oversizedAlone() {
        let small = expiries(3, idLength: 1)
        let huge = expiries(1, idLength: 2_000)[0]
        let entries = EntrySplitter.entries([small[0], huge, small[1], small[2]], maxEntryBytes: 500)
        #expect(entries == [small[0], huge, .batch([small[1], small[2]])])
    }
}

@Suite("DutyPlanner: retention backlog")
struct DutyPlannerRetentionTests {
    @Test("while expired jobs wait for removal, the leader proposes a tick")
    func tickDrainsBacklog() {
        let t0 = Timestamp(1_800_000_000_000)
        var state = SchedulerState()
        let ids = (0..<(SchedulerState.maxRetentionRemovalsPerEntry + 5)).map { "j\($0)" }
        _ = state.apply(.batch(ids.map { id in
            .submitJob(SubmitJob(jobID: JobID(id), spec: JobSpec(name: id, runAt: t0, retentionMs: 60_000), runID: RunID("r-" + id)))
        }), at: t0)
        _ = state.apply(.batch(ids.map { .cancelJob(JobID($0)) }), at: t0)
        let later = t0.adding(milliseconds: 60_001)
        _ = state.apply(.tick, at: later)
        #expect(state.hasRetentionBacklog)
        let commands = DutyPlanner.plan(state: state, now: later, executors: [], lost: [], maxAssignments: 10) { RunID("unused") }
        #expect(commands == [.tick])
        _ = state.apply(.tick, at: later)
        #expect(!state.hasRetentionBacklog)
        #expect(state.jobCount == 0)
    }
}
