import Logging
import Node
import NodeCore
@testable import NodeRuntime
import RaftCore
import RaftStorage
import SchedulerCore
import SchedulerPlanning
import Synchronization
import Testing

/// A state machine that keeps the commands it applied.
actor RecordingStateMachine: ReplicatedStateMachine {
    private(set) var applied: [StampedCommand] = []
    func apply(_ entries: [Raft.Entry]) async {
        for entry in entries { if let command = try? CommandCodec.decode(entry.data) { applied.append(command) } }
    }
    func snapshot() async -> [UInt8] { [] }
    func restore(_ snapshot: [UInt8], through index: Raft.LogIndex) async throws {}
}

/// A single voter needs no peers.
private struct NoPeers: PeerMessenger {
    func send(_ message: Raft.Message) {}
}

@Suite("The leader's answer to a forwarded proposal", .timeLimit(.minutes(1)))
struct ForwardHandlerTests {
    /// The leader's clock in these tests.
    static let leaderTime = Timestamp(1_800_000_000_000)

    static func resolver(members: Set<Raft.NodeID> = ["n1"], builds: MemberBuilds = MemberBuilds(probeFreshness: .seconds(1)))
        -> LeaderResolver {
        LeaderResolver(clock: { leaderTime }, builds: { builds }, members: { members }, selfID: "n1")
    }

