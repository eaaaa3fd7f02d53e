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
        var resolver = ForwardHandlerTests.resolver()
        resolver.admission = { command in
            ShellTaskLocation.all(in: command).first.map {
                UnstampedCommand.ResolveError(batchIndex: $0.batchIndex, field: $0.field + ".command[0]", message: "not allowed here")
            }
        }
        let first = UnstampedCommand.submit(SubmitJob(jobID: "b1", spec: JobSpec(name: "a"), runID: "r-b1"), .afterStamp(milliseconds: 0))
        let shell = UnstampedCommand(.submitJob(SubmitJob(jobID: "b2", spec: JobSpec(name: "s", task: .shell(ShellTask(argv: ["/opt/x"]))),
                                                          runID: "r-b2")))
        let big = UnstampedCommand(.submitJob(SubmitJob(jobID: "b3", spec: JobSpec(name: String(repeating: "x", count: 3_000)), runID: "r-b3")))
        let last = UnstampedCommand.submit(SubmitJob(jobID: "b4", spec: JobSpec(name: "d"), runID: "r-b4"), .afterStamp(milliseconds: 5_000))
        let before = await driver.status.lastLogIndex
        let results = await ForwardHandler.propose(batch: [.unstamped(first), .unstamped(shell), .unstamped(big), .unstamped(last)],
                                                   on: driver, resolver: resolver)
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
        // One of two voters, the other never there: it never leads.
        let driver = try RaftDriver(config: Raft.Config(id: "n1", electionTicks: 2), bootstrapMembership: Raft.Membership(voters: ["n1", "n2"]),
                                    store: InMemoryLogStore(), stateMachine: RecordingStateMachine(), messenger: Unreachable(),
                                    logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }), seed: 1)
        let results = await ForwardHandler.propose(batch: [.unstamped(UnstampedCommand(.tick)), .stamped([0xFF]), .unstamped(UnstampedCommand(.tick))],
                                                   on: driver, resolver: ForwardHandlerTests.resolver())
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

/// A messenger whose peers never answer.
private struct Unreachable: PeerMessenger {
    func send(_ message: Raft.Message) {}
}
