import BinaryCoding
import RaftCore
import RaftWire
import Testing

@Suite("Raft message wire codec")
struct RaftWireCodecTests {
    @Test("every message kind round-trips", arguments: 0..<20)
    func roundTrip(seed: UInt64) throws {
        var samples = RaftMessageSamples(seed: seed)
        for _ in 0..<500 {
            let message = samples.message()
            let decoded = try RaftWireCodec.decode(RaftWireCodec.encode(message))
            #expect(decoded == message, "seed \(seed): \(message)")
        }
    }

    @Test("a known message has a stable encoding")
    func goldenBytes() {
        let message = Raft.Message(
            from: "n1", to: "n2", term: Raft.Term(3),
            body: .append(
                Raft.Append(
                    prevLogIndex: Raft.LogIndex(5), prevLogTerm: Raft.Term(2),
                    entries: [Raft.Entry(term: Raft.Term(3), index: Raft.LogIndex(6), kind: .normal, data: [0xAB])],
                    leaderCommit: Raft.LogIndex(4))))
        #expect(
            RaftWireCodec.encode(message) == [
                1,  // version
                2, 0x6E, 0x31, 2, 0x6E, 0x32,  // "n1", "n2"
                3,  // term
                3,  // append
                5, 2, 4,  // prev index, prev term, commit
                1, 3, 6, 0, 1, 0xAB,  // one entry: term 3, index 6, normal, 1 byte
            ])
    }

    @Test("a heartbeat answer without lost entries keeps the original encoding (tag 7)")
    func heartbeatResponseCompatible() throws {
        let plain = Raft.Message(from: "n2", to: "n1", term: Raft.Term(3), body: .heartbeatResponse(Raft.HeartbeatResponse(readSequence: 9)))
        let bytes: [UInt8] = [1, 2, 0x6E, 0x32, 2, 0x6E, 0x31, 3, 7, 9]
        #expect(RaftWireCodec.encode(plain) == bytes)
        #expect(try RaftWireCodec.decode(bytes) == plain)
    }

    @Test("a heartbeat answer reporting lost entries carries the follower's last index (tag 13)")
    func heartbeatResponseLostEntries() throws {
        let lost = Raft.Message(
            from: "n2", to: "n1", term: Raft.Term(3),
            body: .heartbeatResponse(Raft.HeartbeatResponse(readSequence: 0, lostEntriesAfter: Raft.LogIndex(0))))
        let bytes: [UInt8] = [1, 2, 0x6E, 0x32, 2, 0x6E, 0x31, 3, 13, 0, 0]
        #expect(RaftWireCodec.encode(lost) == bytes)
        #expect(try RaftWireCodec.decode(bytes) == lost)
    }

    @Test("every strict prefix of a valid message is rejected, never a crash", arguments: 0..<5)
    func truncations(seed: UInt64) {
        var samples = RaftMessageSamples(seed: seed)
        for _ in 0..<50 {
            let bytes = RaftWireCodec.encode(samples.message())
            for length in 0..<bytes.count {
                #expect(throws: DecodeError.self) { try RaftWireCodec.decode(Array(bytes[..<length])) }
            }
        }
    }

    @Test("malformed input names the problem")
    func malformed() {
        let valid = RaftWireCodec.encode(Raft.Message(from: "n1", to: "n2", term: Raft.Term(1), body: .timeoutNow))
        #expect(throws: DecodeError("unsupported Raft message format version 9 (this node speaks 1)", offset: 0)) {
            try RaftWireCodec.decode([9] + valid.dropFirst())
        }
        #expect(throws: DecodeError("unknown Raft message type 200", offset: 8)) {
            try RaftWireCodec.decode(Array(valid.dropLast()) + [200])
        }
        #expect(throws: DecodeError("1 unexpected bytes after the message", offset: valid.count)) {
            try RaftWireCodec.decode(valid + [0])
        }
        // A length far beyond the input must fail before anything is allocated for it.
        #expect(throws: DecodeError.self) { try RaftWireCodec.decode([1, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F]) }
    }

    @Test("seeded mutations either decode losslessly or throw", arguments: 0..<4)
    func fuzz(seed: UInt64) throws {
        var samples = RaftMessageSamples(seed: seed)
        for _ in 0..<10_000 {
            let input = samples.mutate(RaftWireCodec.encode(samples.message()))
            if let message = try? RaftWireCodec.decode(input) {
                #expect(try RaftWireCodec.decode(RaftWireCodec.encode(message)) == message, "seed \(seed)")
            }
        }
    }
}
