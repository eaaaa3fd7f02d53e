@testable import Node
import RaftCore
import Testing

@Suite("LeadershipBroadcast: leadership changes for every consumer")
struct LeadershipBroadcastTests {
    func state(_ leader: String?, _ term: UInt64) -> Raft.LeaderState {
        Raft.LeaderState(leader: leader.map { Raft.NodeID($0) }, term: Raft.Term(term), role: .follower)
    }

    @Test("two consumers both see every change; a late one starts with the latest; finishing ends them all")
    func everyConsumerSeesEveryChange() async {
        let broadcast = LeadershipBroadcast()
        let first = broadcast.subscribe()
        let second = broadcast.subscribe()
        broadcast.publish(state("n1", 1))
        broadcast.publish(state("n2", 2))
        let late = broadcast.subscribe()
        broadcast.finish()
        var seen: [[Raft.LeaderState]] = []
        for stream in [first, second, late] {
            var changes: [Raft.LeaderState] = []
            for await change in stream { changes.append(change) }
            seen.append(changes)
        }
        #expect(seen[0] == [state("n1", 1), state("n2", 2)])
        #expect(seen[1] == seen[0])
        #expect(seen[2] == [state("n2", 2)])
        var afterFinish: [Raft.LeaderState] = []
        for await change in broadcast.subscribe() { afterFinish.append(change) }
        #expect(afterFinish.isEmpty)
    }

    @Test("latest is nil before the first change, then the latest one published, also after finishing")
    func latestIsTheLastChange() {
        let broadcast = LeadershipBroadcast()
        #expect(broadcast.latest == nil)
        broadcast.publish(state("n1", 1))
        broadcast.publish(state(nil, 2))
        #expect(broadcast.latest == state(nil, 2))
        broadcast.publish(state("n3", 2))
        broadcast.finish()
        #expect(broadcast.latest == state("n3", 2))
    }
}
