import BinaryCoding
import RaftCore

/// Body tags on the wire. Values are part of the format: never renumber, only add.
enum BodyTag: UInt8 {
    case voteRequest = 1
    case voteResponse = 2
    case append = 3
    case appendSuccess = 4
    case appendRejected = 5
    case heartbeat = 6
    case heartbeatResponse = 7
    case installSnapshot = 8
    case snapshotResponse = 9
    case readIndexRequest = 10
    case readIndexResponse = 11
    case timeoutNow = 12
    /// A heartbeat answer from a follower that lost acknowledged entries: the read sequence, then
    /// its last log index. Answers without that evidence keep tag 7, so nodes that predate the
    /// field still read every ordinary answer.
    case heartbeatResponseLostEntries = 13
}

extension RaftWireCodec {
    static func writeBody(_ body: Raft.Body, to writer: inout BinaryWriter) {
        switch body {
        case .voteRequest(let request):
            writer.write(BodyTag.voteRequest.rawValue)
            writer.write(request.lastLogIndex.rawValue)
            writer.write(request.lastLogTerm.rawValue)
            writer.write(request.isPreVote)
            writer.write(request.isLeadershipTransfer)
        case .voteResponse(let response):
            writer.write(BodyTag.voteResponse.rawValue)
            writer.write(response.granted)
            writer.write(response.isPreVote)
        case .append(let append):
            writer.write(BodyTag.append.rawValue)
            writer.write(append.prevLogIndex.rawValue)
            writer.write(append.prevLogTerm.rawValue)
            writer.write(append.leaderCommit.rawValue)
            writer.writeArray(append.entries) { writer, entry in writeEntry(entry, to: &writer) }
        case .appendResponse(.success(let matchIndex)):
            writer.write(BodyTag.appendSuccess.rawValue)
            writer.write(matchIndex.rawValue)
        case .appendResponse(.rejected(let rejectedIndex, let hintIndex, let hintTerm)):
            writer.write(BodyTag.appendRejected.rawValue)
            writer.write(rejectedIndex.rawValue)
            writer.write(hintIndex.rawValue)
            writer.write(hintTerm.rawValue)
        case .heartbeat(let heartbeat):
            writer.write(BodyTag.heartbeat.rawValue)
            writer.write(heartbeat.commit.rawValue)
            writer.write(heartbeat.readSequence)
        case .heartbeatResponse(let response):
            if let lastIndex = response.lostEntriesAfter {
                writer.write(BodyTag.heartbeatResponseLostEntries.rawValue)
                writer.write(response.readSequence)
                writer.write(lastIndex.rawValue)
            } else {
                writer.write(BodyTag.heartbeatResponse.rawValue)
                writer.write(response.readSequence)
            }
        case .installSnapshot(let chunk):
            writer.write(BodyTag.installSnapshot.rawValue)
            writeSnapshotMetadata(chunk.metadata, to: &writer)
            writer.write(UInt64(chunk.offset))
            writer.write(chunk.chunk)
            writer.write(chunk.isLast)
        case .snapshotResponse(let response):
            writer.write(BodyTag.snapshotResponse.rawValue)
            writer.write(response.index.rawValue)
            writer.write(UInt64(response.receivedBytes))
        case .readIndexRequest(let context):
            writer.write(BodyTag.readIndexRequest.rawValue)
            writer.write(context.rawValue)
        case .readIndexResponse(let context, let index):
            writer.write(BodyTag.readIndexResponse.rawValue)
            writer.write(context.rawValue)
            writer.writeOptional(index) { writer, index in writer.write(index.rawValue) }
        case .timeoutNow:
            writer.write(BodyTag.timeoutNow.rawValue)
        }
    }

