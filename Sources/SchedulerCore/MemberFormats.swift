import BinaryCoding

// Members' builds in the replicated state (issue #17, docs/upgrades.md): the command format
// each member reported to some leader, recorded in the log so that a later leader does not
// count a member it has not heard from (one that is down) as the oldest build.

/// One member's recorded command format: the highest ``CommandCodec/buildFormatVersion`` it
/// reported to a leader, recorded with ``Command/recordMemberFormats(_:)``.
public struct MemberFormat: Hashable, Sendable {
    /// The member's node id (`n3`).
    public var member: String
    /// The format it reported.
    public var format: UInt32

    /// A record.
    public init(member: String, format: UInt32) {
        self.member = member
        self.format = format
    }
}

extension SchedulerState {
    /// Raises each member's recorded format to the reported one (never lowers it: a record is a
    /// promise the member keeps, since a node refuses to start a build below its own record).
    /// A record of format 0 or of an empty member id is refused as a damaged entry.
    mutating func recordMemberFormats(_ records: [MemberFormat], _ events: inout [SchedulerEvent]) {
        for record in records where record.member.isEmpty || record.format == 0 {
            return reject(.invalid, "member format record '\(record.member)' = \(record.format): a record names a member and a format ≥ 1", &events)
        }
        for record in records { memberFormats[record.member] = max(memberFormats[record.member] ?? 0, record.format) }
    }

    /// The records `reported` would add or raise (the members whose report is above their
    /// record), sorted by member; empty when the state already holds them.
    public func memberFormatsToRecord(_ reported: [String: UInt32]) -> [MemberFormat] {
        reported.filter { $0.value > (memberFormats[$0.key] ?? 0) }
            .map { MemberFormat(member: $0.key, format: $0.value) }
            .sorted { $0.member < $1.member }
    }
}

extension BinaryWriter {
    mutating func write(_ record: MemberFormat) {
        write(record.member)
        write(UInt64(record.format))
    }

    /// `formats` sorted by member, so every replica writes the same bytes.
    mutating func write(memberFormats formats: [String: UInt32]) {
        writeArray(formats.map { MemberFormat(member: $0.key, format: $0.value) }.sorted { $0.member < $1.member }) { $0.write($1) }
    }
}

extension BinaryReader {
    mutating func readMemberFormat() throws(DecodeError) -> MemberFormat {
        let member = try readString()
        let offset = self.offset
        let format = try readUInt64()
        guard let narrow = UInt32(exactly: format) else {
            throw DecodeError("member \(member)'s recorded format \(format) is over \(UInt32.max)", offset: offset)
        }
        return MemberFormat(member: member, format: narrow)
    }

    /// A snapshot's member formats: sorted by member, each once.
    mutating func readMemberFormats() throws(DecodeError) -> [String: UInt32] {
        let offset = self.offset
        let records = try readArray { (r: inout BinaryReader) throws(DecodeError) in try r.readMemberFormat() }
        var formats: [String: UInt32] = [:]
        for record in records {
            guard formats.updateValue(record.format, forKey: record.member) == nil else {
                throw DecodeError("member \(record.member) is recorded twice in the snapshot's member formats", offset: offset)
            }
        }
        return formats
    }
}
