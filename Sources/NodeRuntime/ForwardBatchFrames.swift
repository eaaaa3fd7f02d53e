import BinaryCoding
import SchedulerPlanning

/// Many forwarded commands in one frame (``PeerFrameType/forwardBatch``, 20), from a follower to
/// a leader that advertised ``NodeCore/PeerFeatures/batchedForwarding``:
///
/// `count · (requestID · command)*`, each command an ``SchedulerPlanning/UnstampedCommand`` in its
/// forward encoding (length-prefixed), encoded once on the follower straight into the frame.
///
/// The leader decodes the frame's shape strictly (a bad count or length rejects the whole frame:
/// ``init(decoding:)``) but each command on its own (``decodedCommands()``): one undecodable
/// command is answered `notProposed` without failing its neighbours.
struct ForwardBatch: Sendable {
    /// One forwarded command: the id its answer carries and its encoded ``UnstampedCommand``.
    struct Item: Sendable, Equatable {
        var requestID: UInt64
        var command: [UInt8]
    }

    var items: [Item]

    /// The frame's payload.
    func encoded() -> [UInt8] {
        var w = BinaryWriter(capacity: items.reduce(8) { $0 + $1.command.count + 14 })
        w.writeArray(items) { w, item in
            w.write(item.requestID)
            w.write(item.command)
        }
        return w.bytes
    }

    init(items: [Item]) {
        self.items = items
    }

    /// Never traps: a count beyond the bytes, a truncated item or trailing bytes are a ``DecodeError``.
    init(decoding bytes: [UInt8]) throws(DecodeError) {
        var r = BinaryReader(bytes)
        items = try r.readArray { (r: inout BinaryReader) throws(DecodeError) -> Item in
            Item(requestID: try r.readUInt64(), command: try r.readBytes())
        }
        guard r.isAtEnd else { throw DecodeError("\(r.remaining) trailing bytes after a forward batch", offset: r.offset) }
    }

    /// Each item's command, or why it could not be decoded (answered `notProposed` on its own).
    func decodedCommands() -> [(requestID: UInt64, command: Result<UnstampedCommand, DecodeError>)] {
        items.map { item -> (requestID: UInt64, command: Result<UnstampedCommand, DecodeError>) in
            do throws(DecodeError) {
                return (item.requestID, .success(try UnstampedCommand(decoding: item.command)))
            } catch {
                return (item.requestID, .failure(error))
            }
        }
    }
}

/// The leader's answer to a ``ForwardBatch`` (``PeerFrameType/forwardBatchOutcome``, 21): every
/// item's ``ForwardedOutcome``, each length-prefixed in its frame-3 encoding, in one frame.
///
/// Length-prefixed so that one outcome this build cannot read (a newer tag) costs only its own
/// request: the follower answers that one "outcome unknown" and resolves the rest.
struct ForwardBatchOutcome: Sendable {
    var outcomes: [ForwardedOutcome]

    init(outcomes: [ForwardedOutcome]) {
        self.outcomes = outcomes
    }

    /// The frame's payload.
    func encoded() -> [UInt8] {
        var w = BinaryWriter(capacity: 8 + outcomes.count * 24)
        w.writeArray(outcomes) { w, outcome in w.write(outcome.encoded()) }
        return w.bytes
    }

    /// Each outcome in the payload, or — for one that cannot be decoded — its request id with the
    /// reason (`nil` id when not even that is readable). Throws only when the payload's shape is
    /// bad (a count beyond the bytes, a truncated item, trailing bytes); never traps.
    static func decode(_ bytes: [UInt8]) throws(DecodeError) -> [Result<ForwardedOutcome, UndecodableOutcome>] {
        var r = BinaryReader(bytes)
        let items = try r.readArray { (r: inout BinaryReader) throws(DecodeError) -> [UInt8] in try r.readBytes() }
        guard r.isAtEnd else { throw DecodeError("\(r.remaining) trailing bytes after a forward batch answer", offset: r.offset) }
        return items.map { item -> Result<ForwardedOutcome, UndecodableOutcome> in
            do throws(DecodeError) {
                return .success(try ForwardedOutcome(decoding: item))
            } catch {
                var reader = BinaryReader(item)
                return .failure(UndecodableOutcome(requestID: try? reader.readUInt64(), error: error))
            }
        }
    }

    /// An outcome in a batch answer that this build cannot read.
    struct UndecodableOutcome: Error {
        var requestID: UInt64?
        var error: DecodeError
    }
}
