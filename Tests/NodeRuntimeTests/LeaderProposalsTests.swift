import Node
@testable import NodeRuntime
import RaftCore
import SchedulerCore
import SchedulerPlanning
import Testing

@Suite("The leader's own clients' writes, proposed together", .timeLimit(.minutes(1)))
struct LeaderProposalsTests {
    @Test("each write keeps its own outcome: the admitted ones are appended together at consecutive indexes, in order; an inadmissible and a too-large one are refused without failing their neighbours")
    func perProposalOutcomes() async throws {
        let (driver, machine, run) = try await ForwardHandlerTests.leader(maxEntryBytes: 2_000)
        defer { run.cancel() }
        let (resolver, first, shell, big, last) = ForwardHandlerBatchTests.mixedBatch(prefix: "l")
        let before = await driver.status.lastLogIndex
        let outcomes = await LeaderProposals.propose([first, shell, big, last], on: driver, resolver: resolver)
        #expect(outcomes.count == 4)
        guard case .proposed(.success(let firstIndex), _) = outcomes[0] else {
            Issue.record("expected applied, got \(outcomes[0])")
            return
        }
        #expect(firstIndex == Raft.LogIndex(before.rawValue + 1))
        guard case .refused(.invalid(let problem)) = outcomes[1] else {
            Issue.record("expected invalid, got \(outcomes[1])")
            return
        }
        #expect(problem.field == "task.command[0]")
        guard case .proposed(.failure(let tooLarge), let bytes) = outcomes[2] else {
            Issue.record("expected entryTooLarge, got \(outcomes[2])")
            return
        }
        #expect(tooLarge.code == .entryTooLarge && bytes > 2_000)
        guard case .proposed(.success(let lastIndex), _) = outcomes[3] else {
            Issue.record("expected applied, got \(outcomes[3])")
            return
        }
        #expect(lastIndex == Raft.LogIndex(before.rawValue + 2))
        #expect(await driver.status.lastLogIndex == Raft.LogIndex(before.rawValue + 2))
        // Stamped when the batch went, with the leader's clock.
        let applied = try await ForwardHandlerTests.waitForSubmit("l4", in: machine)
        guard case .submitJob(let stored) = applied.command else {
            Issue.record("not a submit")
            return
        }
        #expect(stored.spec.runAt == ForwardHandlerTests.leaderTime.adding(milliseconds: 5_000))
    }

    @Test("concurrent writes through the batcher are each applied once, at distinct indexes")
    func throughTheBatcher() async throws {
        let (driver, _, run) = try await ForwardHandlerTests.leader()
        defer { run.cancel() }
        let batcher = LeaderProposals.batcher(driver: driver, resolver: ForwardHandlerTests.resolver())
        let before = await driver.status.lastLogIndex
        let writes = 200
        let indexes = await withTaskGroup(of: Raft.LogIndex?.self) { group in
            for number in 0..<writes {
                group.addTask {
                    let command = UnstampedCommand.submit(SubmitJob(jobID: JobID("c\(number)"), spec: JobSpec(name: "c"), runID: RunID("r-c\(number)")),
                                                          .afterStamp(milliseconds: 0))
                    guard case .proposed(.success(let index), _) = await batcher.propose(LeaderProposal(command: command, entryBytes: 64))
                    else { return nil }
                    return index
                }
            }
            var indexes: [Raft.LogIndex] = []
            for await index in group { if let index { indexes.append(index) } }
            return indexes
        }
        #expect(indexes.count == writes)
        #expect(Set(indexes).count == writes)
        #expect(indexes.map { $0.rawValue }.sorted() == Array((before.rawValue + 1)...(before.rawValue + UInt64(writes))))
        #expect(batcher.batchesProposed <= UInt64(writes))
    }

    @Test("on a node that does not lead every write is answered notLeader, nothing appended")
    func notLeader() async throws {
        let driver = try ForwardHandlerBatchTests.follower()
        let outcomes = await LeaderProposals.propose([UnstampedCommand(.tick), UnstampedCommand(.tick)], on: driver,
                                                     resolver: ForwardHandlerTests.resolver())
        #expect(outcomes.count == 2)
        for outcome in outcomes {
            guard case .proposed(.failure(let error), _) = outcome, error.code == .notLeader else {
                Issue.record("expected notLeader, got \(outcome)")
                continue
            }
        }
        #expect(await driver.status.lastLogIndex == .zero)
    }
}
