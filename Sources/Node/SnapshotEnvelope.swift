import RaftCore
import RaftStorage

/// The bytes the driver stores in a `RaftSnapshot`: the membership as of the snapshot (which the
/// core needs on restart, Raft §7 "last included configuration") and the state machine image.
///
/// Layout: `"QNS1"`, then voters, learners and removed ids (each a `u32` count of
/// `u32`-length-prefixed UTF-8 ids), then the state machine image to the end. Little-endian.
enum SnapshotEnvelope {
    private static let magic: [UInt8] = Array("QNS1".utf8)

    /// Encodes `snapshot` for the log store.
    static func storeSnapshot(_ snapshot: Raft.Snapshot) -> RaftSnapshot {
        var bytes = magic
        let membership = snapshot.metadata.membership
        for group in [membership.voters.sorted(), membership.learners.sorted(), membership.removed.sorted()] {
            appendUInt32(UInt32(group.count), to: &bytes)
            for id in group {
                let utf8 = Array(id.rawValue.utf8)
                appendUInt32(UInt32(utf8.count), to: &bytes)
                bytes.append(contentsOf: utf8)
            }
        }
        bytes.append(contentsOf: snapshot.data)
        return RaftSnapshot(index: snapshot.metadata.index, term: snapshot.metadata.term, data: bytes)
    }

    /// Decodes a stored snapshot; throws if the bytes were not written by `storeSnapshot`.
    static func raftSnapshot(_ stored: RaftSnapshot) throws(RaftDriverFailure) -> Raft.Snapshot {
        let bytes = stored.data
        func damaged(_ what: String) -> RaftDriverFailure {
            RaftDriverFailure(message: "snapshot at index \(stored.index.rawValue) is not a Quorum node snapshot (\(what)); "
                + "move the data directory aside and let the node rejoin from a peer")
        }
        guard bytes.count >= magic.count, Array(bytes[0..<magic.count]) == magic else { throw damaged("bad magic") }
        var cursor = magic.count
        func readUInt32() throws(RaftDriverFailure) -> Int {
            guard cursor + 4 <= bytes.count else { throw damaged("truncated at byte \(cursor)") }
            var value: UInt32 = 0
            for shift in 0..<4 { value |= UInt32(bytes[cursor + shift]) << (8 * UInt32(shift)) }
            cursor += 4
            return Int(value)
        }
        var groups: [Set<Raft.NodeID>] = []
        for _ in 0..<3 {
            let count = try readUInt32()
            var group = Set<Raft.NodeID>()
            for _ in 0..<count {
                let length = try readUInt32()
                guard cursor + length <= bytes.count else { throw damaged("node id overruns the data at byte \(cursor)") }
                group.insert(Raft.NodeID(String(decoding: bytes[cursor..<cursor + length], as: UTF8.self)))
                cursor += length
            }
            groups.append(group)
        }
        let membership = Raft.Membership(voters: groups[0], learners: groups[1], removed: groups[2])
        return Raft.Snapshot(metadata: Raft.SnapshotMetadata(index: stored.index, term: stored.term, membership: membership),
                             data: Array(bytes[cursor...]))
    }

    private static func appendUInt32(_ value: UInt32, to bytes: inout [UInt8]) {
        for shift in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * UInt32(shift)))) }
    }
}
