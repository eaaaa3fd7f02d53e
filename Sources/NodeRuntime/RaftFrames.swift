import BinaryCoding
import RaftCore
import RaftStorage
import RaftWire

/// The payloads of the frames that carry Raft traffic: ``PeerFrameType/raft`` (the RaftWire
/// bytes alone), ``PeerFrameType/raftStamped`` (the sender's incarnation as a varint, then the
/// RaftWire bytes) and ``PeerFrameType/hello`` (the sender's incarnation). See docs/raft.md,
/// "Incarnations".
enum RaftFrames {
    /// A `raftStamped` payload: `message` sent by the data directory `incarnation`.
    static func stamped(_ message: Raft.Message, incarnation: UInt64) -> [UInt8] {
        var writer = BinaryWriter(capacity: 10)
        writer.write(incarnation)
        return writer.bytes + RaftWireCodec.encode(message)
    }

    /// The message in a `raftStamped` payload, with `fromIncarnation` set from the stamp.
    static func decodeStamped(_ bytes: [UInt8]) throws(DecodeError) -> Raft.Message {
        var reader = BinaryReader(bytes)
        let incarnation = try reader.readUInt64()
        var message = try RaftWireCodec.decode(Array(bytes[reader.offset...]))
        message.fromIncarnation = incarnation
        return message
    }

    /// The message in a plain `raft` payload: its sender's incarnation is unknown (0).
    static func decodePlain(_ bytes: [UInt8]) throws(DecodeError) -> Raft.Message {
        var message = try RaftWireCodec.decode(bytes)
        message.fromIncarnation = 0
        return message
    }

    /// A `hello` payload.
    static func hello(incarnation: UInt64) -> [UInt8] {
        var writer = BinaryWriter(capacity: 10)
        writer.write(incarnation)
        return writer.bytes
    }

    /// The incarnation in a `hello` payload; nothing may follow it.
    static func decodeHello(_ bytes: [UInt8]) throws(DecodeError) -> UInt64 {
        var reader = BinaryReader(bytes)
        let incarnation = try reader.readUInt64()
        guard reader.isAtEnd else { throw DecodeError("\(reader.remaining) unexpected bytes after the hello", offset: reader.offset) }
        return incarnation
    }

    /// A ``PeerFrameType/clusterHello`` payload: the 16 bytes of the id, then a flags byte
    /// (bit 0: the id is provisional, see ``ClusterIdentity``).
    static func clusterHello(_ id: ClusterID, provisional: Bool) -> [UInt8] {
        id.bytes + [provisional ? 1 : 0]
    }

    /// The id and its provisional flag in a cluster hello; `nil` unless it is 16 bytes and a
    /// flags byte with no unknown bit.
    static func decodeClusterHello(_ bytes: [UInt8]) -> (ClusterID, Bool)? {
        guard bytes.count == 17, bytes[16] & ~1 == 0, let id = ClusterID(bytes: Array(bytes[0..<16])) else { return nil }
        return (id, bytes[16] == 1)
    }
}
