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

    @Test("a hard state that only advances commit is held and rides with the next write")
    func commitOnlyIsHeld() {
        var queue = LogWriteQueue()
        queue.enqueue(.hardState(Raft.HardState(term: Raft.Term(2), vote: Raft.NodeID("n1"), commit: Raft.LogIndex(3))))
        queue.enqueue(.append(entries(4...4, term: 2)))
        guard case .log(let first, _) = queue.takeBatch() else { Issue.record("expected a log batch"); return }
        #expect(first?.commit == Raft.LogIndex(3))
        // Commit advanced alone: no batch (no fsync for it) ...
        queue.enqueue(.hardState(Raft.HardState(term: Raft.Term(2), vote: Raft.NodeID("n1"), commit: Raft.LogIndex(4))))
        #expect(queue.takeBatch() == nil)
        #expect(!queue.isEmpty)
        // ... until the next append, which carries the latest commit.
        queue.enqueue(.hardState(Raft.HardState(term: Raft.Term(2), vote: Raft.NodeID("n1"), commit: Raft.LogIndex(5))))
        queue.enqueue(.append(entries(5...5, term: 2)))
        guard case .log(let merged, let appended) = queue.takeBatch() else { Issue.record("expected a log batch"); return }
        #expect(merged?.commit == Raft.LogIndex(5))
        #expect(appended == entries(5...5, term: 2))
        #expect(queue.takeBatch() == nil)
    }

    @Test("a new term or vote is written at once, even without entries; so is the first hard state")
    func termAndVoteAreWritten() {
        var queue = LogWriteQueue()
        queue.enqueue(.hardState(Raft.HardState(term: Raft.Term(1), commit: Raft.LogIndex(1))))
        guard case .log(let first, let none) = queue.takeBatch() else { Issue.record("the first hard state must be written"); return }
        #expect(first?.term == Raft.Term(1) && none.isEmpty)
        queue.enqueue(.hardState(Raft.HardState(term: Raft.Term(1), vote: Raft.NodeID("n2"), commit: Raft.LogIndex(1))))
        guard case .log(let voted, _) = queue.takeBatch() else { Issue.record("a vote must be written at once"); return }
        #expect(voted?.vote == Raft.NodeID("n2"))
        queue.enqueue(.hardState(Raft.HardState(term: Raft.Term(3), commit: Raft.LogIndex(1))))
        guard case .log(let termed, _) = queue.takeBatch() else { Issue.record("a new term must be written at once"); return }
        #expect(termed?.term == Raft.Term(3))
    }

    @Test("a held commit is written before a snapshot queued behind it")
    func heldCommitBeforeSnapshot() {
        var queue = LogWriteQueue()
        queue.enqueue(.hardState(Raft.HardState(term: Raft.Term(2), commit: Raft.LogIndex(1))))
        _ = queue.takeBatch()
        queue.enqueue(.hardState(Raft.HardState(term: Raft.Term(2), commit: Raft.LogIndex(2))))
        #expect(queue.takeBatch() == nil)
        queue.enqueue(.snapshot(RaftSnapshot(index: Raft.LogIndex(9), term: Raft.Term(2), data: [])))
        guard case .log(let held, _) = queue.takeBatch() else { Issue.record("expected the held hard state first"); return }
        #expect(held?.commit == Raft.LogIndex(2))
        guard case .snapshot = queue.takeBatch() else { Issue.record("expected the snapshot"); return }
        #expect(queue.isEmpty)
    }
}
