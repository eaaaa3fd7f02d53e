import Crypto
import RaftCore
import RaftStorage
import SchedulerCore

/// A backup of a cluster (`quorum snapshot save`, `GET /api/cluster/snapshot`): the scheduler
/// state at one applied index with what a new cluster needs to start from it. docs/operations.md
/// ("Backups") is the operator's page; this is the format.
///
/// ```
/// offset     size  field
/// 0          4     magic "QBAK"
/// 4          2     format version u16 (``formatVersion``)
/// 6          2     reserved, zero
/// 8          4     header length H u32
/// 12         H     header: applied index u64 | term u64 | cluster id (16 bytes) | command format u32 |
///                  scheduler snapshot version u8 | taken at (ms since 1970) i64 | node id (u16 length + UTF-8) |
///                  membership (u32 length + RaftCore's configuration encoding) | CRC32C u32 of the header before it
/// 12+H       8     image length L u64
/// 20+H       L     the scheduler state image (`SchedulerState.snapshot()`, the bytes a Raft snapshot holds)
/// 20+H+L     32    SHA-256 of every byte before it
/// ```
///
/// All integers little-endian. The header has its own CRC32C so that damage is named: a header
/// that does not verify is reported as such (with its byte range) before the SHA-256 over the
/// whole file, which then can only fail for the image or the checksum itself. The SHA-256 is
/// computed while the file is streamed, so the node never holds the image twice.
public struct ClusterBackup: Sendable {
    /// This build writes and reads version 1.
    public static let formatVersion: UInt16 = 1
    static let magic: [UInt8] = Array("QBAK".utf8)
    /// Bytes before the header: magic, version, reserved, header length.
    static let prefixBytes = 12
    static let digestBytes = 32
    /// The largest header a reader accepts (a membership of thousands of members fits).
    static let maximumHeaderBytes = 16 << 20

    /// What the header says.
    public struct Header: Hashable, Sendable {
        /// The last log index the image includes.
        public var index: UInt64
        /// The term of that entry (0 when the node no longer had it: the leader's term then).
        public var term: UInt64
        /// The id of the cluster the backup was taken from.
        public var clusterID: ClusterID
        /// `CommandCodec.buildFormatVersion` of the build that wrote it.
        public var commandFormat: UInt32
        /// The scheduler snapshot version of the image (`SchedulerSnapshot.version` of that build).
        public var snapshotVersion: UInt8
        /// When it was taken, in milliseconds since 1970 (the leader's wall clock).
        public var takenAtMilliseconds: Int64
        /// The node that wrote it (the leader).
        public var nodeID: String
        /// The configuration as of `index`.
        public var membership: Raft.Membership

        /// A header with every field.
        public init(index: UInt64, term: UInt64, clusterID: ClusterID, commandFormat: UInt32 = CommandCodec.buildFormatVersion,
                    snapshotVersion: UInt8 = SchedulerSnapshot.version, takenAtMilliseconds: Int64, nodeID: String,
                    membership: Raft.Membership) {
            self.index = index
            self.term = term
            self.clusterID = clusterID
            self.commandFormat = commandFormat
            self.snapshotVersion = snapshotVersion
            self.takenAtMilliseconds = takenAtMilliseconds
            self.nodeID = nodeID
            self.membership = membership
        }

        /// The header's bytes, its CRC32C included.
        func encoded() -> [UInt8] {
            var bytes: [UInt8] = []
            bytes += Bytes.little(index, 8) + Bytes.little(term, 8) + clusterID.bytes
            bytes += Bytes.little(UInt64(commandFormat), 4) + [snapshotVersion]
            bytes += Bytes.little(UInt64(bitPattern: takenAtMilliseconds), 8)
            let node = Array(nodeID.utf8.prefix(Int(UInt16.max)))
            bytes += Bytes.little(UInt64(node.count), 2) + node
            let configuration = membership.encoded
            bytes += Bytes.little(UInt64(configuration.count), 4) + configuration
            bytes += Bytes.little(UInt64(CRC32C.checksum(bytes)), 4)
            return bytes
        }
    }

    /// The header.
    public var header: Header
    /// The scheduler state image.
    public var image: [UInt8]

