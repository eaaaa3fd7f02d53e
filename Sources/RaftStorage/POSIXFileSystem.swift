#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The real file system, through POSIX calls.
public struct POSIXFileSystem: WALFileSystem {
    /// Creates the file system.
    public init() {}

    /// How long `lockExclusively` waits for a lock held by a child that has not yet exec-ed.
    public static let lockContentionGrace: Duration = .seconds(2)

    /// Creates `path` and its missing parents.
    public func createDirectory(_ path: String) throws(StorageError) {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix += component + "/"
            if mkdir(prefix, 0o755) != 0, errno != EEXIST {
                throw .system("mkdir", path: prefix, errno: errno)
            }
        }
    }

    /// The entry names of a directory, without `.` and `..`.
    public func listDirectory(_ path: String) throws(StorageError) -> [String] {
        guard let directory = opendir(path) else { throw .system("opendir", path: path, errno: errno) }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Reads the whole file.
    public func readFile(_ path: String) throws(StorageError) -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .system("open", path: path, errno: errno) }
        defer { _ = systemClose(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw .system("fstat", path: path, errno: errno) }
        return try preadBytes(descriptor, count: Int(status.st_size), at: 0, path: path)
    }

    /// Opens for appending.
    public func openForAppend(_ path: String, create: Bool) throws(StorageError) -> WALFileHandle {
        let flags = O_WRONLY | O_APPEND | O_CLOEXEC | (create ? O_CREAT : 0)
        let descriptor = open(path, flags, 0o644)
        guard descriptor >= 0 else { throw .system("open", path: path, errno: errno) }
        return WALFileHandle(descriptor: descriptor, path: path)
    }

    /// The file's size from `fstat`.
    public func size(of file: WALFileHandle) throws(StorageError) -> Int {
        var status = stat()
        guard fstat(file.descriptor, &status) == 0 else { throw .system("fstat", path: file.path, errno: errno) }
        return Int(status.st_size)
    }

    /// Writes everything, retrying short writes and `EINTR`.
    public func write(_ file: WALFileHandle, _ bytes: UnsafeRawBufferPointer) throws(StorageError) {
        guard let base = bytes.baseAddress else { return }
        var done = 0
        while done < bytes.count {
            let count = systemWrite(file.descriptor, base + done, bytes.count - done)
            if count < 0 {
                if errno == EINTR { continue }
                throw .system("write", path: file.path, errno: errno)
            }
            done += count
        }
    }

    /// `pwrite`, retrying short writes and `EINTR`, with `O_APPEND` cleared meanwhile (Linux's
    /// `pwrite` ignores the offset of a descriptor opened for appending).
    public func overwrite(_ file: WALFileHandle, _ bytes: UnsafeRawBufferPointer, at offset: Int) throws(StorageError) {
        guard let base = bytes.baseAddress else { return }
        let flags = fcntl(file.descriptor, F_GETFL)
        guard flags >= 0, fcntl(file.descriptor, F_SETFL, flags & ~O_APPEND) == 0 else {
            throw .system("fcntl(F_SETFL)", path: file.path, errno: errno)
        }
        var done = 0
        var failure: Int32?
        while done < bytes.count {
            let count = pwrite(file.descriptor, base + done, bytes.count - done, off_t(offset + done))
            if count < 0 {
                if errno == EINTR { continue }
                failure = errno
                break
            }
            done += count
        }
        guard fcntl(file.descriptor, F_SETFL, flags) == 0 else { throw .system("fcntl(F_SETFL)", path: file.path, errno: errno) }
        if let failure { throw .system("pwrite", path: file.path, errno: failure) }
    }

    /// `ftruncate`.
    public func truncate(_ file: WALFileHandle, to size: Int) throws(StorageError) {
        guard ftruncate(file.descriptor, off_t(size)) == 0 else { throw .system("ftruncate", path: file.path, errno: errno) }
    }

    /// `fdatasync` on Linux; `F_FULLFSYNC` on Darwin (whose `fsync` does not flush the drive).
    public func syncData(_ file: WALFileHandle) throws(StorageError) {
        #if canImport(Glibc)
        guard fdatasync(file.descriptor) == 0 else { throw .system("fdatasync", path: file.path, errno: errno) }
        #else
        try sync(file)
        #endif
    }

    /// `fsync` (`F_FULLFSYNC` on Darwin).
    public func sync(_ file: WALFileHandle) throws(StorageError) {
        #if canImport(Darwin)
        guard fcntl(file.descriptor, F_FULLFSYNC) == 0 else { throw .system("fcntl(F_FULLFSYNC)", path: file.path, errno: errno) }
        #else
        guard fsync(file.descriptor) == 0 else { throw .system("fsync", path: file.path, errno: errno) }
        #endif
    }

    /// `close`.
    public func close(_ file: WALFileHandle) throws(StorageError) {
        guard systemClose(file.descriptor) == 0 else { throw .system("close", path: file.path, errno: errno) }
    }

    /// Opens the directory read-only and fsyncs it.
    public func syncDirectory(_ path: String) throws(StorageError) {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .system("open", path: path, errno: errno) }
        defer { _ = systemClose(descriptor) }
        guard fsync(descriptor) == 0 else { throw .system("fsync", path: path, errno: errno) }
    }

    /// `rename`.
    public func rename(_ from: String, to: String) throws(StorageError) {
        #if canImport(Glibc)
        let result = Glibc.rename(from, to)
        #else
        let result = Darwin.rename(from, to)
        #endif
        guard result == 0 else { throw .system("rename to \(to)", path: from, errno: errno) }
    }

    /// `flock(LOCK_EX | LOCK_NB)` on the lock file, retried for up to `lockContentionGrace`.
    ///
    /// Why retry: a flock belongs to the open file description, and a process this node forks
    /// (a shell task, say) shares that description until its `exec` closes the descriptor — which
    /// can take a while when the spawn closes every inherited descriptor first. A lock that frees
    /// within the grace period was such a child, not another node; a second node holds it for
    /// good and is still reported.
    public func lockExclusively(_ path: String) throws(StorageError) -> WALFileHandle {
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw .system("open", path: path, errno: errno) }
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: Self.lockContentionGrace)
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            let number = errno
            if number == EWOULDBLOCK && clock.now < deadline {
                usleep(10_000)
                continue
            }
            _ = systemClose(descriptor)
            if number == EWOULDBLOCK {
                throw StorageError(
                    code: .locked,
                    message: "another process holds \(path): a Quorum node is already using this data directory. "
                        + "Stop it (or point this node at its own data directory) and start again.",
                    file: path, errno: number)
            }
            throw .system("flock", path: path, errno: number)
        }
        return WALFileHandle(descriptor: descriptor, path: path)
    }

    /// `unlink`.
    public func removeFile(_ path: String) throws(StorageError) {
        guard unlink(path) == 0 else { throw .system("unlink", path: path, errno: errno) }
    }
}

/// Reads up to `count` bytes of an open file from `offset` (fewer at the end of the file).
func preadBytes(_ descriptor: Int32, count: Int, at offset: Int, path: String) throws(StorageError) -> [UInt8] {
    var failure: Int32?
    // Uninitialised capacity: a 64 MiB segment is not zero-filled before it is read.
    let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
        var done = 0
        while done < count {
            let got = pread(descriptor, buffer.baseAddress.map { $0 + done }, count - done, off_t(offset + done))
            if got < 0 {
                if errno == EINTR { continue }
                failure = errno
                break
            }
            if got == 0 { break }
            done += got
        }
        initialized = done
    }
    if let failure { throw .system("read", path: path, errno: failure) }
    return bytes
}

#if canImport(Glibc)
private func systemClose(_ descriptor: Int32) -> Int32 { Glibc.close(descriptor) }
private func systemWrite(_ descriptor: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int { Glibc.write(descriptor, buffer, count) }
#else
private func systemClose(_ descriptor: Int32) -> Int32 { Darwin.close(descriptor) }
private func systemWrite(_ descriptor: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int { Darwin.write(descriptor, buffer, count) }
#endif
