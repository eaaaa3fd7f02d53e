// WAL throughput and recovery benchmark (see docs/benchmarks.md, "## Storage").
//
// Usage: WALBenchmark [--dir DIR] [--seconds S] [--entries N] [--only throughput|recovery]
//   1. the physical limit: a plain loop of write(200 B) + fdatasync on one file;
//   2. FileLogStore appends/s with 1, 16 and 256 concurrent proposers (200 B entries), and
//      where the time goes (encode, write, sync, CPU);
//   3. recovery (open) time of a log of N entries (default 1,000,000).
import Logging
import RaftCore
import RaftStorage
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct Settings {
    var directory = "./.build/wal-bench"
    var seconds = 3.0
    var entries = 1_000_000
    var only: String?

    init(arguments: [String]) {
        var iterator = arguments.dropFirst().makeIterator()
        while let flag = iterator.next() {
            switch flag {
            case "--dir": directory = iterator.next() ?? directory
            case "--seconds": seconds = iterator.next().flatMap(Double.init) ?? seconds
            case "--entries": entries = iterator.next().flatMap(Int.init) ?? entries
            case "--only": only = iterator.next()
            default:
                say("unknown flag \(flag); usage: WALBenchmark [--dir DIR] [--seconds S] [--entries N] [--only throughput|recovery]")
                exit(2)
            }
        }
    }
}

let settings = Settings(arguments: CommandLine.arguments)
let clock = ContinuousClock()
let quiet = Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() })
let payload = [UInt8](repeating: 0xAB, count: 200)

