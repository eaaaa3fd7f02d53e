import Logging
import Node
@testable import NodeRuntime
import RaftCore
import RaftStorage
import SchedulerCore
import SchedulerPlanning
import Testing

@Suite("The leader's answer to a batch of forwarded proposals (frame 20)", .timeLimit(.minutes(1)))
struct ForwardHandlerBatchTests {
    @Test("each command keeps its own outcome: the valid ones are appended together at consecutive indexes, in order; an inadmissible and a too-large one are refused without failing their neighbours")
    func perProposalOutcomes() async throws {
        let (driver, machine, run) = try await ForwardHandlerTests.leader(maxEntryBytes: 2_000)
        defer { run.cancel() }
        let (resolver, first, shell, big, last) = Self.mixedBatch(prefix: "b")
        let before = await driver.status.lastLogIndex
        let results = await ForwardHandler.propose(batch: [.unstamped(first), .unstamped(shell), .unstamped(big), .unstamped(last)],
                                                   through: LeaderAppendGate(driver: driver), resolver: resolver)
        #expect(results.count == 4)
        #expect(results[0] == .applied(Raft.LogIndex(before.rawValue + 1)))
        guard case .invalid(let problem) = results[1] else {
            Issue.record("expected invalid, got \(results[1])")
            return
        }
        #expect(problem.field == "task.command[0]")
        guard case .entryTooLarge(_, let limit) = results[2] else {
            Issue.record("expected entryTooLarge, got \(results[2])")
            return
        }
        #expect(limit == 2_000)
        #expect(results[3] == .applied(Raft.LogIndex(before.rawValue + 2)))
        #expect(await driver.status.lastLogIndex == Raft.LogIndex(before.rawValue + 2))
        let applied = try await ForwardHandlerTests.waitForSubmit("b4", in: machine)
        guard case .submitJob(let stored) = applied.command else {
            Issue.record("not a submit")
            return
        }
        #expect(stored.spec.runAt == ForwardHandlerTests.leaderTime.adding(milliseconds: 5_000))
    }

    @Test("a batch on a node that does not lead is answered notProposed for every command, nothing appended")
    func notLeader() async throws {
        let driver = try Self.follower()
        let results = await ForwardHandler.propose(batch: [.unstamped(UnstampedCommand(.tick)), .stamped([0xFF]), .unstamped(UnstampedCommand(.tick))],
                                                   through: LeaderAppendGate(driver: driver), resolver: ForwardHandlerTests.resolver())
        #expect(results.count == 3)
        for result in results {
            guard case .notProposed = result else {
                Issue.record("expected notProposed, got \(result)")
                continue
            }
        }
        #expect(await driver.status.lastLogIndex == .zero)
    }
}

extension ForwardHandlerBatchTests {
    /// A resolver whose admission check refuses shell tasks, and four submissions for a leader
    /// with `maxEntryBytes` 2,000: one due at once, one shell task (refused), one too large, one
    /// due 5 s after the stamp; ids start with `prefix`.
    static func mixedBatch(prefix: String)
        -> (resolver: LeaderResolver, first: UnstampedCommand, shell: UnstampedCommand, big: UnstampedCommand, last: UnstampedCommand) {
        var resolver = ForwardHandlerTests.resolver()
        resolver.admission = { command in
            ShellTaskLocation.all(in: command).first.map {
                UnstampedCommand.ResolveError(batchIndex: $0.batchIndex, field: $0.field + ".command[0]", message: "not allowed here")
            }
        }
        func ids(_ number: Int) -> (JobID, RunID) { (JobID("\(prefix)\(number)"), RunID("r-\(prefix)\(number)")) }
        let first = UnstampedCommand.submit(SubmitJob(jobID: ids(1).0, spec: JobSpec(name: "a"), runID: ids(1).1), .afterStamp(milliseconds: 0))
        let shell = UnstampedCommand(.submitJob(SubmitJob(jobID: ids(2).0, spec: JobSpec(name: "s", task: .shell(ShellTask(argv: ["/opt/x"]))),
                                                          runID: ids(2).1)))
        let big = UnstampedCommand(.submitJob(SubmitJob(jobID: ids(3).0, spec: JobSpec(name: String(repeating: "x", count: 3_000)),
                                                        runID: ids(3).1)))
        let last = UnstampedCommand.submit(SubmitJob(jobID: ids(4).0, spec: JobSpec(name: "d"), runID: ids(4).1), .afterStamp(milliseconds: 5_000))
        return (resolver, first, shell, big, last)
    }

    /// One of two voters, the other never there: it never leads.
    static func follower() throws -> RaftDriver {
        try RaftDriver(config: Raft.Config(id: "n1", electionTicks: 2), bootstrapMembership: Raft.Membership(voters: ["n1", "n2"]),
                       store: InMemoryLogStore(), stateMachine: RecordingStateMachine(), messenger: Unreachable(),
                       logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }), seed: 1)
    }
}

/// A messenger whose peers never answer.
private struct Unreachable: PeerMessenger {
    func send(_ message: Raft.Message) {}
}
