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
        /// Each member's recorded data-directory incarnation (docs/raft.md, "Incarnations"). A
        /// member missing here is *unrecorded* (0): founding voters start that way. A voter whose
        /// running incarnation differs from its recorded one lost its directory: it must not
        /// vote until the leader demoted it and promoted it again with the new one. Only
        /// non-zero values of members are kept.
        public var incarnations: [NodeID: UInt64]
        /// The shell's member directory (each member's addresses and labels), opaque to Raft.
        /// It rides in the configuration entry so the addresses change in the same entry, at the
        /// same index, as the member set they describe, and every snapshot keeps them; RaftCore
        /// never reads it, and a change that gives no new directory keeps the previous one.
        public var directory: [UInt8]

        /// Creates a configuration; an id must not be both a voter and a learner.
        public init(voters: Set<NodeID>, learners: Set<NodeID> = [], removed: Set<NodeID> = [],
                    incarnations: [NodeID: UInt64] = [:], directory: [UInt8] = []) {
            self.directory = directory
            self.voters = voters
            self.learners = learners.subtracting(voters)
            self.removed = removed.subtracting(voters).subtracting(learners)
            let members = voters.union(learners)
            self.incarnations = incarnations.filter { $0.value != 0 && members.contains($0.key) }
        }

        /// `id`'s recorded incarnation, or 0 when unrecorded.
        public func incarnation(of id: NodeID) -> UInt64 { incarnations[id] ?? 0 }

        /// Every member, voter or learner.
        public var members: Set<NodeID> { voters.union(learners) }

        /// Whether `id` is a voter or a learner.
        public func contains(_ id: NodeID) -> Bool { voters.contains(id) || learners.contains(id) }

        /// The number of voters that form a majority.
        public var quorum: Int { voters.count / 2 + 1 }

        public var description: String {
            "voters=\(voters.sorted().map(\.rawValue)) learners=\(learners.sorted().map(\.rawValue))"
                + (removed.isEmpty ? "" : " removed=\(removed.sorted().map(\.rawValue))")
                + (incarnations.isEmpty ? "" : " incarnations=[" + incarnations.sorted { $0.key < $1.key }
                    .map { "\($0.key.rawValue):0x\(String($0.value, radix: 16))" }.joined(separator: " ") + "]")
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
        /// Turn a learner into a voter and record `incarnation` as its data directory's id. The
        /// leader proposes it for a voter it demoted because its directory was wiped, once it
        /// has caught up (docs/raft.md, "Incarnations").
        case promoteWithIncarnation(NodeID, incarnation: UInt64)
        /// Record the incarnations of voters that have none recorded yet (founding voters). It
        /// changes no quorum; the leader proposes it only for voters that hold every committed
        /// entry. A recorded incarnation is never overwritten: demote and promote instead.
        case recordIncarnations([NodeID: UInt64])
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
        case .promoteWithIncarnation(let id, let incarnation):
            guard learners.contains(id) else {
                throw .invalidMembershipChange("\(id) is not a learner (\(self)); add it with addLearner first")
            }
            guard incarnation != 0 else {
                throw .invalidMembershipChange("incarnation 0 means unknown; promote \(id) with the incarnation it reports")
            }
            next.learners.remove(id)
            next.voters.insert(id)
            next.incarnations[id] = incarnation
        case .recordIncarnations(let recorded):
            guard !recorded.isEmpty else { throw .invalidMembershipChange("no incarnation to record") }
            for (id, incarnation) in recorded.sorted(by: { $0.key < $1.key }) {
                guard voters.contains(id) else {
                    throw .invalidMembershipChange("\(id) is not a voter (\(self)); only voters' incarnations are recorded")
                }
                guard incarnation != 0 else {
                    throw .invalidMembershipChange("incarnation 0 means unknown; record \(id)'s with the value it reports")
                }
                guard self.incarnation(of: id) == 0 else {
                    throw .invalidMembershipChange("\(id)'s incarnation is already recorded (\(self)); a different one "
                        + "needs demote then promoteWithIncarnation, which the leader does on its own")
                }
                next.incarnations[id] = incarnation
            }
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
            next.incarnations[id] = nil
        }
        return next
    }

    /// The payload of a `.configChange` entry: the complete new configuration, so any node can
    /// rebuild its membership from the latest such entry alone (thesis §4.1: a server uses the
    /// latest configuration in its log, committed or not).
    ///
    /// Version 2 holds voters, learners and removed ids; version 3 adds the recorded
    /// incarnations. Version 2 is still written while nothing is recorded, so nodes of the
    /// previous build (which read versions 1 and 2 only) keep reading every configuration until
    /// the leader records a first incarnation — which it does only once every member reports one,
    /// i.e. runs this build (docs/raft.md, "Incarnations"). Version 4 adds the opaque member
    /// directory (always with the incarnation group, possibly empty); it is written only when a
    /// directory is set, so configurations without one keep the older, smaller versions.
    public var encoded: [UInt8] {
        let version: UInt8 = !directory.isEmpty ? 4 : incarnations.isEmpty ? 2 : 3
        var bytes: [UInt8] = [version]
        for group in [voters.sorted(), learners.sorted(), removed.sorted()] {
            bytes.append(contentsOf: Self.encodeLength(group.count))
            for id in group { Self.appendID(id, to: &bytes) }
        }
        if version >= 3 {
            bytes.append(contentsOf: Self.encodeLength(incarnations.count))
            for (id, incarnation) in incarnations.sorted(by: { $0.key < $1.key }) {
                Self.appendID(id, to: &bytes)
                for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: incarnation >> UInt64(shift))) }
            }
        }
        if version >= 4 {
            bytes.append(contentsOf: Self.encodeLength(directory.count))
            bytes.append(contentsOf: directory)
        }
        return bytes
    }

    /// Decodes `encoded`; `nil` if the bytes are not a configuration written by `encoded`.
    public init?(encoded bytes: [UInt8]) {
        var cursor = 0
        guard let version = bytes.first, (1...4).contains(version) else { return nil }
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
        var incarnations: [Raft.NodeID: UInt64] = [:]
        if version >= 3 {
            guard let count = readLength() else { return nil }
            for _ in 0..<count {
                guard let length = readLength(), cursor + length + 8 <= bytes.count else { return nil }
                let id = Raft.NodeID(String(decoding: bytes[cursor..<cursor + length], as: UTF8.self))
                cursor += length
                incarnations[id] = bytes[cursor..<cursor + 8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                cursor += 8
            }
        }
        var directory: [UInt8] = []
        if version >= 4 {
            guard let length = readLength(), length <= bytes.count - cursor else { return nil }
            directory = Array(bytes[cursor..<cursor + length])
            cursor += length
        }
        guard cursor == bytes.count else { return nil }
        self.init(voters: groups[0], learners: groups[1], removed: groups.count > 2 ? groups[2] : [], incarnations: incarnations,
                  directory: directory)
    }

    private static func appendID(_ id: Raft.NodeID, to bytes: inout [UInt8]) {
        let utf8 = Array(id.rawValue.utf8)
        bytes.append(contentsOf: encodeLength(utf8.count))
        bytes.append(contentsOf: utf8)
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
