@testable import NodeRuntime
import RaftCore
import RaftStorage
import RaftWire
import Testing

/// The frames that carry a Raft message with its sender's incarnation (docs/raft.md, "Incarnations").
@Suite("Raft frames: the sender's incarnation on the wire")
struct RaftFramesTests {
    let message = Raft.Message(from: "n1", to: "n2", term: Raft.Term(3),
                               body: .voteResponse(Raft.VoteResponse(granted: true, isPreVote: false)), fromIncarnation: 0xDEAD_BEEF)

    @Test("a stamped frame carries the sender's incarnation; a plain one says unknown (0)")
    func stampedAndPlain() throws {
        let stamped = try RaftFrames.decodeStamped(RaftFrames.stamped(message, incarnation: UInt64.max))
        #expect(stamped.fromIncarnation == UInt64.max)
        #expect(stamped.body == message.body && stamped.term == message.term && stamped.from == message.from)
        // RaftWire itself does not carry it: older builds read the same bytes as before.
        let plain = try RaftFrames.decodePlain(RaftWireCodec.encode(message))
        #expect(plain.fromIncarnation == 0)
        #expect(RaftWireCodec.encode(plain) == RaftWireCodec.encode(message))
    }

    @Test("every cut of a stamped frame and of a hello is refused, never misread")
    func cutsRefused() throws {
        let bytes = RaftFrames.stamped(message, incarnation: 0x0123_4567_89AB_CDEF)
        for length in 0..<bytes.count {
            #expect(throws: (any Error).self) { try RaftFrames.decodeStamped(Array(bytes.prefix(length))) }
        }
        #expect(try RaftFrames.decodeHello(RaftFrames.hello(incarnation: 42)) == 42)
        #expect(throws: (any Error).self) { try RaftFrames.decodeHello([]) }
        #expect(throws: (any Error).self) { try RaftFrames.decodeHello(RaftFrames.hello(incarnation: 42) + [0]) }
    }

    @Test("a cluster hello is the id and a flags byte; any other length or an unknown flag is undecodable")
    func clusterHello() throws {
        let id = ClusterID.random()
        let confirmed = try #require(RaftFrames.decodeClusterHello(RaftFrames.clusterHello(id, provisional: false)))
        #expect(confirmed.0 == id && !confirmed.1)
        let provisional = try #require(RaftFrames.decodeClusterHello(RaftFrames.clusterHello(id, provisional: true)))
        #expect(provisional.0 == id && provisional.1)
        #expect(RaftFrames.decodeClusterHello(id.bytes) == nil)
        #expect(RaftFrames.decodeClusterHello(id.bytes + [0, 0]) == nil)
        #expect(RaftFrames.decodeClusterHello(id.bytes + [2]) == nil)
        #expect(RaftFrames.decodeClusterHello([]) == nil)
    }
}
