#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import RaftCore

/// The stored data of one snapshot (`RaftSnapshot.storedData`), read in pieces.
///
/// Why: a leader sends a follower that fell behind its snapshot chunk by chunk; reading the
/// chunks from the snapshot file instead of keeping the image in memory saves the image (149 MiB
/// with 1,000,000 pending jobs, issue #18). A reader stays valid after a newer snapshot deleted
/// its file (it holds the file open), so a transfer keeps the snapshot it started with.
public protocol SnapshotDataReader: AnyObject, Sendable {
    /// The snapshot's last included index.
    var index: Raft.LogIndex { get }
    /// The snapshot's last included term.
    var term: Raft.Term { get }
    /// The number of stored bytes.
    var count: Int { get }
    /// The stored bytes `offset ..< offset + length` (clamped to `count`).
    func read(offset: Int, length: Int) throws(StorageError) -> [UInt8]
    /// Checks what is read against what was written (a file's CRC32C, streamed over the whole
    /// file in 1 MiB pieces); `.damaged` when they differ. A restore verifies before it decodes.
    func verify() throws(StorageError)
}

extension RaftLogStore {
    /// A reader of the latest durable snapshot's data (a copy in memory: stores that keep the
    /// data on disk read it from there instead), or `nil` without one.
    public func openSnapshotReader() -> (any SnapshotDataReader)? {
        snapshot.map { InMemorySnapshotReader($0) }
    }
}

/// A snapshot's stored data held in memory.
final class InMemorySnapshotReader: SnapshotDataReader {
    let index: Raft.LogIndex
    let term: Raft.Term
    private let data: [UInt8]

    init(_ snapshot: RaftSnapshot) {
        index = snapshot.index
        term = snapshot.term
        data = snapshot.storedData
    }

    var count: Int { data.count }

    func read(offset: Int, length: Int) throws(StorageError) -> [UInt8] {
        let start = min(max(0, offset), data.count)
        return Array(data[start..<min(data.count, start + max(0, length))])
    }

    /// Nothing to check: the store verified the data when it read it into memory.
    func verify() throws(StorageError) {}
}

/// A snapshot file held open: its data is read with `pread` at the data's offset in the file.
///
/// Reads do not verify the file's checksum (it covers the whole file): the file was verified
/// when the store opened it, or written and synced by this process, and a follower decodes what
/// it installs, stopping on an image it cannot decode. A restore from the file calls
/// ``verify()`` first, a streamed pass over the file.
final class SnapshotFileReader: SnapshotDataReader {
    let index: Raft.LogIndex
    let term: Raft.Term
    let count: Int
    private let descriptor: Int32
    private let path: String

    /// Opens the snapshot file at `path`; throws if it cannot be opened or its header does not
    /// name `index` and `term`.
    init(path: String, index: Raft.LogIndex, term: Raft.Term) throws(StorageError) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .system("open", path: path, errno: errno) }
        self.descriptor = descriptor
        self.path = path
        self.index = index
        self.term = term
        var header = [UInt8](repeating: 0, count: SnapshotFile.headerSize)
        let got = header.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, 0) }
        func field<T: FixedWidthInteger>(_ offset: Int, as type: T.Type) -> T {
            header.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: T.self)) }
        }
        let length = field(24, as: UInt64.self)
        guard got == SnapshotFile.headerSize, Array(header[0..<4]) == SnapshotFile.magic,
              field(4, as: UInt16.self) == SnapshotFile.version, field(8, as: UInt64.self) == index.rawValue,
              field(16, as: UInt64.self) == term.rawValue, length <= UInt64(Int.max)
        else {
            _ = close(descriptor)
            self.count = 0
            throw .damaged(file: path, offset: 0, reason: "the header does not name the snapshot at \(index.rawValue) in \(term.rawValue)")
        }
        self.count = Int(length)
    }

    deinit { _ = close(descriptor) }

    /// The size of the pieces ``verify()`` reads.
    static let verifyPieceBytes = 1 << 20

    func verify() throws(StorageError) {
        let covered = SnapshotFile.headerSize + count
        var crc = CRC32C.start
        var offset = 0
        while offset < covered {
            let size = min(Self.verifyPieceBytes, covered - offset)
            let piece = try preadBytes(descriptor, count: size, at: offset, path: path)
            guard piece.count == size else {
                throw .damaged(file: path, offset: offset + piece.count, reason: "the file ends before its data")
            }
            crc = piece.withUnsafeBytes { CRC32C.update(crc, $0) }
            offset += size
        }
        // One byte more than the checksum: a longer file is as damaged as a shorter one.
        let trailer = try preadBytes(descriptor, count: 5, at: covered, path: path)
        guard trailer.count == 4 else {
            throw .damaged(file: path, offset: covered, reason: "\(trailer.count) bytes follow the data, not its 4-byte checksum")
        }
        let stored = trailer.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self)) }
        guard CRC32C.finish(crc) == stored else {
            throw .damaged(file: path, offset: covered, reason: "checksum mismatch over \(covered) bytes")
        }
    }

    func read(offset: Int, length: Int) throws(StorageError) -> [UInt8] {
        let start = min(max(0, offset), count)
        let size = min(count - start, max(0, length))
        let bytes = try preadBytes(descriptor, count: size, at: SnapshotFile.headerSize + start, path: path)
        guard bytes.count == size else {
            throw .damaged(file: path, offset: SnapshotFile.headerSize + start + bytes.count, reason: "the file ends before its data")
        }
        return bytes
    }
}
