import Node
@testable import NodeRuntime
import RaftCore
import SchedulerCore
import Testing

@Suite("LeaderAppendGate: the leader's own writes and its followers' forwards appended through one queue", .timeLimit(.minutes(1)))
struct LeaderAppendGateTests {
    static func entry(_ name: String, bytes: Int = 0) -> [UInt8] {
        CommandCodec.encode(.cancelJob(JobID(name + String(repeating: "x", count: bytes))), at: ForwardHandlerTests.leaderTime)
    }

    @Test("a group's entries sit at consecutive indexes, in order, each with its own outcome; one over max_entry_bytes fails alone")
    func groupOutcomes() async throws {
        let (driver, _, run) = try await ForwardHandlerTests.leader(maxEntryBytes: 2_000)
        defer { run.cancel() }
        let gate = LeaderAppendGate(driver: driver)
        let before = await driver.status.lastLogIndex
        let outcomes = await gate.append([Self.entry("a"), Self.entry("b", bytes: 3_000), Self.entry("c")])
        #expect(outcomes.count == 3)
        #expect((try? outcomes[0].get()) == Raft.LogIndex(before.rawValue + 1))
        guard case .failure(let tooLarge) = outcomes[1] else {
            Issue.record("expected entryTooLarge, got \(outcomes[1])")
            return
        }
        #expect(tooLarge.code == .entryTooLarge)
        #expect((try? outcomes[2].get()) == Raft.LogIndex(before.rawValue + 2))
        #expect(await gate.append([]).isEmpty)
        #expect((try? await gate.append(Self.entry("d")).get()) == Raft.LogIndex(before.rawValue + 3))
    }

    @Test("concurrent groups and single entries are each applied once, at distinct consecutive indexes, each group's together")
    func concurrent() async throws {
        let (driver, machine, run) = try await ForwardHandlerTests.leader()
        defer { run.cancel() }
        let gate = LeaderAppendGate(driver: driver)
        let before = await driver.status.lastLogIndex
        let groups = 60
        let results = await withTaskGroup(of: [Raft.LogIndex]?.self) { group in
            for number in 0..<groups {
                group.addTask {
                    // Every third a forwarded batch of three, the rest single writes.
                    let entries = (0..<(number % 3 == 0 ? 3 : 1)).map { Self.entry("g\(number)-\($0)") }
                    let outcomes = await gate.append(entries)
                    let indexes = outcomes.compactMap { try? $0.get() }
                    return indexes.count == entries.count ? indexes : nil
                }
            }
            var all: [[Raft.LogIndex]] = []
            for await indexes in group { if let indexes { all.append(indexes) } }
            return all
        }
        #expect(results.count == groups)
        for indexes in results where indexes.count > 1 {
            #expect(zip(indexes, indexes.dropFirst()).allSatisfy { $0.rawValue + 1 == $1.rawValue }, "\(indexes)")
        }
        let total = results.reduce(0) { $0 + $1.count }
        #expect(results.flatMap { $0 }.map(\.rawValue).sorted() == Array((before.rawValue + 1)...(before.rawValue + UInt64(total))))
        #expect(gate.batchesAppended <= UInt64(groups))
        #expect(await machine.applied.count >= total)
    }

    @Test("on a node that does not lead every entry is answered notLeader, nothing appended")
    func notLeader() async throws {
        let driver = try ForwardHandlerBatchTests.follower()
        let gate = LeaderAppendGate(driver: driver)
        let outcomes = await gate.append([Self.entry("a"), Self.entry("b")])
        #expect(outcomes.count == 2)
        for outcome in outcomes {
            guard case .failure(let error) = outcome, error.code == .notLeader else {
                Issue.record("expected notLeader, got \(outcome)")
                continue
            }
        }
        #expect(await driver.status.lastLogIndex == .zero)
    }
}
