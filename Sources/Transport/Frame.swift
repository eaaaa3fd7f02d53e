import NIOCore

/// The namespace of Quorum's peer-to-peer transport: mutually authenticated TLS connections
/// between cluster members, the frame format they speak, and the cluster's certificates.
public enum Transport {}

extension Transport {
    /// One unit on the wire between two peers: a message-type tag and an opaque payload.
    ///
    /// On the wire a frame is
    ///
    /// ```
    /// +----------------+---------+------+-----------------+
    /// | length: UInt32 | version | type | payload ...     |
    /// | big endian     | UInt8   | UInt8| length - 2 bytes|
    /// +----------------+---------+------+-----------------+
    /// ```
    ///
    /// `length` counts the bytes after itself (version, type and payload), so it is at least 2.
    /// The transport does not interpret `type` or `payload`: the Raft message codec does.
    public struct Frame: Hashable, Sendable {
        /// The message type; its meaning belongs to the codec layered above the transport.
        public var type: UInt8
        /// The message body, opaque to the transport.
        public var payload: ByteBuffer

        /// Creates a frame carrying `payload` tagged with `type`.
        public init(type: UInt8, payload: ByteBuffer) {
            self.type = type
            self.payload = payload
        }

        /// Creates a frame carrying a copy of `bytes` tagged with `type`.
        public init(type: UInt8, bytes: some Sequence<UInt8>) {
            self.init(type: type, payload: ByteBuffer(bytes: bytes))
        }

        /// The value of the length prefix for this frame: version + type + payload bytes.
        public var encodedLength: Int { FrameFormat.headerBytesAfterLength + payload.readableBytes }
    }

    /// Constants of the frame format.
    public enum FrameFormat {
        /// The only version this build speaks. A frame with another version closes the connection.
        public static let version: UInt8 = 1
        /// Bytes of the length prefix.
        public static let lengthPrefixBytes = 4
        /// Bytes counted by the length prefix before the payload: version and type.
        public static let headerBytesAfterLength = 2
        /// The default maximum of the length prefix: 16 MiB, above the largest batch the API accepts.
        public static let defaultMaximumFrameLength = 16 * 1024 * 1024
        /// The frame type the transport reserves for keepalives (``Configuration/idleTimeout``):
        /// such frames are swallowed by the receiving transport and never delivered.
        public static let keepaliveType: UInt8 = 0xFF
        /// The frame type the transport reserves for its own notice that an authenticated inbound
        /// connection ended (``Configuration/announcesClosedConnections``): an empty frame it
        /// delivers locally from that peer after the connection's last frame. Never sent; a
        /// peer's frame of this type is dropped, so no peer can forge the notice.
        public static let connectionClosedType: UInt8 = 0xFE
    }

    /// Why a peer's byte stream is not a valid sequence of frames. Each closes that connection.
    public enum FrameError: Error, Hashable, Sendable, CustomStringConvertible {
        /// The length prefix is above the configured maximum; nothing of that size was allocated.
        case frameTooLarge(length: UInt32, maximum: Int)
        /// The length prefix is below 2, so it cannot hold the version and type bytes.
        case lengthTooSmall(length: UInt32)
        /// The version byte is not one this build speaks.
        case unsupportedVersion(UInt8)
        /// The connection ended in the middle of a frame.
        case truncatedFrame(bufferedBytes: Int)

        /// A message naming the value and what to do about it.
        public var description: String {
            switch self {
            case .frameTooLarge(let length, let maximum):
                "frame length \(length) exceeds the maximum of \(maximum) bytes "
                    + "(raise transport max_frame_bytes on every node if this is a legitimate message)"
            case .lengthTooSmall(let length):
                "frame length \(length) is below the minimum of \(FrameFormat.headerBytesAfterLength) "
                    + "(the peer does not speak the Quorum frame format)"
            case .unsupportedVersion(let version):
                "frame version \(version) is not supported (this node speaks version \(FrameFormat.version); "
                    + "upgrade the older node)"
            case .truncatedFrame(let bufferedBytes):
                "connection closed in the middle of a frame (\(bufferedBytes) bytes buffered)"
            }
        }
    }
}
