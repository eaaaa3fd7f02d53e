import BinaryCoding
import RaftCore

/// The binary encoding of `Raft.Message` for the peer transport.
///
/// A message is: format version (1 byte), sender, recipient (length-prefixed UTF-8), term
/// (varint), a body tag (1 byte) and the body's fields (see `docs/transport.md`). Decoding checks
/// every length against the bytes actually present, so a hostile length can never make it
/// allocate more than the frame it was given, and any malformed input is a `DecodeError` — never
/// a crash.
public enum RaftWireCodec {
    /// The format version this build writes and reads.
    public static let version: UInt8 = 1

    /// Encodes `message`.
    public static func encode(_ message: Raft.Message) -> [UInt8] {
        var writer = BinaryWriter(capacity: 64 + estimatedBodySize(message.body))
        writer.write(version)
        writer.write(message.from.rawValue)
        writer.write(message.to.rawValue)
        writer.write(message.term.rawValue)
        writeBody(message.body, to: &writer)
        return writer.bytes
    }

    /// Decodes one message; the whole input must be consumed.
    public static func decode(_ bytes: [UInt8]) throws(DecodeError) -> Raft.Message {
        var reader = BinaryReader(bytes)
        let formatVersion = try reader.readByte()
        guard formatVersion == version else {
            throw DecodeError("unsupported Raft message format version \(formatVersion) (this node speaks \(version))", offset: 0)
        }
        let from = Raft.NodeID(try reader.readString())
        let to = Raft.NodeID(try reader.readString())
        let term = Raft.Term(try reader.readUInt64())
        let body = try readBody(&reader)
        guard reader.isAtEnd else {
            throw DecodeError("\(reader.remaining) unexpected bytes after the message", offset: reader.offset)
        }
        return Raft.Message(from: from, to: to, term: term, body: body)
    }

    private static func estimatedBodySize(_ body: Raft.Body) -> Int {
        switch body {
        case .append(let append): append.entries.reduce(0) { $0 + $1.data.count + 16 }
        case .installSnapshot(let chunk): chunk.chunk.count + 64
        default: 16
        }
    }
}
