// The child of the WAL kill test (`CrashKillTests`): appends entries to a FileLogStore as fast
// as it can, from 16 concurrent proposers, and prints `acked N` (one `write(2)`, unbuffered)
// each time the store says "persisted through N". Every 500 entries it saves a snapshot, so
// kills also land in snapshot writes and old-segment deletion. The test SIGKILLs it at random
// moments and checks that every printed index survives.
//
// Usage: WALCrashChild DATA_DIR
import Logging
import RaftCore
import RaftStorage
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes one line to stdout with a single system call (atomic on a pipe, no buffer to lose).
func emit(_ line: String) {
    let bytes = Array((line + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
}

/// The payload of entry `index`; the test computes the same bytes to check what survived.
func payload(_ index: UInt64) -> [UInt8] {
    (0..<200).map { UInt8(truncatingIfNeeded: index &* 31 &+ UInt64($0) &+ 1) }
}

/// The next index to propose, shared by the proposers.
final class NextIndex: Sendable {
    let value: Mutex<UInt64>
    init(_ start: UInt64) { value = Mutex(start) }
}

guard CommandLine.arguments.count == 2 else {
    emit("usage: WALCrashChild DATA_DIR")
    exit(2)
}
let directory = CommandLine.arguments[1]
let options = FileLogStore.Options(segmentSize: 256 << 10, logger: Logger(label: "child", factory: { _ in SwiftLogNoOpLogHandler() }))
let store: FileLogStore
do {
    store = try await FileLogStore.open(directory: directory, options: options)
} catch {
    emit("error \(error)")
    exit(1)
}
emit("ready \(store.lastIndex.rawValue)")
let next = NextIndex(store.lastIndex.rawValue + 1)

await withTaskGroup(of: Void.self) { group in
    for _ in 0..<16 {
        group.addTask {
            while true {
                let result: Result<Raft.LogIndex, StorageError> = await withCheckedContinuation { continuation in
                    next.value.withLock { index in
                        let entry = Raft.Entry(term: Raft.Term(1), index: Raft.LogIndex(index), kind: .normal, data: payload(index))
                        store.persist(hardState: nil, entries: [entry]) { continuation.resume(returning: $0) }
                        index += 1
                    }
                }
                switch result {
                case .success(let index):
                    emit("acked \(index.rawValue)")
                    if index.rawValue % 500 == 0 {
                        let snapshot = RaftSnapshot(index: Raft.LogIndex(index.rawValue - 100), term: Raft.Term(1), data: payload(index.rawValue - 100))
                        do throws(StorageError) {
                            try await store.saveSnapshot(snapshot)
                        } catch where error.code == .invalidArgument {
                            // A snapshot at this index or later is already saved.
                        } catch {
                            emit("error \(error)")
                            exit(1)
                        }
                    }
                case .failure(let error):
                    emit("error \(error)")
                    exit(1)
                }
            }
        }
    }
}
