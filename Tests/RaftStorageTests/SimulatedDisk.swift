import DeterministicRandom
import Synchronization

@testable import RaftStorage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An in-memory file system that remembers what is durable, to test power loss: file content
/// is durable only up to its last sync, and a directory entry (create, rename, remove) only after
/// its directory was synced. `imageAfterPowerLoss` returns what a disk could hold after power
/// fails now: every durable byte, a random part of what was not synced, and each undurable
/// directory change either done or not.
final class SimulatedDisk: WALFileSystem {
    private struct Inode {
        var volatile: [UInt8] = []
        var durable: [UInt8] = []
    }

    private struct State {
        var directories: Set<String> = []
        var inodes: [Int: Inode] = [:]
        var volatileNames: [String: Int] = [:]
        var durableNames: [String: Int] = [:]
        var nextInode = 1
        var handles: [Int32: Int] = [:]
        var nextHandle: Int32 = 3
        /// Changes and syncs left before the power fails; `nil`: never.
        var operationsBeforeCrash: Int?
        var crashed = false
        /// Changes and syncs done so far.
        var operations = 0
    }

    private let state = Mutex(State())

    /// A disk holding `image` (path → content), all durable, and the directories `directories`.
    init(image: [String: [UInt8]] = [:], directories: Set<String> = []) {
        state.withLock { state in
            state.directories = directories
            for (path, bytes) in image {
                let inode = state.nextInode
                state.nextInode += 1
                state.inodes[inode] = Inode(volatile: bytes, durable: bytes)
                state.volatileNames[path] = inode
                state.durableNames[path] = inode
            }
        }
    }

    /// Makes the power fail after `count` more changes or syncs.
    func crash(afterOperations count: Int) { state.withLock { $0.operationsBeforeCrash = count } }

    /// Whether the power has failed.
    var crashed: Bool { state.withLock { $0.crashed } }

    /// Changes and syncs done so far.
    var operations: Int { state.withLock { $0.operations } }

    /// The directories known to the disk.
    var directories: Set<String> { state.withLock { $0.directories } }

    /// What the disk may hold after the power fails now (see the type's documentation). With
    /// `tearingSectors`, each 512-byte sector (by file offset) of the unsynced bytes kept is
    /// written or left as zeros independently, as when the file size reached the disk but some
    /// of the data did not (XFS, ext4 reading unwritten blocks as zeros).
    func imageAfterPowerLoss(_ random: inout SplitMix64, tearingSectors: Bool = false) -> [String: [UInt8]] {
        state.withLock { state in
            var image: [String: [UInt8]] = [:]
            for path in Set(state.volatileNames.keys).union(state.durableNames.keys).sorted() {
                let durable = state.durableNames[path]
                let volatile = state.volatileNames[path]
                let chosen = durable == volatile ? durable : (Bool.random(using: &random) ? durable : volatile)
                guard let chosen, let node = state.inodes[chosen] else { continue }
                var content = node.durable
                if node.volatile.count > node.durable.count, node.volatile.starts(with: node.durable) {
                    let extra = Int.random(in: 0...(node.volatile.count - node.durable.count), using: &random)
                    content += node.volatile[node.durable.count..<node.durable.count + extra]
                    if tearingSectors {
                        var start = node.durable.count
                        while start < content.count {
                            let end = min((start / 512 + 1) * 512, content.count)
                            if Bool.random(using: &random) {
                                for offset in start..<end { content[offset] = 0 }
                            }
                            start = end
                        }
                    }
                } else if node.volatile != node.durable, Bool.random(using: &random) {
                    content = node.volatile
                }
                image[path] = content
            }
            return image
        }
    }

    private func step(_ path: String) throws(StorageError) {
        let failed = state.withLock { state -> Bool in
            if state.crashed { return true }
            if let remaining = state.operationsBeforeCrash {
                if remaining <= 0 {
                    state.crashed = true
                    return true
                }
                state.operationsBeforeCrash = remaining - 1
            }
            state.operations += 1
            return false
        }
        if failed { throw StorageError(code: .io, message: "simulated power failure", file: path) }
    }

    private static func parent(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return String(path[..<slash])
    }

    func createDirectory(_ path: String) throws(StorageError) {
        try step(path)
        state.withLock { _ = $0.directories.insert(path) }
    }

