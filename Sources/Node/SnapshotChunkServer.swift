import Logging
import RaftCore
import RaftStorage

/// Fills the snapshot chunks the core sends followers (`Action.sendSnapshotChunk`) from the
/// snapshot files, so the core need not keep the image in memory (issue #18).
///
/// Each snapshot being sent is read through a reader that holds its file open, kept until the
/// core no longer sends that snapshot (`Instance.snapshotsInTransfer`): a transfer keeps the
/// snapshot it started with, and a newer snapshot deletes the older file (an open file stays
/// readable). A chunk of a snapshot that is not the store's current one and has no reader
/// (a newer snapshot was saved before the transfer's first chunk was read, or this node
/// restarted mid-transfer) is not sent: the driver tells the core, which starts the transfer over
/// from its current snapshot (`Raft.Instance.snapshotUnreadable(through:)`) — or, if that is the
/// unreadable one, takes the chunk as lost and asks again after an election timeout.
struct SnapshotChunkServer {
    /// An open snapshot file and where the state machine image starts in its stored data
    /// (after the envelope, `SnapshotEnvelope`).
    private struct Source {
        var reader: any SnapshotDataReader
        var imageOffset: Int
    }

    private var sources: [Raft.LogIndex: Source] = [:]

    /// The message `read` asks for, with its bytes read from the snapshot's file; `nil` if the
    /// file cannot be read (logged).
    mutating func fill(_ read: Raft.SnapshotChunkRead, from store: any RaftLogStore, logger: Logger) -> Raft.Message? {
        guard let chunk = read.chunk else { return nil }
        let metadata = chunk.metadata
        do throws(RaftDriverFailure) {
            let source = try source(for: metadata, from: store)
            let bytes: [UInt8]
            do {
                bytes = try source.reader.read(offset: source.imageOffset + chunk.offset, length: read.length)
            } catch {
                throw RaftDriverFailure(message: "\(error)")
            }
            guard bytes.count == read.length else {
                throw RaftDriverFailure(message: "the image holds \(source.reader.count - source.imageOffset) bytes, "
                    + "fewer than the chunk at \(chunk.offset) of \(read.length) needs")
            }
            return read.message(filledWith: bytes)
        } catch {
            sources[metadata.index] = nil
            logger.warning("cannot read a snapshot chunk; the transfer starts over from the current snapshot, or the chunk is sent again after an election timeout", metadata: [
                "snapshot": "\(metadata.index)", "offset": "\(chunk.offset)", "reason": "\(error.message)",
            ])
            return nil
        }
    }

    /// Closes the files of snapshots no longer sent.
    mutating func keep(only indexes: @autoclosure () -> Set<Raft.LogIndex>) {
        guard !sources.isEmpty else { return }
        let kept = indexes()
        sources = sources.filter { kept.contains($0.key) }
    }

    private mutating func source(for metadata: Raft.SnapshotMetadata, from store: any RaftLogStore) throws(RaftDriverFailure) -> Source {
        if let open = sources[metadata.index] { return open }
        guard let reader = store.openSnapshotReader() else {
            throw RaftDriverFailure(message: "the store has no readable snapshot")
        }
        guard reader.index == metadata.index, reader.term == metadata.term else {
            throw RaftDriverFailure(message: "the store's snapshot is at \(reader.index) in \(reader.term), "
                + "no longer the one being sent")
        }
        let header: [UInt8]
        do {
            header = try reader.read(offset: 0, length: SnapshotEnvelope.fixedHeaderSize)
        } catch {
            throw RaftDriverFailure(message: "\(error)")
        }
        let source = Source(reader: reader, imageOffset: try SnapshotEnvelope.imageOffset(header: header, storedCount: reader.count,
                                                                                          index: metadata.index))
        sources[metadata.index] = source
        return source
    }
}
