@testable import Node
import RaftCore
import RaftStorage
import Testing

@Suite("LogWriteQueue merges writes as the store would apply them one by one")
struct LogWriteQueueTests {
    private func entries(_ range: ClosedRange<UInt64>, term: UInt64) -> [Raft.Entry] {
        range.map { Raft.Entry(term: Raft.Term(term), index: Raft.LogIndex($0)) }
    }

    @Test("appends concatenate and the latest hard state wins")
    func concatenate() {
        var queue = LogWriteQueue()
        queue.enqueue(.hardState(Raft.HardState(term: Raft.Term(1))))
        queue.enqueue(.append(entries(1...2, term: 1)))
        queue.enqueue(.hardState(Raft.HardState(term: Raft.Term(2))))
        queue.enqueue(.append(entries(3...4, term: 2)))
        guard case .log(let state, let merged) = queue.takeBatch() else { Issue.record("expected a log batch"); return }
        #expect(state?.term == Raft.Term(2))
        #expect(merged == entries(1...2, term: 1) + entries(3...4, term: 2))
        #expect(queue.takeBatch() == nil)
    }

    @Test("a truncation followed by an append replaces the buffered suffix (Raft §5.3)")
    func truncation() {
        var queue = LogWriteQueue()
        queue.enqueue(.append(entries(5...8, term: 1)))
        queue.enqueue(.truncate(from: Raft.LogIndex(7)))
        queue.enqueue(.append(entries(7...7, term: 3)))
        guard case .log(_, let merged) = queue.takeBatch() else { Issue.record("expected a log batch"); return }
        #expect(merged == entries(5...6, term: 1) + entries(7...7, term: 3))
    }

    @Test("a snapshot is a barrier between two batches")
    func snapshotBarrier() {
        var queue = LogWriteQueue()
        queue.enqueue(.append(entries(1...1, term: 1)))
        queue.enqueue(.snapshot(RaftSnapshot(index: Raft.LogIndex(9), term: Raft.Term(2), data: [])))
        queue.enqueue(.append(entries(10...10, term: 2)))
        guard case .log(_, let first) = queue.takeBatch() else { Issue.record("expected a log batch"); return }
        #expect(first == entries(1...1, term: 1))
        guard case .snapshot(let snapshot) = queue.takeBatch() else { Issue.record("expected the snapshot"); return }
        #expect(snapshot.index == Raft.LogIndex(9))
        guard case .log(_, let last) = queue.takeBatch() else { Issue.record("expected a log batch"); return }
        #expect(last == entries(10...10, term: 2))
        #expect(queue.isEmpty)
    }
}