    func listDirectory(_ path: String) throws(StorageError) -> [String] {
        try state.withLock { state throws(StorageError) in
            guard state.directories.contains(path) else { throw .system("opendir", path: path, errno: ENOENT) }
            return state.volatileNames.keys.filter { Self.parent($0) == path }.map { String($0.dropFirst(path.count + 1)) }
        }
    }

    func readFile(_ path: String) throws(StorageError) -> [UInt8] {
        try state.withLock { state throws(StorageError) in
            guard let inode = state.volatileNames[path], let node = state.inodes[inode] else {
                throw .system("open", path: path, errno: ENOENT)
            }
            return node.volatile
        }
    }

    func openForAppend(_ path: String, create: Bool) throws(StorageError) -> WALFileHandle {
        try step(path)
        return try state.withLock { state throws(StorageError) in
            var inode = state.volatileNames[path]
            if inode == nil {
                guard create else { throw .system("open", path: path, errno: ENOENT) }
                inode = state.nextInode
                state.inodes[state.nextInode] = Inode()
                state.volatileNames[path] = state.nextInode
                state.nextInode += 1
            }
            let descriptor = state.nextHandle
            state.nextHandle += 1
            state.handles[descriptor] = inode
            return WALFileHandle(descriptor: descriptor, path: path)
        }
    }

    private func withInode<T>(_ file: WALFileHandle, _ body: (inout Inode) -> T) throws(StorageError) -> T {
        try state.withLock { state throws(StorageError) in
            guard let inode = state.handles[file.descriptor], var node = state.inodes[inode] else {
                throw .system("use", path: file.path, errno: EBADF)
            }
            defer { state.inodes[inode] = node }
            return body(&node)
        }
    }

    func size(of file: WALFileHandle) throws(StorageError) -> Int { try withInode(file) { $0.volatile.count } }

    func write(_ file: WALFileHandle, _ bytes: UnsafeRawBufferPointer) throws(StorageError) {
        try step(file.path)
        try withInode(file) { $0.volatile.append(contentsOf: bytes) }
    }

    func overwrite(_ file: WALFileHandle, _ bytes: UnsafeRawBufferPointer, at offset: Int) throws(StorageError) {
        try step(file.path)
        try withInode(file) { node in
            if node.volatile.count < offset + bytes.count {
                node.volatile += [UInt8](repeating: 0, count: offset + bytes.count - node.volatile.count)
            }
            node.volatile.replaceSubrange(offset..<offset + bytes.count, with: bytes)
        }
    }

    func truncate(_ file: WALFileHandle, to size: Int) throws(StorageError) {
        try step(file.path)
        try withInode(file) { node in
            if size <= node.volatile.count {
                node.volatile.removeSubrange(size...)
            } else {
                node.volatile += [UInt8](repeating: 0, count: size - node.volatile.count)
            }
        }
    }

    func syncData(_ file: WALFileHandle) throws(StorageError) {
        try step(file.path)
        try withInode(file) { $0.durable = $0.volatile }
    }

    func sync(_ file: WALFileHandle) throws(StorageError) {
        try step(file.path)
        try withInode(file) { $0.durable = $0.volatile }
    }

    func close(_ file: WALFileHandle) throws(StorageError) {
        state.withLock { _ = $0.handles.removeValue(forKey: file.descriptor) }
    }

    func syncDirectory(_ path: String) throws(StorageError) {
        try step(path)
        state.withLock { state in
            for name in Set(state.volatileNames.keys).union(state.durableNames.keys) where Self.parent(name) == path {
                state.durableNames[name] = state.volatileNames[name]
            }
        }
    }

    func rename(_ from: String, to: String) throws(StorageError) {
        try step(from)
        try state.withLock { state throws(StorageError) in
            guard let inode = state.volatileNames.removeValue(forKey: from) else { throw .system("rename", path: from, errno: ENOENT) }
            state.volatileNames[to] = inode
        }
    }

    /// No other process shares a simulated disk; the lock is a handle that `close` forgets.
    func lockExclusively(_ path: String) throws(StorageError) -> WALFileHandle {
        state.withLock { state in
            defer { state.nextHandle += 1 }
            return WALFileHandle(descriptor: state.nextHandle, path: path)
        }
    }

    func removeFile(_ path: String) throws(StorageError) {
        try step(path)
        try state.withLock { state throws(StorageError) in
            guard state.volatileNames.removeValue(forKey: path) != nil else { throw .system("unlink", path: path, errno: ENOENT) }
        }
    }
}
