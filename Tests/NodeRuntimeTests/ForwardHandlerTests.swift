import Logging
import Node
@testable import NodeRuntime
import RaftCore
import RaftStorage
import SchedulerCore
import Testing

/// A state machine that only counts what it applied.
private actor CountingStateMachine: ReplicatedStateMachine {
    private(set) var applied = 0
    func apply(_ entries: [Raft.Entry]) async { applied += entries.count }
    func snapshot() async -> [UInt8] { [] }
    func restore(_ snapshot: [UInt8], through index: Raft.LogIndex) async throws {}
}

/// A single voter needs no peers.
private struct NoPeers: PeerMessenger {
    func send(_ message: Raft.Message) {}
}

@Suite("The leader's answer to a forwarded proposal", .timeLimit(.minutes(1)))
struct ForwardHandlerTests {
    @Test("a forwarded command over max_entry_bytes is answered entryTooLarge with its size and the limit, not proposed; one under it is applied")
    func tooLargeIsRefused() async throws {
        let store = InMemoryLogStore()
        let driver = try RaftDriver(config: Raft.Config(id: "n1", electionTicks: 2), bootstrapMembership: Raft.Membership(voters: ["n1"]),
                                    store: store, stateMachine: CountingStateMachine(), messenger: NoPeers(),
                                    options: RaftDriver.Options(tickInterval: .milliseconds(5), maxEntryBytes: 2_000),
                                    logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }), seed: 1)
        let run = Task { try await driver.run() }
        defer { run.cancel() }
        let deadline = ContinuousClock.now + .seconds(20)
        while await driver.status.leader != "n1" {
            #expect(ContinuousClock.now < deadline, "no leader within 20 s")
            guard ContinuousClock.now < deadline else { return }
            try await Task.sleep(for: .milliseconds(5))
        }
        let clock: @Sendable () -> Timestamp = { Timestamp(1_800_000_000_000) }
        let big = Command.submitJob(SubmitJob(jobID: JobID("big"), spec: JobSpec(name: String(repeating: "x", count: 3_000)),
                                              runID: RunID("run-big")))
        let before = await driver.status.lastLogIndex
        let answer = await ForwardHandler.propose(CommandCodec.encode(big, at: .zero), on: driver, clock: clock)
        guard case .entryTooLarge(let size, let limit) = answer else {
            Issue.record("expected entryTooLarge, got \(answer)")
            return
        }
        #expect(size == CommandCodec.encode(big, at: clock()).count)
        #expect(limit == 2_000)
        #expect(await driver.status.lastLogIndex == before)
        let small = await ForwardHandler.propose(CommandCodec.encode(.tick, at: .zero), on: driver, clock: clock)
        guard case .applied = small else {
            Issue.record("expected applied, got \(small)")
            return
        }
    }
}
