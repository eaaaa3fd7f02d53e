import RaftCore
import RaftStorage

/// The bytes the driver stores in a `RaftSnapshot`: the membership as of the snapshot (which the
/// core needs on restart, Raft §7 "last included configuration") and the state machine image.
///
/// Layout: `"QNS2"`, a `u32` little-endian length, the membership in RaftCore's configuration
/// encoding (`Raft.Membership.encoded`, the same bytes a config-change entry carries), then the
/// state machine image to the end.
public enum SnapshotEnvelope {
    private static let magic: [UInt8] = Array("QNS2".utf8)

    /// Encodes `snapshot` for the log store: the envelope header is the stored snapshot's
    /// `dataPrefix` and the image its `data`, the same array as `snapshot.data` (no copy of the
    /// image: it can be hundreds of MiB, and the core keeps its own reference, issue #18).
    public static func storeSnapshot(_ snapshot: Raft.Snapshot) -> RaftSnapshot {
        RaftSnapshot(index: snapshot.metadata.index, term: snapshot.metadata.term,
                     dataPrefix: header(membership: snapshot.metadata.membership), data: snapshot.data)
    }

    /// The bytes before the image: the magic, the membership's length and the membership.
    static func header(membership: Raft.Membership) -> [UInt8] {
        let encoded = membership.encoded
        var header = magic
        header.reserveCapacity(magic.count + 4 + encoded.count)
        for shift in 0..<4 { header.append(UInt8(truncatingIfNeeded: encoded.count >> (8 * shift))) }
        header.append(contentsOf: encoded)
        return header
    }

    /// The bytes before the membership: the magic and the membership's length.
    static let fixedHeaderSize = magic.count + 4

    /// Decodes a stored snapshot; throws if the bytes were not written by `storeSnapshot`.
    public static func raftSnapshot(_ stored: RaftSnapshot) throws(RaftDriverFailure) -> Raft.Snapshot {
        let bytes = stored.storedData
        let start = try imageOffset(header: Array(bytes.prefix(fixedHeaderSize)), storedCount: bytes.count, index: stored.index)
        guard let membership = Raft.Membership(encoded: Array(bytes[fixedHeaderSize..<start])) else {
            throw damaged(stored.index, "membership is not a valid configuration")
        }
        return Raft.Snapshot(
            metadata: Raft.SnapshotMetadata(index: stored.index, term: stored.term, membership: membership),
            data: Array(bytes[start...]))
    }

    /// The metadata and the image of the stored snapshot `reader` reads, without reading the
    /// image: the file is verified first (its CRC32C, streamed in 1 MiB pieces), then only the
    /// envelope is read. The restore reads the image from the file in windows (issue #18).
    static func storedImage(_ reader: any SnapshotDataReader) throws(RaftDriverFailure)
        -> (metadata: Raft.SnapshotMetadata, image: any SnapshotImage) {
        func read(_ offset: Int, _ length: Int) throws(RaftDriverFailure) -> [UInt8] {
            do {
                return try reader.read(offset: offset, length: length)
            } catch {
                throw unreadable(reader.index, error)
            }
        }
        do {
            try reader.verify()
        } catch {
            throw unreadable(reader.index, error)
        }
        let start = try imageOffset(header: read(0, fixedHeaderSize), storedCount: reader.count, index: reader.index)
        guard let membership = Raft.Membership(encoded: try read(fixedHeaderSize, start - fixedHeaderSize)) else {
            throw damaged(reader.index, "membership is not a valid configuration")
        }
        return (Raft.SnapshotMetadata(index: reader.index, term: reader.term, membership: membership),
                StoredSnapshotImage(reader: reader, start: start))
    }

    /// Where the state machine image starts in a stored snapshot of `storedCount` bytes whose
    /// first bytes are `header` (at least ``fixedHeaderSize`` of them): after the membership.
    static func imageOffset(header: [UInt8], storedCount: Int, index: Raft.LogIndex) throws(RaftDriverFailure) -> Int {
        guard header.count >= fixedHeaderSize, storedCount >= fixedHeaderSize, Array(header[0..<magic.count]) == magic else {
            throw damaged(index, "bad magic")
        }
        var length = 0
        for shift in 0..<4 { length |= Int(header[magic.count + shift]) << (8 * shift) }
        guard length <= storedCount - fixedHeaderSize else { throw damaged(index, "membership overruns the data") }
        return fixedHeaderSize + length
    }

    private static func unreadable(_ index: Raft.LogIndex, _ error: StorageError) -> RaftDriverFailure {
        RaftDriverFailure(message: "the snapshot at index \(index.rawValue) cannot be read: \(error); "
            + "move the data directory aside and let the node rejoin from a peer")
    }

    private static func damaged(_ index: Raft.LogIndex, _ what: String) -> RaftDriverFailure {
        RaftDriverFailure(message: "snapshot at index \(index.rawValue) is not a Quorum node snapshot (\(what)); "
            + "move the data directory aside and let the node rejoin from a peer")
    }
}