    static func readBody(_ reader: inout BinaryReader) throws(DecodeError) -> Raft.Body {
        let tagOffset = reader.offset
        let rawTag = try reader.readByte()
        guard let tag = BodyTag(rawValue: rawTag) else {
            throw DecodeError("unknown Raft message type \(rawTag)", offset: tagOffset)
        }
        switch tag {
        case .voteRequest:
            let lastLogIndex = Raft.LogIndex(try reader.readUInt64())
            let lastLogTerm = Raft.Term(try reader.readUInt64())
            let isPreVote = try reader.readBool()
            let isLeadershipTransfer = try reader.readBool()
            return .voteRequest(
                Raft.VoteRequest(
                    lastLogIndex: lastLogIndex, lastLogTerm: lastLogTerm, isPreVote: isPreVote,
                    isLeadershipTransfer: isLeadershipTransfer))
        case .voteResponse:
            let granted = try reader.readBool()
            let isPreVote = try reader.readBool()
            return .voteResponse(Raft.VoteResponse(granted: granted, isPreVote: isPreVote))
        case .append:
            let prevLogIndex = Raft.LogIndex(try reader.readUInt64())
            let prevLogTerm = Raft.Term(try reader.readUInt64())
            let leaderCommit = Raft.LogIndex(try reader.readUInt64())
            let entries = try reader.readArray { (reader: inout BinaryReader) throws(DecodeError) in try readEntry(&reader) }
            return .append(
                Raft.Append(prevLogIndex: prevLogIndex, prevLogTerm: prevLogTerm, entries: entries, leaderCommit: leaderCommit))
        case .appendSuccess:
            return .appendResponse(.success(matchIndex: Raft.LogIndex(try reader.readUInt64())))
        case .appendRejected:
            let rejectedIndex = Raft.LogIndex(try reader.readUInt64())
            let hintIndex = Raft.LogIndex(try reader.readUInt64())
            let hintTerm = Raft.Term(try reader.readUInt64())
            return .appendResponse(.rejected(rejectedIndex: rejectedIndex, hintIndex: hintIndex, hintTerm: hintTerm))
        case .heartbeat:
            let commit = Raft.LogIndex(try reader.readUInt64())
            let readSequence = try reader.readUInt64()
            return .heartbeat(Raft.Heartbeat(commit: commit, readSequence: readSequence))
        case .heartbeatResponse:
            return .heartbeatResponse(Raft.HeartbeatResponse(readSequence: try reader.readUInt64()))
        case .heartbeatResponseLostEntries:
            let readSequence = try reader.readUInt64()
            let lastIndex = Raft.LogIndex(try reader.readUInt64())
            return .heartbeatResponse(Raft.HeartbeatResponse(readSequence: readSequence, lostEntriesAfter: lastIndex))
        case .installSnapshot:
            let metadata = try readSnapshotMetadata(&reader)
            let offset = try readInt(&reader, what: "snapshot chunk offset")
            let chunk = try reader.readBytes()
            let isLast = try reader.readBool()
            return .installSnapshot(Raft.InstallSnapshot(metadata: metadata, offset: offset, chunk: chunk, isLast: isLast))
        case .snapshotResponse:
            let index = Raft.LogIndex(try reader.readUInt64())
            let receivedBytes = try readInt(&reader, what: "snapshot received bytes")
            return .snapshotResponse(Raft.SnapshotResponse(index: index, receivedBytes: receivedBytes))
        case .readIndexRequest:
            return .readIndexRequest(Raft.ReadContext(try reader.readUInt64()))
        case .readIndexResponse:
            let context = Raft.ReadContext(try reader.readUInt64())
            let index = try reader.readOptional { (reader: inout BinaryReader) throws(DecodeError) in
                Raft.LogIndex(try reader.readUInt64())
            }
            return .readIndexResponse(context: context, index: index)
        case .timeoutNow:
            return .timeoutNow
        }
    }

    static func writeEntry(_ entry: Raft.Entry, to writer: inout BinaryWriter) {
        writer.write(entry.term.rawValue)
        writer.write(entry.index.rawValue)
        writer.write(entry.kind.rawValue)
        writer.write(entry.data)
    }

    static func readEntry(_ reader: inout BinaryReader) throws(DecodeError) -> Raft.Entry {
        let term = Raft.Term(try reader.readUInt64())
        let index = Raft.LogIndex(try reader.readUInt64())
        let kindOffset = reader.offset
        let rawKind = try reader.readByte()
        guard let kind = Raft.EntryKind(rawValue: rawKind) else {
            throw DecodeError("unknown entry kind \(rawKind)", offset: kindOffset)
        }
        return Raft.Entry(term: term, index: index, kind: kind, data: try reader.readBytes())
    }

    static func writeSnapshotMetadata(_ metadata: Raft.SnapshotMetadata, to writer: inout BinaryWriter) {
        writer.write(metadata.index.rawValue)
        writer.write(metadata.term.rawValue)
        // RaftCore's own configuration encoding (the one config-change entries carry), so voters,
        // learners and removed ids all cross the wire, sorted: equal memberships, equal bytes.
        writer.write(metadata.membership.encoded)
    }

    static func readSnapshotMetadata(_ reader: inout BinaryReader) throws(DecodeError) -> Raft.SnapshotMetadata {
        let index = Raft.LogIndex(try reader.readUInt64())
        let term = Raft.Term(try reader.readUInt64())
        let membershipOffset = reader.offset
        guard let membership = Raft.Membership(encoded: try reader.readBytes()) else {
            throw DecodeError("snapshot membership is not a valid configuration", offset: membershipOffset)
        }
        return Raft.SnapshotMetadata(index: index, term: term, membership: membership)
    }

    /// Reads an unsigned varint that must fit an `Int` (offsets and sizes).
    private static func readInt(_ reader: inout BinaryReader, what: String) throws(DecodeError) -> Int {
        let start = reader.offset
        let value = try reader.readUInt64()
        guard let int = Int(exactly: value) else {
            throw DecodeError("\(what) \(value) is out of range", offset: start)
        }
        return int
    }
}
