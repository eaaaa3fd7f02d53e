@testable import NodeRuntime
import RaftCore
import RaftStorage
import Testing

@Suite("RemovalNotice: a member's \"you were removed\" frame, and who a node believes")
struct RemovalNoticeTests {
    let ours = ClusterID(bytes: Array(repeating: 0xAB, count: 16))!
    let theirs = ClusterID(bytes: Array(repeating: 0xCD, count: 16))!
    let members: Set<Raft.NodeID> = ["n1", "n2", "n3"]

    @Test("the payload round-trips: cluster id and index")
    func roundTrip() throws {
        let notice = RemovalNotice(cluster: ours, index: 1_234_567)
        #expect(try RemovalNotice(decoding: notice.encoded) == notice)
        #expect(PeerFrameType.removalNotice.rawValue == 19)
    }

    @Test("a short, truncated or overlong payload is refused, never trapped on")
    func malformed() {
        let good = RemovalNotice(cluster: ours, index: 300).encoded
        for bytes in [[], Array(good.prefix(16)), Array(good.prefix(good.count - 1)), good + [0]] {
            #expect(throws: (any Error).self) { try RemovalNotice(decoding: bytes) }
        }
        var random = SystemRandomNumberGenerator()
        for _ in 0..<1_000 {
            let bytes = (0..<Int.random(in: 0...40, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            _ = try? RemovalNotice(decoding: bytes)
        }
    }

    @Test("believed only from another member of the node's own confirmed cluster")
    func belief() {
        let notice = RemovalNotice(cluster: ours, index: 42)
        #expect(notice.isBelieved(from: "n1", by: "n4", ownCluster: ours, members: members))
        // A stranger: another cluster (the same CA may sign both), a non-member, itself, or a
        // node that does not know its own cluster yet.
        #expect(!RemovalNotice(cluster: theirs, index: 42).isBelieved(from: "n1", by: "n4", ownCluster: ours, members: members))
        #expect(!notice.isBelieved(from: "n9", by: "n4", ownCluster: ours, members: members))
        #expect(!notice.isBelieved(from: "n4", by: "n4", ownCluster: ours, members: members.union(["n4"])))
        #expect(!notice.isBelieved(from: "n1", by: "n4", ownCluster: nil, members: members))
    }
}
