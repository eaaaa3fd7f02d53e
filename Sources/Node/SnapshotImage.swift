import RaftCore
import RaftStorage

/// A snapshot's state machine image, read in pieces: from the snapshot file after a restart, or
/// from memory when the leader sent it.
///
/// Why pieces: the image of 1M pending jobs is ~150 MiB, and a restore that read it whole held
/// it beside the state it was building: a restarted node peaked ~250 MiB above where it settled
/// (issue #18). A state machine that decodes from pieces holds one at a time.
public protocol SnapshotImage: Sendable {
    /// The image's size in bytes.
    var count: Int { get }
    /// The image's bytes `offset ..< offset + length` (clamped to `count`).
    func read(offset: Int, length: Int) throws -> [UInt8]
}

/// An image held in memory (one the leader sent, assembled by the Raft core).
public struct InMemorySnapshotImage: SnapshotImage {
    private let bytes: [UInt8]
    /// An image of `bytes`.
    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    /// See ``SnapshotImage/count``.
    public var count: Int { bytes.count }
    /// See ``SnapshotImage/read(offset:length:)``.
    public func read(offset: Int, length: Int) throws -> [UInt8] {
        let start = min(max(0, offset), bytes.count)
        return Array(bytes[start..<min(bytes.count, start + max(0, length))])
    }
}

/// The image inside a stored snapshot: its data after the envelope (``SnapshotEnvelope``), read
/// through the store's reader (`pread` on the snapshot file, held open).
struct StoredSnapshotImage: SnapshotImage {
    let reader: any SnapshotDataReader
    /// Where the image starts in the stored data.
    let start: Int

    var count: Int { reader.count - start }

    func read(offset: Int, length: Int) throws -> [UInt8] {
        let from = min(max(0, offset), count)
        return try reader.read(offset: start + from, length: min(count - from, max(0, length)))
    }
}
