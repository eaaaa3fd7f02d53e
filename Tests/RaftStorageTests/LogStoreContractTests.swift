import RaftCore
import Testing

@testable import RaftStorage

/// The two stores under one contract.
enum StoreKind: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case inMemory
    case file

    var testDescription: String { rawValue }

    /// Runs `body` with a fresh store of this kind, closing it afterwards.
    func withStore(_ body: (any RaftLogStore) async throws -> Void) async throws {
        switch self {
        case .inMemory:
            let store = InMemoryLogStore()
            try await body(store)
            await store.close()
        case .file:
            try await withTemporaryDirectory { directory in
                let store = try await FileLogStore.open(directory: directory, options: testOptions(segmentSize: 1024))
                try await body(store)
                await store.close()
            }
        }
    }
}

@Suite("RaftLogStore contract")
struct LogStoreContractTests {
    @Test("a new store is empty", arguments: StoreKind.allCases)
    func emptyStore(kind: StoreKind) async throws {
        try await kind.withStore { (store: any RaftLogStore) async throws in
            #expect(store.firstIndex == 1)
            #expect(store.lastIndex == 0)
            #expect(store.hardState == Raft.HardState())
            #expect(store.snapshot == nil)
            #expect(store.term(at: 0) == .zero)
            #expect(store.term(at: 1) == nil)
        }
    }

    @Test("appended entries are returned with their terms", arguments: StoreKind.allCases)
    func appendAndRead(kind: StoreKind) async throws {
        try await kind.withStore { (store: any RaftLogStore) async throws in
            let entries = makeEntries(from: 1, count: 50, term: 1, size: 40)
            #expect(try await store.append(Array(entries[0..<20])) == 20)
            #expect(try await store.append(Array(entries[20...])) == 50)
            #expect(try store.entries(from: 1, through: 50) == entries)
            #expect(try store.entries(from: 10, through: 12) == Array(entries[9...11]))
            #expect(store.term(at: 50) == 1)
            #expect(store.term(at: 51) == nil)
        }
    }

    @Test("§5.3 a conflicting suffix is replaced from the first new index on", arguments: StoreKind.allCases)
    func conflictingSuffix(kind: StoreKind) async throws {
        try await kind.withStore { (store: any RaftLogStore) async throws in
            try await store.append(makeEntries(from: 1, count: 10, term: 1))
            #expect(try await store.append(makeEntries(from: 6, count: 3, term: 2)) == 8)
            #expect(store.lastIndex == 8)
            #expect(try store.entries(from: 1, through: 5) == makeEntries(from: 1, count: 5, term: 1))
            #expect(try store.entries(from: 6, through: 8) == makeEntries(from: 6, count: 3, term: 2))
        }
    }

    @Test("a gap or non-consecutive entries are refused and change nothing", arguments: StoreKind.allCases)
    func gapsRefused(kind: StoreKind) async throws {
        try await kind.withStore { (store: any RaftLogStore) async throws in
            try await store.append(makeEntries(from: 1, count: 3))
            let gap = await #expect(throws: StorageError.self) { try await store.append(makeEntries(from: 5, count: 1)) }
            #expect(gap?.code == .invalidArgument)
            let holes = [makeEntries(from: 4, count: 1)[0], makeEntries(from: 6, count: 1)[0]]
            let hole = await #expect(throws: StorageError.self) { try await store.append(holes) }
            #expect(hole?.code == .invalidArgument)
            #expect(store.lastIndex == 3)
            #expect(try await store.append(makeEntries(from: 4, count: 1)) == 4)
        }
    }

    @Test("§5.1 the hard state is stored, alone or with entries", arguments: StoreKind.allCases)
    func hardState(kind: StoreKind) async throws {
        try await kind.withStore { (store: any RaftLogStore) async throws in
            let first = Raft.HardState(term: 3, vote: "n2", commit: 0)
            try await store.setHardState(first)
            #expect(store.hardState == first)
            let second = Raft.HardState(term: 4, vote: nil, commit: 2)
            #expect(try await store.persist(hardState: second, entries: makeEntries(from: 1, count: 2, term: 4)) == 2)
            #expect(store.hardState == second)
            #expect(store.lastIndex == 2)
        }
    }

    @Test("§7 a snapshot compacts the log behind it and keeps the entries after it", arguments: StoreKind.allCases)
    func snapshotCompacts(kind: StoreKind) async throws {
        try await kind.withStore { (store: any RaftLogStore) async throws in
            try await store.append(makeEntries(from: 1, count: 20, term: 2))
            let snapshot = RaftSnapshot(index: 10, term: 2, data: [1, 2, 3])
            try await store.saveSnapshot(snapshot)
            #expect(store.snapshot == snapshot)
            #expect(store.firstIndex == 11)
            #expect(store.lastIndex == 20)
            #expect(store.term(at: 10) == 2)
            #expect(store.term(at: 9) == nil)
            #expect(try store.entries(from: 11, through: 20) == makeEntries(from: 11, count: 10, term: 2))
            let compacted = #expect(throws: StorageError.self) { try store.entries(from: 9, through: 12) }
            #expect(compacted?.code == .invalidArgument)
            // Entries at or below the snapshot index are skipped, the rest appended.
            #expect(try await store.append(makeEntries(from: 8, count: 15, term: 2)) == 22)
        }
    }

    @Test("§7 a snapshot whose entry the log lacks or holds with another term discards the log", arguments: StoreKind.allCases)
    func snapshotDiscards(kind: StoreKind) async throws {
        try await kind.withStore { (store: any RaftLogStore) async throws in
            try await store.append(makeEntries(from: 1, count: 20, term: 1))
            try await store.saveSnapshot(RaftSnapshot(index: 15, term: 3, data: []))
            #expect(store.firstIndex == 16)
            #expect(store.lastIndex == 15)
            try await store.saveSnapshot(RaftSnapshot(index: 40, term: 4, data: [9]))
            #expect(store.lastIndex == 40)
            #expect(store.term(at: 40) == 4)
            #expect(try await store.append(makeEntries(from: 41, count: 2, term: 4)) == 42)
        }
    }

    @Test("a snapshot not newer than the current one is refused", arguments: StoreKind.allCases)
    func olderSnapshotRefused(kind: StoreKind) async throws {
        try await kind.withStore { (store: any RaftLogStore) async throws in
            try await store.append(makeEntries(from: 1, count: 5))
            try await store.saveSnapshot(RaftSnapshot(index: 4, term: 1, data: []))
            let error = await #expect(throws: StorageError.self) {
                try await store.saveSnapshot(RaftSnapshot(index: 4, term: 1, data: []))
            }
            #expect(error?.code == .invalidArgument)
        }
    }

    @Test("after close every write fails with closed", arguments: StoreKind.allCases)
    func closed(kind: StoreKind) async throws {
        try await kind.withStore { (store: any RaftLogStore) async throws in
            try await store.append(makeEntries(from: 1, count: 1))
            await store.close()
            let error = await #expect(throws: StorageError.self) { try await store.append(makeEntries(from: 2, count: 1)) }
            #expect(error?.code == .closed)
            #expect(store.lastIndex == 1)
        }
    }
}
