// The child of the WAL kill test (`CrashKillTests`): appends entries to a FileLogStore as fast
// as it can, from 16 concurrent proposers, and prints `acked N` (one `write(2)`, unbuffered)
// each time the store says "persisted through N". Every 500 entries it saves a snapshot, so
// kills also land in snapshot writes and old-segment deletion. The test SIGKILLs it at random
// moments and checks that every printed index survives.
//
// Usage: WALCrashChild DATA_DIR             append and acknowledge until killed
//        WALCrashChild --verify DATA_DIR N  check that index N and everything before it that
//                                           is not compacted recovered intact (exit 0), or
//                                           say what is wrong (exit 1); used by
//                                           scripts/crash-wal.sh
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

let options = FileLogStore.Options(segmentSize: 256 << 10, logger: Logger(label: "child", factory: { _ in SwiftLogNoOpLogHandler() }))

/// Opens the store or exits with the error.
func openStore(_ directory: String) async -> FileLogStore {
    do {
        return try await FileLogStore.open(directory: directory, options: options)
    } catch {
        emit("error \(error)")
        exit(1)
    }
}

/// `--verify DIR N`: every acknowledged index up to N recovered with its payload.
func verify(directory: String, highest: UInt64) async -> Never {
    let store = await openStore(directory)
    guard store.lastIndex.rawValue >= highest else {
        emit("FAILED: index \(highest) was acknowledged but the log ends at \(store.lastIndex.rawValue)")
        exit(1)
    }
    if highest >= store.firstIndex.rawValue {
        do {
            for entry in try store.entries(from: store.firstIndex, through: Raft.LogIndex(highest))
            where entry.data != payload(entry.index.rawValue) {
                emit("FAILED: entry \(entry.index.rawValue) came back with different data")
                exit(1)
            }
        } catch {
            emit("FAILED: \(error)")
            exit(1)
        }
    }
    if let snapshot = store.snapshot, snapshot.data != payload(snapshot.index.rawValue) {
        emit("FAILED: snapshot \(snapshot.index.rawValue) came back with different data")
        exit(1)
    }
    emit("ok \(store.firstIndex.rawValue)...\(store.lastIndex.rawValue)")
    exit(0)
}

let arguments = CommandLine.arguments
if arguments.count == 4, arguments[1] == "--verify", let highest = UInt64(arguments[3]) {
    await verify(directory: arguments[2], highest: highest)
}
guard arguments.count == 2 else {
    emit("usage: WALCrashChild DATA_DIR | WALCrashChild --verify DATA_DIR N")
    exit(2)
}
let store = await openStore(arguments[1])
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
