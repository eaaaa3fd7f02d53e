/// The random id a data directory receives when it is created: its *incarnation*.
///
/// A node whose data directory was wiped comes back with the same node id but none of its log,
/// term or vote. Its incarnation changes with the directory, so the cluster can tell the new
/// directory from the one that voted and acknowledged entries before (docs/raft.md, "Log
/// repair"). The id lives in its own small file, `INCARNATION`, written and fsynced (through a
/// temporary file, renamed into place, then a directory sync) and checked on every open; the
/// node is meant to open it before the WAL (not wired yet):
///
/// ```
/// "QINC" | version u16 (1) | reserved u16 (0) | incarnation u64 (never 0) | CRC32C u32 of the 16 bytes before
/// ```
///
/// (little-endian). A missing file means a new incarnation: that is always the safe direction,
/// because a new incarnation only makes the node more careful. A present but invalid file is
/// damage and stops the open.
public struct DataDirectoryIncarnation: Hashable, Sendable, CustomStringConvertible {
    /// The id; never 0 (0 stands for "unknown" in messages and configurations).
    public let id: UInt64
    /// Whether this open created the file (a new or wiped data directory).
    public let isNew: Bool

    /// The file's name inside the data directory.
    public static let fileName = "INCARNATION"
    static let temporaryName = "INCARNATION.tmp"
    static let magic: [UInt8] = Array("QINC".utf8)
    static let version: UInt16 = 1
    static let size = 20

    /// Reads the incarnation of `directory`, creating the directory and a new incarnation when
    /// it has none. `newID` draws the id for a new file (a system random number by default; it is
    /// retried until non-zero). Throws `.damaged` (naming the file) for an invalid file and
    /// `.io`/`.diskFull` when the file cannot be read or written.
    public static func openOrCreate(
        directory: String, fileSystem: any WALFileSystem = POSIXFileSystem(),
        newID: () -> UInt64 = { UInt64.random(in: 1...UInt64.max) }
    ) throws(StorageError) -> DataDirectoryIncarnation {
        try fileSystem.createDirectory(directory)
        let names = try fileSystem.listDirectory(directory)
        let path = directory + "/" + fileName
        if names.contains(fileName) {
            return DataDirectoryIncarnation(id: try decode(fileSystem.readFile(path), path: path), isNew: false)
        }
        // A temporary file left by a crash during creation was never renamed into place: the
        // directory has no incarnation yet.
        let temporary = directory + "/" + temporaryName
        if names.contains(temporaryName) { try fileSystem.removeFile(temporary) }
        var id = newID()
        while id == 0 { id = newID() }
        let file = try fileSystem.openForAppend(temporary, create: true)
        do throws(StorageError) {
            try fileSystem.truncate(file, to: 0)
            try fileSystem.write(file, encode(id))
            try fileSystem.sync(file)
            try fileSystem.close(file)
        } catch {
            try? fileSystem.close(file)
            throw error
        }
        try fileSystem.rename(temporary, to: path)
        try fileSystem.syncDirectory(directory)
        return DataDirectoryIncarnation(id: id, isNew: true)
    }

    /// The file's bytes for `id`.
    static func encode(_ id: UInt64) -> [UInt8] {
        var bytes = magic
        bytes += littleEndian(UInt64(version), count: 2) + [0, 0]
        bytes += littleEndian(id, count: 8)
        bytes += littleEndian(UInt64(CRC32C.checksum(bytes)), count: 4)
        return bytes
    }

    /// The id in a file's bytes; every way the bytes can be wrong is a `.damaged` error.
    static func decode(_ bytes: [UInt8], path: String) throws(StorageError) -> UInt64 {
        func damaged(_ offset: Int, _ reason: String) -> StorageError {
            StorageError(
                code: .damaged,
                message: "\(path) is damaged at byte offset \(offset): \(reason). The file holds this data directory's "
                    + "incarnation id (\(size) bytes, written once when the directory was created). Do not edit or "
                    + "delete it alone: wipe the whole data directory and let this node rejoin the cluster as a new "
                    + "incarnation (docs/storage.md, \"When a node refuses to start\").",
                file: path, offset: offset)
        }
        guard bytes.count == size else { throw damaged(min(bytes.count, size), "it is \(bytes.count) bytes long, expected \(size)") }
        guard Array(bytes[0..<4]) == magic else { throw damaged(0, "it does not start with \"QINC\"") }
        let version = UInt16(readLittleEndian(bytes, at: 4, count: 2))
        guard version == Self.version else { throw damaged(4, "format version \(version), this build reads \(Self.version)") }
        let stored = UInt32(readLittleEndian(bytes, at: 16, count: 4))
        let computed = CRC32C.checksum(Array(bytes[0..<16]))
        guard stored == computed else {
            throw damaged(16, "checksum mismatch (stored 0x\(String(stored, radix: 16)), computed 0x\(String(computed, radix: 16)))")
        }
        let id = readLittleEndian(bytes, at: 8, count: 8)
        guard id != 0 else { throw damaged(8, "the incarnation id is 0, which is never written") }
        return id
    }

    private static func littleEndian(_ value: UInt64, count: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) }
    }

    /// `count` ≤ 8 bytes at `offset`; the caller checked the length.
    private static func readLittleEndian(_ bytes: [UInt8], at offset: Int, count: Int) -> UInt64 {
        (0..<count).reduce(UInt64(0)) { value, position in value | UInt64(bytes[offset + position]) << (8 * UInt64(position)) }
    }

    /// `incarnation 0x… (new)` or `incarnation 0x…`.
    public var description: String { "incarnation 0x\(String(id, radix: 16))" + (isNew ? " (new)" : "") }
}