    /// A backup of `image` described by `header`.
    public init(header: Header, image: [UInt8]) {
        self.header = header
        self.image = image
    }

    /// Everything before the image: magic, version, header, image length.
    static func prefix(header: Header, imageBytes: Int) -> [UInt8] {
        let encodedHeader = header.encoded()
        var bytes = magic + Bytes.little(UInt64(formatVersion), 2) + [0, 0]
        bytes += Bytes.little(UInt64(encodedHeader.count), 4) + encodedHeader
        bytes += Bytes.little(UInt64(imageBytes), 8)
        return bytes
    }

    /// Hands the file's bytes to `emit` in pieces of at most `chunkBytes` (plus the small prefix
    /// and the checksum), hashing as it goes: the image is sliced, never copied whole.
    public static func stream(header: Header, image: [UInt8], chunkBytes: Int = 1 << 20,
                              emit: ([UInt8]) async throws -> Void) async throws {
        var hasher = SHA256()
        let head = prefix(header: header, imageBytes: image.count)
        hasher.update(data: head)
        try await emit(head)
        var offset = 0
        let step = max(1, chunkBytes)
        while offset < image.count {
            let end = min(image.count, offset + step)
            let chunk = Array(image[offset..<end])
            hasher.update(data: chunk)
            try await emit(chunk)
            offset = end
        }
        try await emit(Array(hasher.finalize()))
    }

    /// The whole file in memory (tests, small states).
    public func encoded() -> [UInt8] {
        var bytes = Self.prefix(header: header, imageBytes: image.count) + image
        bytes += Array(SHA256.hash(data: bytes))
        return bytes
    }

    /// Reads and verifies a backup file's bytes. Every way they can be wrong is a
    /// ``ClusterBackupError`` naming the byte offset and the field.
    public init(decoding bytes: [UInt8]) throws(ClusterBackupError) {
        func damaged(_ offset: Int, _ field: String, _ reason: String) -> ClusterBackupError {
            ClusterBackupError(offset: offset, field: field, reason: reason)
        }
        guard bytes.count >= Self.prefixBytes else {
            throw damaged(bytes.count, "file", "the file is \(bytes.count) bytes long, shorter than the \(Self.prefixBytes)-byte prefix")
        }
        guard Array(bytes[0..<4]) == Self.magic else { throw damaged(0, "magic", "the file does not start with \"QBAK\": not a Quorum backup") }
        let version = UInt16(Bytes.read(bytes, 4, 2))
        guard version == Self.formatVersion else {
            throw damaged(4, "format version", "format version \(version); this build reads version \(Self.formatVersion)")
        }
        let headerLength = Int(Bytes.read(bytes, 8, 4))
        guard headerLength >= 4, headerLength <= Self.maximumHeaderBytes, headerLength <= bytes.count - Self.prefixBytes else {
            throw damaged(8, "header length", "header length \(headerLength) does not fit the \(bytes.count)-byte file")
        }
        let headerEnd = Self.prefixBytes + headerLength
        let storedCRC = UInt32(Bytes.read(bytes, headerEnd - 4, 4))
        let computedCRC = CRC32C.checksum(Array(bytes[Self.prefixBytes..<(headerEnd - 4)]))
        guard storedCRC == computedCRC else {
            throw damaged(Self.prefixBytes, "header",
                          "the header (bytes \(Self.prefixBytes)..<\(headerEnd)) does not verify: CRC32C stored 0x\(String(storedCRC, radix: 16)), "
                            + "computed 0x\(String(computedCRC, radix: 16))")
        }
        header = try Self.decodeHeader(Array(bytes[Self.prefixBytes..<(headerEnd - 4)]), at: Self.prefixBytes)
        guard bytes.count >= headerEnd + 8 else { throw damaged(headerEnd, "image length", "the file ends before the image length") }
        let imageLength = Bytes.read(bytes, headerEnd, 8)
        let imageStart = headerEnd + 8
        guard imageLength <= UInt64(bytes.count - imageStart), Int(imageLength) == bytes.count - imageStart - Self.digestBytes else {
            throw damaged(headerEnd, "image length",
                          "image length \(imageLength) does not match the file: \(bytes.count - imageStart) bytes follow it, "
                            + "expected the image and a \(Self.digestBytes)-byte SHA-256 (a truncated or extended file)")
        }
        let imageEnd = imageStart + Int(imageLength)
        let computed = Array(SHA256.hash(data: bytes[0..<imageEnd]))
        guard computed == Array(bytes[imageEnd...]) else {
            throw damaged(imageStart, "image",
                          "the SHA-256 (bytes \(imageEnd)..<\(bytes.count)) does not match the bytes before it; the header verified, so the "
                            + "damage is in the state image (bytes \(imageStart)..<\(imageEnd)) or the checksum itself")
        }
        image = Array(bytes[imageStart..<imageEnd])
    }