    /// A single-voter driver that leads, with `maxEntryBytes`, and what it applies.
    static func leader(maxEntryBytes: Int = 4 << 20) async throws -> (RaftDriver, RecordingStateMachine, Task<Void, any Error>) {
        let machine = RecordingStateMachine()
        let driver = try RaftDriver(config: Raft.Config(id: "n1", electionTicks: 2), bootstrapMembership: Raft.Membership(voters: ["n1"]),
                                    store: InMemoryLogStore(), stateMachine: machine, messenger: NoPeers(),
                                    options: RaftDriver.Options(tickInterval: .milliseconds(5), maxEntryBytes: maxEntryBytes),
                                    logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }), seed: 1)
        let run = Task { try await driver.run() }
        let deadline = ContinuousClock.now + .seconds(20)
        while await driver.status.leader != "n1" {
            guard ContinuousClock.now < deadline else {
                run.cancel()
                throw TestFailure("no leader within 20 s")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        return (driver, machine, run)
    }

    struct TestFailure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    @Test("a forwarded command over max_entry_bytes is answered entryTooLarge with its size and the limit, not proposed; one under it is applied")
    func tooLargeIsRefused() async throws {
        let (driver, _, run) = try await Self.leader(maxEntryBytes: 2_000)
        defer { run.cancel() }
        let big = Command.submitJob(SubmitJob(jobID: JobID("big"), spec: JobSpec(name: String(repeating: "x", count: 3_000)),
                                              runID: RunID("run-big")))
        let before = await driver.status.lastLogIndex
        let answer = await ForwardHandler.propose(.stamped(CommandCodec.encode(big, at: .zero)), through: LeaderAppendGate(driver: driver), resolver: Self.resolver())
        guard case .entryTooLarge(let size, let limit) = answer else {
            Issue.record("expected entryTooLarge, got \(answer)")
            return
        }
        #expect(size == CommandCodec.encode(big, at: Self.leaderTime).count)
        #expect(limit == 2_000)
        #expect(await driver.status.lastLogIndex == before)
        let small = await ForwardHandler.propose(.stamped(CommandCodec.encode(.tick, at: .zero)), through: LeaderAppendGate(driver: driver), resolver: Self.resolver())
        guard case .applied = small else {
            Issue.record("expected applied, got \(small)")
            return
        }
    }

    @Test("the leader's admission check refuses a forward it would not run: 422 naming the field, nothing proposed")
    func admissionRefusesForwards() async throws {
        let (driver, _, run) = try await Self.leader()
        defer { run.cancel() }
        var resolver = Self.resolver()
        resolver.admission = { command in
            ShellTaskLocation.all(in: command).first.map {
                UnstampedCommand.ResolveError(batchIndex: $0.batchIndex, field: $0.field + ".command[0]", message: "not allowed here")
            }
        }
        let shell = Command.submitJob(SubmitJob(jobID: "s", spec: JobSpec(name: "s", task: .shell(ShellTask(argv: ["/opt/x"]))),
                                                runID: "r-s"))
        let before = await driver.status.lastLogIndex
        let answer = await ForwardHandler.propose(.unstamped(UnstampedCommand(shell)), through: LeaderAppendGate(driver: driver), resolver: resolver)
        guard case .invalid(let problem) = answer else {
            Issue.record("expected invalid, got \(answer)")
            return
        }
        #expect(problem.field == "task.command[0]")
        #expect(await driver.status.lastLogIndex == before)
        let noop = Command.submitJob(SubmitJob(jobID: "n", spec: JobSpec(name: "n"), runID: "r-n"))
        guard case .applied = await ForwardHandler.propose(.unstamped(UnstampedCommand(noop)), through: LeaderAppendGate(driver: driver), resolver: resolver) else {
            Issue.record("a command without shell tasks should be applied")
            return
        }
    }

    @Test("the leader's quota check refuses a forward over max_pending_jobs: quotaExceeded to frame 8, notProposed to frame 2, counted, nothing proposed")
    func quotaRefusesForwards() async throws {
        let (driver, _, run) = try await Self.leader()
        defer { run.cancel() }
        let gauges = AdmissionGauges()
        gauges.noteApplied(unfinishedRuns: 2, entryBytes: 0)
        let refusals = Mutex<[QuotaRefusal]>([])
        var resolver = Self.resolver()
        resolver.quotas = (AdmissionQuotas(maxPendingJobs: 2, maxStateBytes: 1 << 30), gauges)
        resolver.onQuotaRefusal = { refusal in refusals.withLock { $0.append(refusal) } }
        let submit = Command.submitJob(SubmitJob(jobID: "q", spec: JobSpec(name: "q"), runID: "r-q"))
        let before = await driver.status.lastLogIndex
        let answer = await ForwardHandler.propose(.unstamped(UnstampedCommand(submit)), through: LeaderAppendGate(driver: driver), resolver: resolver)
        #expect(answer == .quotaExceeded(QuotaRefusal(quota: .maxPendingJobs, current: 2, adding: 1, limit: 2)))
        guard case .notProposed(_, let message) = await ForwardHandler.propose(.stamped(CommandCodec.encode(submit, at: .zero)),
                                                                               through: LeaderAppendGate(driver: driver), resolver: resolver) else {
            Issue.record("a frame-2 forward over the quota should be notProposed")
            return
        }
        #expect(message.contains("max_pending_jobs (2)"))
        #expect(refusals.withLock { $0.count } == 2)
        #expect(await driver.status.lastLogIndex == before)
        // A cancel creates nothing: never refused, however far over the quota.
        guard case .applied = await ForwardHandler.propose(.unstamped(UnstampedCommand(.cancelJob("q"))), through: LeaderAppendGate(driver: driver), resolver: resolver) else {
            Issue.record("a cancel should be applied")
            return
        }
    }

    @Test("an older follower's stamped forward (frame 2) is still accepted and re-stamped with the leader's clock")
    func oldFrameStillWorks() async throws {
        let (driver, machine, run) = try await Self.leader()
        defer { run.cancel() }
        let followerTime = Self.leaderTime.adding(milliseconds: 3_600_000)
        let submit = SubmitJob(jobID: "j-old", spec: JobSpec(name: "a", runAt: followerTime), runID: "r-old")
        let answer = await ForwardHandler.propose(.stamped(CommandCodec.encode(.submitJob(submit), at: followerTime)), through: LeaderAppendGate(driver: driver),
                                                  resolver: Self.resolver())
        guard case .applied = answer else {
            Issue.record("expected applied, got \(answer)")
            return
        }
        let applied = try await Self.waitForSubmit("j-old", in: machine)
        #expect(applied.at == Self.leaderTime)
        guard case .submitJob(let stored) = applied.command else {
            Issue.record("not a submit")
            return
        }
        #expect(stored.spec.runAt == followerTime)  // an older follower resolved it itself: kept as it came
    }

    @Test("an unstamped forward (frame 8) from a follower 1 h ahead runs at the leader's stamp + the delay; a cron job's first fire is the leader's")
    func unstampedResolvedByTheLeader() async throws {
        let (driver, machine, run) = try await Self.leader()
        defer { run.cancel() }
        let followerTime = Self.leaderTime.adding(milliseconds: 3_600_000)
        let delayed = SubmitJob(jobID: "j-new", spec: JobSpec(name: "a", runAt: followerTime.adding(milliseconds: 30_000)), runID: "r-new")
        let cron = SubmitJob(jobID: "c-new", spec: JobSpec(name: "c", schedule: CronSchedule(expression: "15 * * * *")), runID: "u",
                             firstFireAt: followerTime.adding(milliseconds: 900_000))
        let command = UnstampedCommand.batch([(delayed, .afterStamp(milliseconds: 30_000)), (cron, .firstFireAfterStamp)])
        let answer = await ForwardHandler.propose(.unstamped(try UnstampedCommand(decoding: command.encoded())), through: LeaderAppendGate(driver: driver),
                                                  resolver: Self.resolver())
        guard case .applied = answer else {
            Issue.record("expected applied, got \(answer)")
            return
        }
        let applied = try await Self.waitForSubmit("j-new", in: machine)
        #expect(applied.at == Self.leaderTime)
        guard case .batch(let commands) = applied.command, commands.count == 2,
              case .submitJob(let once) = commands[0], case .submitJob(let cronJob) = commands[1] else {
            Issue.record("expected a batch of two submits, got \(applied.command)")
            return
        }
        #expect(once.spec.runAt == Self.leaderTime.adding(milliseconds: 30_000))
        // 1_800_000_000_000 ms is 08:00:00Z: the first :15 after it is 08:15Z, not the follower's 09:15Z.
        #expect(cronJob.firstFireAt == Self.leaderTime.adding(milliseconds: 900_000))
    }

    @Test("a forward the format gate refuses is answered upgradeInProgress (frame 8) or notProposed (frame 2), and not proposed")
    func gateRefusalIsAnswered() async throws {
        let (driver, _, run) = try await Self.leader()
        defer { run.cancel() }
        // Every kind needs format 1 today, which every member counts as: nothing is refused.
        let members: Set<Raft.NodeID> = ["n1", "n2"]
        let fine = await ForwardHandler.propose(.unstamped(UnstampedCommand(.tick)), through: LeaderAppendGate(driver: driver), resolver: Self.resolver(members: members))
        guard case .applied = fine else {
            Issue.record("expected applied, got \(fine)")
            return
        }
        // The refusal itself is tested with a synthetic requirement in NodeCoreTests (LeaderStampTests.gateRefuses).
    }

    static func waitForSubmit(_ id: JobID, in machine: RecordingStateMachine) async throws -> StampedCommand {
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            for command in await machine.applied {
                switch command.command {
                case .submitJob(let s) where s.jobID == id: return command
                case .batch(let commands) where commands.contains(where: { if case .submitJob(let s) = $0 { s.jobID == id } else { false } }):
                    return command
                default: continue
                }
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        throw TestFailure("\(id) was not applied within 20 s")
    }
}
