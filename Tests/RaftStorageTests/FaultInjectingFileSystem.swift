import Foundation
import Synchronization

@testable import RaftStorage

#if canImport(Glibc)
import Glibc
#endif

/// The real file system with failures switched on and off by the test: ENOSPC on write (after
/// writing part of the bytes, as a real full disk does), EIO on sync, and a gate that holds a
/// data sync until the test releases it.
final class FaultInjectingFileSystem: WALFileSystem {
    struct Faults {
        /// `errno` for the next writes (after half of the bytes are written).
        var write: Int32?
        /// `errno` for `syncData` (fdatasync).
        var syncData: Int32?
        /// `errno` for `sync` (fsync of a new segment or snapshot).
        var sync: Int32?
        /// `errno` for creating files.
        var create: Int32?
        /// A simulated crash: after this many more changes or syncs, every change and sync
        /// fails (and has no effect), as if the process had died there.
        var operationsBeforeCrash: Int?
    }

    struct Counters {
        var syncData = 0
        var sync = 0
        var syncDirectory = 0
        var writes = 0
        /// Data syncs that have started (a held one counts as started).
        var syncDataStarted = 0
    }

    private let real = POSIXFileSystem()
    /// Skips real syncs (fast tests of recovery logic, where durability is not the question).
    let skipSyncs: Bool

    init(skipSyncs: Bool = false) {
        self.skipSyncs = skipSyncs
    }
    let faults = Mutex(Faults())
    let counters = Mutex(Counters())
    /// While set, `syncData` waits on it before syncing.
    let gate = Mutex<DispatchSemaphore?>(nil)

    func createDirectory(_ path: String) throws(StorageError) { try real.createDirectory(path) }
    func listDirectory(_ path: String) throws(StorageError) -> [String] { try real.listDirectory(path) }
    func readFile(_ path: String) throws(StorageError) -> [UInt8] { try real.readFile(path) }

    /// Counts one change or sync against a simulated crash; throws once it has happened.
    private func step(_ path: String) throws(StorageError) {
        let crashed = faults.withLock { faults -> Bool in
            guard let remaining = faults.operationsBeforeCrash else { return false }
            faults.operationsBeforeCrash = remaining - 1
            return remaining <= 0
        }
        if crashed { throw StorageError(code: .io, message: "simulated crash", file: path) }
    }

    func openForAppend(_ path: String, create: Bool) throws(StorageError) -> WALFileHandle {
        try step(path)
        if create, let number = faults.withLock({ $0.create }) { throw .system("open", path: path, errno: number) }
        return try real.openForAppend(path, create: create)
    }

    func size(of file: WALFileHandle) throws(StorageError) -> Int { try real.size(of: file) }

    func write(_ file: WALFileHandle, _ bytes: UnsafeRawBufferPointer) throws(StorageError) {
        try step(file.path)
        counters.withLock { $0.writes += 1 }
        if let number = faults.withLock({ $0.write }) {
            try real.write(file, UnsafeRawBufferPointer(rebasing: bytes[0..<bytes.count / 2]))
            throw .system("write", path: file.path, errno: number)
        }
        try real.write(file, bytes)
    }

    func overwrite(_ file: WALFileHandle, _ bytes: UnsafeRawBufferPointer, at offset: Int) throws(StorageError) {
        try step(file.path)
        counters.withLock { $0.writes += 1 }
        if let number = faults.withLock({ $0.write }) { throw .system("pwrite", path: file.path, errno: number) }
        try real.overwrite(file, bytes, at: offset)
    }

    func truncate(_ file: WALFileHandle, to size: Int) throws(StorageError) {
        try step(file.path)
        try real.truncate(file, to: size)
    }

    func syncData(_ file: WALFileHandle) throws(StorageError) {
        try step(file.path)
        counters.withLock { $0.syncDataStarted += 1 }
        gate.withLock { $0 }?.wait()
        if let number = faults.withLock({ $0.syncData }) { throw .system("fdatasync", path: file.path, errno: number) }
        if !skipSyncs { try real.syncData(file) }
        counters.withLock { $0.syncData += 1 }
    }

    func sync(_ file: WALFileHandle) throws(StorageError) {
        try step(file.path)
        if let number = faults.withLock({ $0.sync }) { throw .system("fsync", path: file.path, errno: number) }
        if !skipSyncs { try real.sync(file) }
        counters.withLock { $0.sync += 1 }
    }

    func close(_ file: WALFileHandle) throws(StorageError) { try real.close(file) }

    func syncDirectory(_ path: String) throws(StorageError) {
        try step(path)
        if !skipSyncs { try real.syncDirectory(path) }
        counters.withLock { $0.syncDirectory += 1 }
    }

    func rename(_ from: String, to: String) throws(StorageError) {
        try step(from)
        try real.rename(from, to: to)
    }

    func removeFile(_ path: String) throws(StorageError) {
        try step(path)
        try real.removeFile(path)
    }

    func lockExclusively(_ path: String) throws(StorageError) -> WALFileHandle { try real.lockExclusively(path) }
}

/// Waits until `condition` holds, polling without sleeping the test's logic, up to `deadline`.
func waitUntil(_ deadline: Duration = .seconds(30), _ condition: () -> Bool) async -> Bool {
    let clock = ContinuousClock()
    let end = clock.now + deadline
    while !condition() {
        if clock.now > end { return false }
        await Task.yield()
    }
    return true
}
