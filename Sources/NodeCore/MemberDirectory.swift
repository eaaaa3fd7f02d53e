import BinaryCoding
import RaftCore

/// Where each member of the cluster listens and what labels it carries, as the latest
/// configuration in the log says (docs/raft.md, "Membership changes").
///
/// It travels inside Raft's configuration entries (``RaftCore/Raft/Membership/directory``), so an
/// address changes in the same entry as the member set it describes and every snapshot keeps it.
/// The config file's `[[nodes]]` only seed the first directory; from then on the log wins.
public struct MemberDirectory: Hashable, Sendable {
    /// A `host:port` a member listens on.
    public struct Endpoint: Hashable, Sendable, CustomStringConvertible {
        /// Host name or IP literal, without brackets.
        public var host: String
        /// TCP port, 1–65535.
        public var port: Int

        /// An endpoint.
        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        /// `host:port`, an IPv6 literal bracketed.
        public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }

    /// One member's addresses and labels.
    public struct Record: Hashable, Sendable {
        /// Where its peer transport listens (mutual TLS).
        public var raft: Endpoint
        /// Where its HTTP API listens.
        public var api: Endpoint
        /// Free-form labels (`zone = "a"`), kept for placement; empty when none.
        public var labels: [String: String]

        /// A record.
        public init(raft: Endpoint, api: Endpoint, labels: [String: String] = [:]) {
            self.raft = raft
            self.api = api
            self.labels = labels
        }
    }

    /// The format written by ``encoded``. Readers refuse a newer one with a message to upgrade.
    public static let formatVersion: UInt8 = 1

    /// Each member's record. Ids of removed members are dropped (``keeping(only:)``).
    public var records: [Raft.NodeID: Record]

    /// A directory.
    public init(records: [Raft.NodeID: Record] = [:]) { self.records = records }

    /// The record of `id`, if known.
    public subscript(id: Raft.NodeID) -> Record? {
        get { records[id] }
        set { records[id] = newValue }
    }

    /// The directory without the ids that are not in `ids` (removed members).
    public func keeping(only ids: Set<Raft.NodeID>) -> MemberDirectory {
        MemberDirectory(records: records.filter { ids.contains($0.key) })
    }

    /// Version byte, then the records sorted by id (equal directories, equal bytes: the
    /// configuration entry is compared byte for byte by no one, but tests and replays like it).
    public var encoded: [UInt8] {
        var writer = BinaryWriter()
        writer.write(Self.formatVersion)
        writer.writeArray(records.sorted { $0.key < $1.key }) { writer, element in
            writer.write(element.key.rawValue)
            for endpoint in [element.value.raft, element.value.api] {
                writer.write(endpoint.host)
                writer.write(endpoint.port)
            }
            writer.writeArray(element.value.labels.sorted { $0.key < $1.key }) { writer, label in
                writer.write(label.key)
                writer.write(label.value)
            }
        }
        return writer.bytes
    }

    /// Decodes ``encoded``.
    /// - Throws: `DecodeError` naming the offset and what is wrong (a newer format, a port out of
    ///   range, a repeated id, trailing bytes). Never traps on bad input.
    public init(decoding bytes: [UInt8]) throws(DecodeError) {
        var reader = BinaryReader(bytes)
        let version = try reader.readByte()
        guard version == Self.formatVersion else {
            throw DecodeError("member directory format \(version) is not known to this build (it reads \(Self.formatVersion)); "
                + "upgrade this node", offset: 0)
        }
        var records: [Raft.NodeID: Record] = [:]
        let count = try reader.readCount()
        for _ in 0..<count {
            let idOffset = reader.offset
            let id = Raft.NodeID(try reader.readString())
            var endpoints: [Endpoint] = []
            for _ in 0..<2 {
                let host = try reader.readString()
                let portOffset = reader.offset
                let port = try reader.readInt()
                guard (1...65_535).contains(port), !host.isEmpty else {
                    throw DecodeError("\(id)'s address \(host):\(port) is not a host and a port 1-65535", offset: portOffset)
                }
                endpoints.append(Endpoint(host: host, port: port))
            }
            var labels: [String: String] = [:]
            let labelCount = try reader.readCount()
            for _ in 0..<labelCount {
                let key = try reader.readString()
                labels[key] = try reader.readString()
            }
            guard records[id] == nil else { throw DecodeError("member \(id) appears twice", offset: idOffset) }
            records[id] = Record(raft: endpoints[0], api: endpoints[1], labels: labels)
        }
        guard reader.isAtEnd else { throw DecodeError("\(reader.remaining) bytes after the member directory", offset: reader.offset) }
        self.records = records
    }
}

/// One member as the API and the CLI show it: its directory record and whether it votes.
public struct ClusterMember: Hashable, Sendable {
    /// Its node id.
    public var id: Raft.NodeID
    /// Its addresses and labels; `nil` when no directory (log or file) knows them.
    public var record: MemberDirectory.Record?
    /// Whether it votes (else a learner).
    public var voter: Bool

    /// A member.
    public init(id: Raft.NodeID, record: MemberDirectory.Record?, voter: Bool) {
        self.id = id
        self.record = record
        self.voter = voter
    }
}

extension MemberDirectory {
    /// Every member of `membership`, sorted by id, with its record from this directory.
    public func members(of membership: Raft.Membership) -> [ClusterMember] {
        membership.members.sorted().map { ClusterMember(id: $0, record: records[$0], voter: membership.voters.contains($0)) }
    }
}
