import Logging

/// An open file of a `WALFileSystem`.
public struct WALFileHandle: Hashable, Sendable {
    /// The descriptor (or whatever number the file system uses to find the file again).
    public var descriptor: Int32
    /// The path it was opened with, for error messages.
    public var path: String

    /// Creates a handle.
    public init(descriptor: Int32, path: String) {
        self.descriptor = descriptor
        self.path = path
    }
}

/// Every file-system call the WAL makes, behind one protocol so tests can inject failures
/// (`ENOSPC` on write, `EIO` on sync) without a real full disk. `POSIXFileSystem` is the real one.
///
/// All methods block; the WAL calls them only on its own dispatch queue, never on an event loop.
/// Errors are `StorageError`s (`.diskFull` for `ENOSPC`, `.io` otherwise).
public protocol WALFileSystem: Sendable {
    /// Creates `path` (and missing parents) as a directory if it does not exist.
    func createDirectory(_ path: String) throws(StorageError)
    /// The names (not paths) of the entries in directory `path`.
    func listDirectory(_ path: String) throws(StorageError) -> [String]
    /// The whole content of file `path`.
    func readFile(_ path: String) throws(StorageError) -> [UInt8]
    /// Opens `path` for writing at its end, creating it (empty) when `create` is set.
    func openForAppend(_ path: String, create: Bool) throws(StorageError) -> WALFileHandle
    /// The current size of the open file.
    func size(of file: WALFileHandle) throws(StorageError) -> Int
    /// Writes all of `bytes` at the end of the file (may have written part of them on error).
    func write(_ file: WALFileHandle, _ bytes: UnsafeRawBufferPointer) throws(StorageError)
    /// Writes all of `bytes` at `offset`, over what the file holds there (the file must already
    /// reach `offset`). The next `write` still appends at the end.
    ///
    /// Why: a snapshot file is streamed before its data length is known; the header that holds
    /// the length is written last, over a placeholder (docs/storage.md, "Snapshot file").
    func overwrite(_ file: WALFileHandle, _ bytes: UnsafeRawBufferPointer, at offset: Int) throws(StorageError)
    /// Cuts the open file to `size` bytes.
    func truncate(_ file: WALFileHandle, to size: Int) throws(StorageError)
    /// Makes the file's data durable (`fdatasync`: enough for appends, whose size change it also
    /// flushes).
    func syncData(_ file: WALFileHandle) throws(StorageError)
    /// Makes the file's data and metadata durable (`fsync`; `F_FULLFSYNC` on Darwin).
    func sync(_ file: WALFileHandle) throws(StorageError)
    /// Closes the file.
    func close(_ file: WALFileHandle) throws(StorageError)
    /// Makes the directory's entries (created, renamed, removed files) durable.
    func syncDirectory(_ path: String) throws(StorageError)
    /// Atomically renames `from` to `to`, replacing `to`.
    func rename(_ from: String, to: String) throws(StorageError)
    /// Removes file `path`.
    func removeFile(_ path: String) throws(StorageError)
    /// Takes an exclusive lock on the lock file `path` (creating it), held until the returned
    /// handle is closed, so that two processes never use one data directory. Throws `.locked`
    /// when another holder has it.
    func lockExclusively(_ path: String) throws(StorageError) -> WALFileHandle
}

extension WALFileSystem {
    /// Writes all of `bytes` at the end of the file.
    func write(_ file: WALFileHandle, _ bytes: [UInt8]) throws(StorageError) {
        try bytes.withBytes { buffer throws(StorageError) in try write(file, buffer) }
    }

    /// Closes `file` after another failure, which is the error that matters; a failure to close
    /// as well is logged, not thrown, so it cannot hide the first one.
    func close(_ file: WALFileHandle, afterFailureLoggingTo logger: Logger) {
        do throws(StorageError) { try close(file) } catch {
            logger.warning("closing a file after a failed operation failed too", metadata: ["file": "\(file.path)", "error": "\(error)"])
        }
    }

}
