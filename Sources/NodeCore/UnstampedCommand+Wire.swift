import BinaryCoding
import SchedulerCore
import SchedulerPlanning

/// The binary form of an ``SchedulerPlanning/UnstampedCommand`` inside a forward (frame
/// `forwardUnstamped`), version 1:
///
/// `version (1) · template (bytes: CommandCodec encoding stamped at 0) · count · (tag · value)*`
/// with tags 1 = `at` (timestamp ms), 2 = `afterStamp` (delay ms), 3 = `firstFireAfterStamp`.
///
/// The template reuses the log's codec, so a forward decodes exactly the commands an entry can
/// hold; its stamp (0) is never used — the leader stamps.
extension UnstampedCommand {
    /// The encoding written by this build.
    public static let wireVersion: UInt8 = 1

    /// The bytes of this command for a forward.
    public func encoded() -> [UInt8] {
        let template = CommandCodec.encode(self.template, at: .zero)
        var w = BinaryWriter(capacity: template.count + 8 + times.count * 10)
        w.write(Self.wireVersion)
        w.write(template)
        w.writeArray(times) { w, time in
            switch time {
            case .at(let instant):
                w.write(UInt8(1))
                w.write(instant.milliseconds)
            case .afterStamp(let delay):
                w.write(UInt8(2))
                w.write(delay)
            case .firstFireAfterStamp:
                w.write(UInt8(3))
            }
        }
        return w.bytes
    }

    /// Decodes a forward's command. Never traps: bad bytes, an unknown tag, a delay outside
    /// 0…100 years or times that do not match the template's submits are a ``DecodeError``.
    public init(decoding bytes: [UInt8]) throws(DecodeError) {
        var r = BinaryReader(bytes)
        let version = try r.readByte()
        guard version == Self.wireVersion else {
            throw DecodeError("unstamped command version \(version) is not known to this build (knows \(Self.wireVersion))", offset: 0)
        }
        let templateOffset = r.offset
        let template = try CommandCodec.decode(try r.readBytes()).command
        let times = try r.readArray { (r: inout BinaryReader) throws(DecodeError) -> SubmissionTime in
            let tagOffset = r.offset
            switch try r.readByte() {
            case 1:
                return .at(Timestamp(try r.readInt64()))
            case 2:
                let delay = try r.readInt64()
                guard delay >= 0, delay <= SubmissionTime.maxDelayMilliseconds else {
                    throw DecodeError("delay of \(delay) ms is outside 0…100 years", offset: tagOffset + 1)
                }
                return .afterStamp(milliseconds: delay)
            case 3:
                return .firstFireAfterStamp
            case let tag:
                throw DecodeError("unknown submission time tag \(tag)", offset: tagOffset)
            }
        }
        guard r.isAtEnd else { throw DecodeError("\(r.remaining) trailing bytes after an unstamped command", offset: r.offset) }
        do {
            self = try UnstampedCommand.received(template: template, times: times)
        } catch {
            throw DecodeError(error.message, offset: templateOffset)
        }
    }
}
