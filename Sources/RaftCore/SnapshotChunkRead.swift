extension Raft {
    /// A snapshot this node holds in its storage: where it sits and how many bytes its image has.
    ///
    /// Why no bytes: the image of a large state is hundreds of MiB, and the core kept a copy of
    /// it in memory for as long as it was current, only to send followers that fall behind
    /// (issue #18, "Memory"). The shell keeps the image in its snapshot file; the core asks for
    /// each chunk it sends (``SnapshotChunkRead``).
    public struct LocalSnapshot: Hashable, Sendable {
        /// Where the snapshot sits.
        public var metadata: SnapshotMetadata
        /// The size of the state machine image, in bytes.
        public var byteCount: Int
        /// Creates a value.
        public init(metadata: SnapshotMetadata, byteCount: Int) {
            self.metadata = metadata
            self.byteCount = byteCount
        }
    }

    /// An InstallSnapshot chunk whose bytes the shell reads from its copy of the snapshot's image
    /// before sending it (`Action.sendSnapshotChunk`).
    public struct SnapshotChunkRead: Hashable, Sendable {
        /// The message to send: an `.installSnapshot` whose chunk is still empty.
        public var message: Message
        /// How many bytes of the image to read, from the chunk's offset.
        public var length: Int

        /// Creates a value.
        public init(message: Message, length: Int) {
            self.message = message
            self.length = length
        }

        /// The chunk's position: the snapshot (whose image to read) and the offset.
        public var chunk: InstallSnapshot? {
            if case .installSnapshot(let chunk) = message.body { return chunk }
            return nil
        }

        /// The message with `bytes` (the image's bytes `offset ..< offset + length`) as its chunk.
        public func message(filledWith bytes: [UInt8]) -> Message {
            guard case .installSnapshot(var chunk) = message.body else { return message }
            chunk.chunk = bytes
            var filled = message
            filled.body = .installSnapshot(chunk)
            return filled
        }
    }
}
