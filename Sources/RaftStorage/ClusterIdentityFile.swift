/// The id of the cluster a data directory belongs to: 16 bytes, printed as 32 hex digits.
///
/// Peers exchange it and refuse each other when it differs (docs/security.md, "Cluster
/// identity"), so a node of one cluster can never vote in or replicate to another cluster whose
/// certificates the same CA signed. It is written once per data directory (``ClusterIdentityFile``)
/// and changes only through `quorum snapshot restore` and `quorum node --force-new-cluster`.
public struct ClusterID: Hashable, Sendable, CustomStringConvertible {
    /// The 16 bytes.
    public let bytes: [UInt8]

    /// The id made of `bytes`; `nil` unless there are exactly 16.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    /// The id written as 32 hex digits (either case); `nil` for anything else.
    public init?(hex: String) {
        let digits = Array(hex.utf8)
        guard digits.count == 32 else { return nil }
        var bytes: [UInt8] = []
        for pair in stride(from: 0, to: 32, by: 2) {
            guard let high = Self.nibble(digits[pair]), let low = Self.nibble(digits[pair + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        self.bytes = bytes
    }

    /// A random id (a system random number generator).
    public static func random() -> ClusterID {
        var generator = SystemRandomNumberGenerator()
        return ClusterID(unchecked: (0..<16).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }

    private init(unchecked bytes: [UInt8]) { self.bytes = bytes }

    /// 32 lowercase hex digits.
    public var description: String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    private static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// The file `CLUSTER_ID` in a node's data directory: which cluster the directory belongs to.
///
/// ```
/// "QCID" | version u16 (1) | reserved u16 (0) | cluster id (16 bytes) | CRC32C u32 of the 24 bytes before   (28 bytes)
/// ```
///
/// Written like `INCARNATION` (a temporary file, fsynced, renamed into place, directory
/// fsynced). A missing file means "not known yet" (the node derives or adopts one, see
/// `QuorumNode.openClusterIdentity`); a present but invalid file is damage (`.damaged`, naming
/// the file and byte offset), never silently replaced: replacing it would let the directory's
/// log join another cluster.
public enum ClusterIdentityFile {
    /// The file's name inside the data directory.
    public static let fileName = "CLUSTER_ID"
    static let temporaryName = "CLUSTER_ID.tmp"
    static let magic: [UInt8] = Array("QCID".utf8)
    /// The format version this build writes and reads.
    public static let version: UInt16 = 1
    static let size = 28

    /// The id stored in `directory`, or `nil` when it has no `CLUSTER_ID` file.
    public static func read(directory: String, fileSystem: any WALFileSystem = POSIXFileSystem()) throws(StorageError) -> ClusterID? {
        guard (try? fileSystem.listDirectory(directory))?.contains(fileName) == true else { return nil }
        let path = directory + "/" + fileName
        return try decode(fileSystem.readFile(path), path: path)
    }

    /// Writes `id` as `directory`'s cluster id (creating the directory), replacing any earlier one.
    public static func write(_ id: ClusterID, directory: String, fileSystem: any WALFileSystem = POSIXFileSystem()) throws(StorageError) {
        try fileSystem.createDirectory(directory)
        let temporary = directory + "/" + temporaryName
        if try fileSystem.listDirectory(directory).contains(temporaryName) { try fileSystem.removeFile(temporary) }
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
        try fileSystem.rename(temporary, to: directory + "/" + fileName)
        try fileSystem.syncDirectory(directory)
    }

    /// The file's bytes for `id`.
    public static func encode(_ id: ClusterID) -> [UInt8] {
        var bytes = magic
        bytes += [UInt8(truncatingIfNeeded: version), UInt8(truncatingIfNeeded: version >> 8), 0, 0]
        bytes += id.bytes
        let checksum = CRC32C.checksum(bytes)
        bytes += (0..<4).map { UInt8(truncatingIfNeeded: checksum >> (8 * UInt32($0))) }
        return bytes
    }

    /// The id in a file's bytes; every way the bytes can be wrong is a `.damaged` error.
    public static func decode(_ bytes: [UInt8], path: String) throws(StorageError) -> ClusterID {
        func damaged(_ offset: Int, _ reason: String) -> StorageError {
            StorageError(
                code: .damaged,
                message: "\(path) is damaged at byte offset \(offset): \(reason). The file names the cluster this data "
                    + "directory belongs to (\(size) bytes). Do not edit or delete it alone: wipe the whole data directory "
                    + "and let this node rejoin its cluster (docs/operations.md)",
                file: path, offset: offset)
        }
        guard bytes.count == size else { throw damaged(min(bytes.count, size), "it is \(bytes.count) bytes long, expected \(size)") }
        guard Array(bytes[0..<4]) == magic else { throw damaged(0, "it does not start with \"QCID\"") }
        let version = UInt16(bytes[4]) | UInt16(bytes[5]) << 8
        guard version == Self.version else { throw damaged(4, "format version \(version), this build reads \(Self.version)") }
        let stored = (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[24 + $1]) << (8 * UInt32($1)) }
        let computed = CRC32C.checksum(Array(bytes[0..<24]))
        guard stored == computed else {
            throw damaged(24, "checksum mismatch (stored 0x\(String(stored, radix: 16)), computed 0x\(String(computed, radix: 16)))")
        }
        guard let id = ClusterID(bytes: Array(bytes[8..<24])) else { throw damaged(8, "the id is not 16 bytes") }
        return id
    }
}