/// Prints a line at once (unbuffered), so progress shows when the output is piped.
func say(_ line: String) {
    let bytes = Array((line + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

func fresh(_ path: String) {
    let files = POSIXFileSystem()
    do {
        try files.createDirectory(path)
        for name in try files.listDirectory(path) { try files.removeFile(path + "/" + name) }
    } catch {
        say("cannot prepare \(path): \(error)")
        exit(1)
    }
}

/// Resident memory of this process (Linux `/proc/self/statm`), or `nil` elsewhere.
func residentBytes() -> Int? {
    let descriptor = open("/proc/self/statm", O_RDONLY)
    guard descriptor >= 0 else { return nil }
    defer { close(descriptor) }
    var buffer = [UInt8](repeating: 0, count: 256)
    let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
    guard count > 0 else { return nil }
    let fields = String(decoding: buffer[0..<count], as: UTF8.self).split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return nil }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

/// Process CPU time (user + system).
func cpuTime() -> Double {
    var usage = rusage()
    #if canImport(Glibc)
    getrusage(RUSAGE_SELF.rawValue, &usage)
    #else
    getrusage(RUSAGE_SELF, &usage)
    #endif
    return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 + Double(usage.ru_stime.tv_sec)
        + Double(usage.ru_stime.tv_usec) / 1e6
}

// MARK: 1. physical limit

func plainLoop() -> Double {
    let path = settings.directory + "/plain"
    fresh(path)
    let descriptor = open(path + "/plain.log", O_WRONLY | O_CREAT | O_APPEND, 0o644)
    guard descriptor >= 0 else {
        say("open failed: errno \(errno)")
        exit(1)
    }
    defer { close(descriptor) }
    var count = 0
    let start = clock.now
    let end = start + .milliseconds(Int(settings.seconds * 1000))
    while clock.now < end {
        _ = payload.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        #if canImport(Glibc)
        fdatasync(descriptor)
        #else
        fsync(descriptor)
        #endif
        count += 1
    }
    return Double(count) / seconds(clock.now - start)
}

// MARK: 2. group commit

final class NextIndex: Sendable {
    let value = Mutex<UInt64>(1)
    let stop = Mutex(false)
}

struct Throughput {
    var proposers: Int
    var perSecond: Double
    var statistics: WALStatistics
    var cpu: Double
    var wall: Double
}

func groupCommit(proposers: Int) async throws -> Throughput {
    let path = settings.directory + "/group-\(proposers)"
    fresh(path)
    let store = try await FileLogStore.open(directory: path, options: .init(logger: quiet))
    let next = NextIndex()
    let cpuStart = cpuTime()
    let start = clock.now
    let deadline = start + .milliseconds(Int(settings.seconds * 1000))
    try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<proposers {
            group.addTask {
                while clock.now < deadline {
                    let result: Result<Raft.LogIndex, StorageError> = await withCheckedContinuation { continuation in
                        next.value.withLock { index in
                            let entry = Raft.Entry(term: Raft.Term(1), index: Raft.LogIndex(index), data: payload)
                            store.persist(hardState: nil, entries: [entry]) { continuation.resume(returning: $0) }
                            index += 1
                        }
                    }
                    _ = try result.get()
                }
            }
        }
        try await group.waitForAll()
    }
    let wall = seconds(clock.now - start)
    let cpu = cpuTime() - cpuStart
    let statistics = store.statistics
    await store.close()
    return Throughput(proposers: proposers, perSecond: Double(statistics.operations) / wall, statistics: statistics, cpu: cpu, wall: wall)
}

// MARK: 3. recovery

/// The real file system without syncs, to build the recovery fixture quickly (recovery reads
/// the same bytes either way).
struct NoSyncFileSystem: WALFileSystem {
    let real = POSIXFileSystem()
    func createDirectory(_ path: String) throws(StorageError) { try real.createDirectory(path) }
    func listDirectory(_ path: String) throws(StorageError) -> [String] { try real.listDirectory(path) }
    func readFile(_ path: String) throws(StorageError) -> [UInt8] { try real.readFile(path) }
    func openForAppend(_ path: String, create: Bool) throws(StorageError) -> WALFileHandle { try real.openForAppend(path, create: create) }
    func size(of file: WALFileHandle) throws(StorageError) -> Int { try real.size(of: file) }
    func write(_ file: WALFileHandle, _ bytes: UnsafeRawBufferPointer) throws(StorageError) { try real.write(file, bytes) }
    func overwrite(_ file: WALFileHandle, _ bytes: UnsafeRawBufferPointer, at offset: Int) throws(StorageError) {
        try real.overwrite(file, bytes, at: offset)
    }
    func truncate(_ file: WALFileHandle, to size: Int) throws(StorageError) { try real.truncate(file, to: size) }
    func syncData(_ file: WALFileHandle) throws(StorageError) {}
    func sync(_ file: WALFileHandle) throws(StorageError) {}
    func close(_ file: WALFileHandle) throws(StorageError) { try real.close(file) }
    func syncDirectory(_ path: String) throws(StorageError) {}
    func rename(_ from: String, to: String) throws(StorageError) { try real.rename(from, to: to) }
    func removeFile(_ path: String) throws(StorageError) { try real.removeFile(path) }
    func lockExclusively(_ path: String) throws(StorageError) -> WALFileHandle { try real.lockExclusively(path) }
}

func recovery(entriesPerFrame: Int) async throws -> (seconds: [Double], bytes: Int) {
    let path = settings.directory + "/recovery"
    fresh(path)
    let store = try await FileLogStore.open(directory: path, options: .init(fileSystem: NoSyncFileSystem(), logger: quiet))
    var index: UInt64 = 1
    while index <= UInt64(settings.entries) {
        let count = min(entriesPerFrame, settings.entries - Int(index) + 1)
        let batch = (0..<count).map { Raft.Entry(term: Raft.Term(1), index: Raft.LogIndex(index + UInt64($0)), data: payload) }
        try await store.append(batch)
        index += UInt64(count)
    }
    let bytes = store.statistics.bytesWritten
    await store.close()
    sync()  // flush the fixture now, so write-back does not overlap the timed opens
    var times: [Double] = []
    for round in 0..<3 {
        let residentBefore = residentBytes()
        let start = clock.now
        let reopened = try await FileLogStore.open(directory: path, options: .init(logger: quiet))
        times.append(seconds(clock.now - start))
        if round == 0, entriesPerFrame == 1000, let before = residentBefore, let after = residentBytes() {
            // Measured on the first fixture only: later ones reuse memory the allocator kept.
            say("  memory held by the recovered log: \((after - before) / 1_000_000) MB resident (\((after - before) / settings.entries) B per entry)")
        }
        precondition(reopened.lastIndex.rawValue == UInt64(settings.entries), "recovered \(reopened.lastIndex), wrote \(settings.entries)")
        await reopened.close()
    }
    fresh(path)
    return (times, bytes)
}

func format(_ value: Double, _ digits: Int = 0) -> String {
    let scale = pow(10.0, Double(digits))
    let rounded = (value * scale).rounded() / scale
    return digits == 0 ? String(Int(rounded)) : String(rounded)
}

say("WAL benchmark: dir \(settings.directory), \(settings.seconds) s per run, 200 B entries, CRC32C \(CRC32C.isHardwareAccelerated ? "hardware" : "software")")
if settings.only != "recovery" {
    let limit = plainLoop()
    say("plain write+fdatasync loop: \(format(limit)) syncs/s (physical limit for one writer)")
    var single = 0.0
    for proposers in [1, 16, 256] {
        let result = try await groupCommit(proposers: proposers)
        if proposers == 1 { single = result.perSecond }
        let stats = result.statistics
        let commits = max(1, stats.commits)
        say(
            "\(proposers) proposers: \(format(result.perSecond)) appends/s, \(stats.commits) syncs, "
                + "\(format(Double(stats.operations) / Double(commits), 1)) appends/sync, "
                + "\(format(result.perSecond / max(single, 1), 1))x vs 1 proposer")
        say(
            "  time per commit: encode \(format(seconds(stats.encodeTime) / Double(commits) * 1e6, 1)) us, "
                + "write \(format(seconds(stats.writeTime) / Double(commits) * 1e6, 1)) us, "
                + "fdatasync \(format(seconds(stats.syncTime) / Double(commits) * 1e6, 1)) us; "
                + "sync busy \(format(seconds(stats.syncTime) / result.wall * 100))% of wall time; "
                + "process CPU \(format(result.cpu / result.wall * 100))% of one core")
    }
    say("plain write+fdatasync loop again: \(format(plainLoop())) syncs/s (the disk is shared; compare both)")
}
for perFrame in [1000, 10] where settings.only != "throughput" {
    let (times, bytes) = try await recovery(entriesPerFrame: perFrame)
    say(
        "recovery of \(settings.entries) entries, \(perFrame) per frame (\(bytes / 1_000_000) MB): "
            + times.map { format($0, 3) + " s" }.joined(separator: ", ") + " (best \(format(times.min() ?? 0, 3)) s)")
}
