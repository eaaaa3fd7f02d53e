import BinaryCoding
import NodeCore
import RaftCore
import Testing

@Suite("Member directory encoding")
struct MemberDirectoryTests {
    static let sample = MemberDirectory(records: [
        "n1": MemberDirectory.Record(raft: .init(host: "10.0.0.1", port: 7001), api: .init(host: "10.0.0.1", port: 8080)),
        "n2": MemberDirectory.Record(raft: .init(host: "::1", port: 7002), api: .init(host: "node2.example", port: 8081),
                                     labels: ["zone": "b", "gpu": "true"]),
    ])

    @Test("round-trips addresses and labels, with equal bytes for equal directories")
    func roundTrip() throws {
        let bytes = Self.sample.encoded
        #expect(bytes.first == MemberDirectory.formatVersion)
        #expect(try MemberDirectory(decoding: bytes) == Self.sample)
        var reordered = MemberDirectory()
        reordered["n2"] = Self.sample["n2"]
        reordered["n1"] = Self.sample["n1"]
        #expect(reordered.encoded == bytes)
        #expect(Self.sample["n2"]?.raft.description == "[::1]:7002")
        #expect(Self.sample.keeping(only: ["n2"]).records.keys.sorted() == ["n2"])
    }

    @Test("refuses a newer format, a bad port, a repeated id and trailing bytes, naming each")
    func refusals() {
        var newer = Self.sample.encoded
        newer[0] = MemberDirectory.formatVersion + 1
        #expect(throws: DecodeError.self) { try MemberDirectory(decoding: newer) }
        do {
            _ = try MemberDirectory(decoding: newer)
        } catch {
            #expect(error.message.contains("upgrade this node"))
        }
        let badPort = MemberDirectory(records: ["n1": .init(raft: .init(host: "h", port: 70_000), api: .init(host: "h", port: 1))])
        #expect(throws: DecodeError.self) { try MemberDirectory(decoding: badPort.encoded) }
        #expect(throws: DecodeError.self) { try MemberDirectory(decoding: Self.sample.encoded + [0]) }
        var writer = BinaryWriter()
        writer.write(MemberDirectory.formatVersion)
        let record = Self.sample["n1"]
        writer.writeArray(["n1", "n1"]) { writer, id in
            writer.write(id)
            for endpoint in [record?.raft, record?.api].compactMap({ $0 }) {
                writer.write(endpoint.host)
                writer.write(endpoint.port)
            }
            writer.writeArray([String]()) { _, _ in }
        }
        #expect(throws: DecodeError.self) { try MemberDirectory(decoding: writer.bytes) }
    }

    @Test("any prefix or random bytes decode or throw, never trap (seeded)")
    func garbage() {
        let seed = UInt64.random(in: 1...UInt64.max)
        var state = seed
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        let bytes = Self.sample.encoded
        for cut in 0..<bytes.count { _ = try? MemberDirectory(decoding: Array(bytes.prefix(cut))) }
        for _ in 0..<500 {
            var mutated = bytes
            let position = Int(next() % UInt64(mutated.count))
            mutated[position] = UInt8(truncatingIfNeeded: next())
            _ = try? MemberDirectory(decoding: mutated)
        }
        #expect(Bool(true), "seed \(seed)")
    }

    @Test("members lists every voter and learner with its record")
    func members() {
        let membership = Raft.Membership(voters: ["n1"], learners: ["n2", "n3"], removed: ["n9"])
        let members = Self.sample.members(of: membership)
        #expect(members.map(\.id) == ["n1", "n2", "n3"])
        #expect(members.map(\.voter) == [true, false, false])
        #expect(members[2].record == nil, "n3 has no record: the file may still know it")
    }
}
