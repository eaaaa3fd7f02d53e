extension Raft {
    /// The cluster configuration: who votes and who only replicates.
    ///
    /// A learner receives the log but neither votes nor counts toward a commit quorum
    /// (Raft thesis §4.2.1, "catching up new servers").
    public struct Membership: Hashable, Sendable, CustomStringConvertible {
        /// Members that vote and count toward commit quorums.
        public var voters: Set<NodeID>
        /// Members that replicate the log but never vote.
        public var learners: Set<NodeID>
        /// Ids removed from the cluster. They may never be added again (etcd: "a given ID MUST
        /// be used only once"), so a stale process with an old id cannot rejoin by accident.
        public var removed: Set<NodeID>

        /// Creates a configuration; an id must not be both a voter and a learner.
        public init(voters: Set<NodeID>, learners: Set<NodeID> = [], removed: Set<NodeID> = []) {
            self.voters = voters
            self.learners = learners.subtracting(voters)
            self.removed = removed.subtracting(voters).subtracting(learners)
        }

        /// Every member, voter or learner.
        public var members: Set<NodeID> { voters.union(learners) }

        /// Whether `id` is a voter or a learner.
        public func contains(_ id: NodeID) -> Bool { voters.contains(id) || learners.contains(id) }

        /// The number of voters that form a majority.
        public var quorum: Int { voters.count / 2 + 1 }

        public var description: String {
            "voters=\(voters.sorted().map(\.rawValue)) learners=\(learners.sorted().map(\.rawValue))"
                + (removed.isEmpty ? "" : " removed=\(removed.sorted().map(\.rawValue))")
        }
    }

    /// One single-server membership change (Raft thesis §4.1). At most one may be uncommitted at a
    /// time, and a leader proposes one only after it has committed an entry of its own term.
    public enum MembershipChange: Hashable, Sendable {
        /// Add a non-voting member that receives the log.
        case addLearner(NodeID)
        /// Turn an existing learner into a voter.
        case promote(NodeID)
        /// Add a voter directly (prefer `addLearner` then `promote` so it catches up first).
        case addVoter(NodeID)
        /// Remove a voter or learner. Removing the leader makes it step down once committed.
        case remove(NodeID)
        /// Turn a voter back into a learner: it keeps receiving the log but no longer votes or
        /// counts toward commit quorums, and `promote` can make it a voter again (unlike `remove`,
        /// whose id is never re-added). For a voter whose data directory was wiped: demote it,
        /// let it catch up, promote it. Demoting the leader makes it step down once committed.
        case demote(NodeID)
    }
}

extension Raft.Membership {
    /// The configuration after applying `change`, or an error naming why it is not allowed.
    func applying(_ change: Raft.MembershipChange) throws(Raft.RaftError) -> Raft.Membership {
        var next = self
        switch change {
        case .addLearner(let id), .addVoter(let id):
            guard !removed.contains(id) else {
                throw .invalidMembershipChange("\(id) was removed earlier and node ids are never reused; give the new node a new id")
            }
        default:
            break
        }
        switch change {
        case .addLearner(let id):
            guard !contains(id) else {
                throw .invalidMembershipChange("\(id) is already a member (\(self)); node ids are never reused")
            }
            next.learners.insert(id)
        case .promote(let id):
            guard learners.contains(id) else {
                throw .invalidMembershipChange("\(id) is not a learner (\(self)); add it with addLearner first")
            }
            next.learners.remove(id)
            next.voters.insert(id)
        case .addVoter(let id):
            guard !voters.contains(id) else {
                throw .invalidMembershipChange("\(id) is already a voter (\(self))")
            }
            next.learners.remove(id)
            next.voters.insert(id)
        case .demote(let id):
            guard voters.contains(id) else {
                throw .invalidMembershipChange("\(id) is not a voter (\(self)); only a voter can be demoted to a learner")
            }
            guard voters.count > 1 else {
                throw .invalidMembershipChange("\(id) is the last voter; a cluster needs at least one voter")
            }
            next.voters.remove(id)
            next.learners.insert(id)
        case .remove(let id):
            guard contains(id) else {
                throw .invalidMembershipChange("\(id) is not a member (\(self))")
            }
            guard !(voters == [id]) else {
                throw .invalidMembershipChange("\(id) is the last voter; a cluster needs at least one voter")
            }
            next.voters.remove(id)
            next.learners.remove(id)
            next.removed.insert(id)
        }
        return next
    }

    /// The payload of a `.configChange` entry: the complete new configuration, so any node can
    /// rebuild its membership from the latest such entry alone (thesis §4.1: a server uses the
    /// latest configuration in its log, committed or not).
    public var encoded: [UInt8] {
        var bytes: [UInt8] = [2]  // format version: voters, learners, removed
        for group in [voters.sorted(), learners.sorted(), removed.sorted()] {
            bytes.append(contentsOf: Self.encodeLength(group.count))
            for id in group {
                let utf8 = Array(id.rawValue.utf8)
                bytes.append(contentsOf: Self.encodeLength(utf8.count))
                bytes.append(contentsOf: utf8)
            }
        }
        return bytes
    }

    /// Decodes `encoded`; `nil` if the bytes are not a configuration written by `encoded`.
    public init?(encoded bytes: [UInt8]) {
        var cursor = 0
        guard let version = bytes.first, version == 1 || version == 2 else { return nil }
        cursor = 1
        func readLength() -> Int? {
            guard cursor + 4 <= bytes.count else { return nil }
            var value = 0
            for offset in 0..<4 { value = value << 8 | Int(bytes[cursor + offset]) }
            cursor += 4
            return value
        }
        var groups: [Set<Raft.NodeID>] = []
        for _ in 0..<(version == 1 ? 2 : 3) {
            guard let count = readLength() else { return nil }
            var group: Set<Raft.NodeID> = []
            for _ in 0..<count {
                guard let length = readLength(), cursor + length <= bytes.count else { return nil }
                group.insert(Raft.NodeID(String(decoding: bytes[cursor..<cursor + length], as: UTF8.self)))
                cursor += length
            }
            groups.append(group)
        }
        guard cursor == bytes.count else { return nil }
        self.init(voters: groups[0], learners: groups[1], removed: groups.count > 2 ? groups[2] : [])
    }

    private static func encodeLength(_ value: Int) -> [UInt8] {
        [UInt8(truncatingIfNeeded: value >> 24), UInt8(truncatingIfNeeded: value >> 16),
         UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)]
    }
}

extension Raft.Entry {
    /// A configuration entry's membership, or `nil` for other kinds (or undecodable payloads).
    public var membership: Raft.Membership? {
        kind == .configChange ? Raft.Membership(encoded: data) : nil
    }
}
