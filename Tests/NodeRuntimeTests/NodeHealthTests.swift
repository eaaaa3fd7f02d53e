import Testing

@testable import NodeRuntime

@Suite("node events: peer reachability and this node's executor lease")
struct NodeHealthTests {
    @Test("a change of a peer's reachability or of the lease is one event each; no change, no event")
    func changes() {
        let start = NodeHealth(reachable: [:], leaseHeld: false)
        let up = NodeHealth(reachable: ["n2": true, "n3": true], leaseHeld: true)
        let events = up.changes(since: start, ownID: "n1")
        #expect(events.map(\.node) == ["n2", "n3", "n1"])
        #expect(events.map(\.state) == ["reachable", "reachable", "lease_renewed"])
        #expect(up.changes(since: up, ownID: "n1").isEmpty)

        let n3Gone = NodeHealth(reachable: ["n2": true, "n3": false], leaseHeld: true)
        #expect(n3Gone.changes(since: up, ownID: "n1").map { "\($0.node) \($0.state)" } == ["n3 unreachable"])
        let cutOff = NodeHealth(reachable: ["n2": false, "n3": false], leaseHeld: false)
        #expect(cutOff.changes(since: n3Gone, ownID: "n1").map { "\($0.node) \($0.state)" } == ["n2 unreachable", "n1 lease_lost"])
        // A peer never heard from is not news on the first look.
        #expect(NodeHealth(reachable: ["n2": false], leaseHeld: false).changes(since: start, ownID: "n1").isEmpty)
    }
}