    private static func decodeHeader(_ bytes: [UInt8], at base: Int) throws(ClusterBackupError) -> Header {
        var offset = 0
        func need(_ count: Int, _ field: String) throws(ClusterBackupError) {
            guard count <= bytes.count - offset else {
                throw ClusterBackupError(offset: base + offset, field: field, reason: "the header ends inside the field")
            }
        }
        func integer(_ count: Int, _ field: String) throws(ClusterBackupError) -> UInt64 {
            try need(count, field)
            defer { offset += count }
            return Bytes.read(bytes, offset, count)
        }
        func raw(_ count: Int, _ field: String) throws(ClusterBackupError) -> [UInt8] {
            try need(count, field)
            defer { offset += count }
            return Array(bytes[offset..<(offset + count)])
        }
        let index = try integer(8, "index")
        let term = try integer(8, "term")
        let clusterBytes = try raw(16, "cluster id")
        let commandFormat = UInt32(try integer(4, "command format"))
        let snapshotVersion = UInt8(try integer(1, "snapshot version"))
        let takenAt = Int64(bitPattern: try integer(8, "taken at"))
        let nodeLength = Int(try integer(2, "node id length"))
        let nodeStart = base + offset
        let nodeBytes = try raw(nodeLength, "node id")
        guard let nodeID = String(validating: nodeBytes, as: UTF8.self) else {
            throw ClusterBackupError(offset: nodeStart, field: "node id", reason: "not UTF-8")
        }
        let membershipLength = Int(try integer(4, "membership length"))
        let membershipStart = base + offset
        guard let membership = Raft.Membership(encoded: try raw(membershipLength, "membership")) else {
            throw ClusterBackupError(offset: membershipStart, field: "membership", reason: "not a valid Raft configuration encoding")
        }
        guard offset == bytes.count else {
            throw ClusterBackupError(offset: base + offset, field: "header", reason: "\(bytes.count - offset) unexpected bytes after the membership")
        }
        guard let clusterID = ClusterID(bytes: clusterBytes) else {
            throw ClusterBackupError(offset: base + 16, field: "cluster id", reason: "not 16 bytes")
        }
        return Header(index: index, term: term, clusterID: clusterID, commandFormat: commandFormat, snapshotVersion: snapshotVersion,
                      takenAtMilliseconds: takenAt, nodeID: nodeID, membership: membership)
    }
}

/// A backup file that is not a valid, intact backup: where and why.
public struct ClusterBackupError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The byte offset in the file of the field that is wrong.
    public var offset: Int
    /// The field's name as the format lists it (`header`, `image`, `membership`…).
    public var field: String
    /// Why.
    public var reason: String

    /// `damaged at byte offset N (field): reason; …`
    public var description: String {
        "damaged at byte offset \(offset) (\(field)): \(reason); the backup cannot be restored — use another backup "
            + "(docs/operations.md, \"Backups\")"
    }
}

/// Little-endian integers of at most 8 bytes.
enum Bytes {
    static func little(_ value: UInt64, _ count: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) }
    }

    /// `count` ≤ 8 bytes at `offset`; the caller checked the length.
    static func read(_ bytes: [UInt8], _ offset: Int, _ count: Int) -> UInt64 {
        (0..<count).reduce(UInt64(0)) { value, position in value | UInt64(bytes[offset + position]) << (8 * UInt64(position)) }
    }
}
