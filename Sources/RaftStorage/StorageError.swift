#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An error from a Raft log store. `message` says what happened and what to do about it.
public struct StorageError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What kind of failure this is, for callers that react differently to each.
    public enum Code: String, Hashable, Sendable {
        /// A read or write failed (`errno` says why). Nothing in the failed call was acknowledged;
        /// the store keeps working and later calls may succeed (e.g. once disk space returns).
        case io
        /// The disk is full (`ENOSPC`). Nothing in the failed call was acknowledged; free space
        /// and retry.
        case diskFull
        /// A sync failed, or a write could not be undone. The store is stopped for good: every
        /// pending and later call fails with this code. Restart the node; it recovers from its
        /// WAL and its peers (never retry the sync: see "fsyncgate").
        case fatal
        /// The data directory holds damaged or inconsistent data before its tail. The node must
        /// not start from it: wipe the data directory and let the node rejoin from a peer.
        case damaged
        /// The store was closed.
        case closed
        /// The caller asked for something the log cannot do (a gap, an index behind the snapshot).
        case invalidArgument
        /// Another process is using the data directory (its `LOCK` file is held).
        case locked
    }

    /// What kind of failure this is.
    public var code: Code
    /// A sentence for an operator: what happened, where, and what to do.
    public var message: String
    /// The file concerned, if any.
    public var file: String?
    /// The byte offset in `file` concerned, if any.
    public var offset: Int?
    /// The `errno` of a failed system call, if any.
    public var errno: Int32?

    /// Creates an error; prefer the static constructors, which write the operator message.
    public init(code: Code, message: String, file: String? = nil, offset: Int? = nil, errno: Int32? = nil) {
        self.code = code
        self.message = message
        self.file = file
        self.offset = offset
        self.errno = errno
    }

    /// The message, prefixed with the code.
    public var description: String { "\(code.rawValue): \(message)" }

    /// A failed system call on `path`.
    static func system(_ operation: String, path: String, errno number: Int32) -> StorageError {
        let reason = String(cString: strerror(number))
        if number == ENOSPC {
            return StorageError(
                code: .diskFull,
                message: "\(operation) \(path) failed: \(reason) (ENOSPC). Nothing from this call was "
                    + "acknowledged; free disk space and retry.",
                file: path, errno: number)
        }
        return StorageError(
            code: .io, message: "\(operation) \(path) failed: \(reason) (errno \(number)).",
            file: path, errno: number)
    }

    /// Damage in the data directory at `offset` of `file`.
    static func damaged(file: String, offset: Int, reason: String) -> StorageError {
        StorageError(
            code: .damaged,
            message: "\(file) is damaged at byte offset \(offset): \(reason). This is not a torn tail, "
                + "so acknowledged data may be lost and the node must not start from it. Run "
                + "`quorum wal inspect` on the data directory for details, then wipe the data directory "
                + "and let this node rejoin the cluster (it is restored from a peer's snapshot and log).",
            file: file, offset: offset)
    }

    /// The store stopped after a sync or undo failure; `cause` is the original failure.
    static func fatal(_ cause: StorageError) -> StorageError {
        StorageError(
            code: .fatal,
            message: "the WAL is stopped after a failed sync or write: \(cause.message) Nothing after the "
                + "last successful sync was acknowledged. Restart the node; it recovers from its WAL "
                + "and its peers.",
            file: cause.file, offset: cause.offset, errno: cause.errno)
    }

    /// The store was closed.
    static let closed = StorageError(
        code: .closed, message: "the log store is closed; open it again to use it.")
}
