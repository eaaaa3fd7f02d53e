import Testing
@testable import RaftCore

@Suite("A restart whose snapshot image stays in storage")
struct PersistedSnapshotSizeTests {
    @Test("the core keeps the size the shell gives for an image it left in its file, else the data's size (issue #18)")
    func sizeWithoutBytes() {
        let metadata = Raft.SnapshotMetadata(index: Raft.LogIndex(5), term: Raft.Term(1), membership: Raft.Membership(voters: [n1]))
        var state = Raft.PersistedState(hardState: Raft.HardState(term: Raft.Term(1), commit: Raft.LogIndex(5)),
                                        snapshot: Raft.Snapshot(metadata: metadata, data: []), entries: [],
                                        bootstrapMembership: Raft.Membership(voters: [n1]))
        state.snapshotImageBytes = 123_456
        let restarted = Raft.Instance(config: Raft.Config(id: n1), restoring: state, seed: 1)
        #expect(restarted.snapshot == Raft.LocalSnapshot(metadata: metadata, byteCount: 123_456))
        state.snapshotImageBytes = nil
        state.snapshot?.data = [1, 2, 3]
        #expect(Raft.Instance(config: Raft.Config(id: n1), restoring: state, seed: 1).snapshot?.byteCount == 3)
    }
}
