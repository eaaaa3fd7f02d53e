import BinaryCoding
import RaftCore
import RaftStorage
import Transport

/// "You were removed from cluster X at index I": what a member tells a node whose id its
/// configuration lists as removed when that node connects after the farewell window
/// (``PeerFrameType/removalNotice``). Without it, a removed node restarted late on its old data
/// directory would wait forever for a leader that no longer talks to it (docs/raft.md, "Removal").
struct RemovalNotice: Hashable, Sendable {
    /// The cluster the sender belongs to.
    var cluster: ClusterID
    /// The index of the configuration entry that removed the receiver (0 if the sender only
    /// knows it from a snapshot's configuration).
    var index: UInt64

    /// Payload: the 16 bytes of the cluster id, then the index as a varint; nothing may follow.
    var encoded: [UInt8] {
        var writer = BinaryWriter(capacity: 26)
        writer.write(index)
        return cluster.bytes + writer.bytes
    }

    /// Decodes a payload made by ``encoded``.
    init(decoding bytes: [UInt8]) throws(DecodeError) {
        guard bytes.count > 16, let cluster = ClusterID(bytes: Array(bytes[0..<16])) else {
            throw DecodeError("a removal notice holds a 16-byte cluster id and an index; got \(bytes.count) bytes", offset: 0)
        }
        var reader = BinaryReader(Array(bytes[16...]))
        let index = try reader.readUInt64()
        guard reader.isAtEnd else {
            throw DecodeError("\(reader.remaining) unexpected bytes after the removal notice", offset: 16 + reader.offset)
        }
        self.cluster = cluster
        self.index = index
    }

    /// A notice for `cluster` at `index`.
    init(cluster: ClusterID, index: UInt64) {
        self.cluster = cluster
        self.index = index
    }

    /// The frame a member sends a removed node that dials it, or `nil` when it must not (the
    /// transport then refuses the handshake as for any non-member): only for an id whose removal
    /// committed at `removedAt` and whose farewell window is over (``MembershipView/finalRemoval(of:)``),
    /// and only once the sender's cluster id is confirmed (`cluster`; `nil` while provisional),
    /// so a receiver can check it against its own.
    static func frame(cluster: ClusterID?, removedAt: Raft.LogIndex?) -> Transport.Frame? {
        guard let cluster, let removedAt else { return nil }
        return Transport.Frame(type: PeerFrameType.removalNotice.rawValue,
                               bytes: RemovalNotice(cluster: cluster, index: removedAt.rawValue).encoded)
    }

    /// Whether a node believes the notice: a node must not be talked into exiting by a stranger.
    /// The sender is authenticated by mutual TLS as `sender`; it must be another node that is a
    /// member in the receiver's own configuration (`members`), and the notice must name the
    /// receiver's own confirmed cluster (`ownCluster`; a node that does not know its cluster id
    /// yet believes no notice).
    func isBelieved(from sender: Raft.NodeID, by receiver: Raft.NodeID, ownCluster: ClusterID?,
                    members: Set<Raft.NodeID>) -> Bool {
        guard sender != receiver, members.contains(sender), let ownCluster else { return false }
        return ownCluster == cluster
    }
}
