@testable import NodeRuntime
import RaftCore
import Testing

@Suite("ForwardCoalescer: a follower's forwards coalesced per leader")
struct ForwardCoalescerTests {
    static func item(_ id: UInt64, bytes: Int = 3) -> ForwardBatch.Item {
        ForwardBatch.Item(requestID: id, command: [UInt8](repeating: UInt8(truncatingIfNeeded: id), count: bytes))
    }

    /// The ids of the batch `batch`, if any.
    static func ids(_ batch: ForwardCoalescer.Batch?) -> [UInt64]? { batch?.items.map(\.requestID) }

    @Test("the first forward goes at once alone; those arriving meanwhile go together, in order, once it is answered")
    func ordering() {
        var coalescer = ForwardCoalescer()
        let first = coalescer.enqueue(Self.item(1), to: "n2")
        #expect(first == ForwardCoalescer.Batch(leader: "n2", items: [Self.item(1)]))
        for id in UInt64(2)...5 {
            let batch = coalescer.enqueue(Self.item(id), to: "n2")
            #expect(batch == nil)
        }
        #expect(coalescer.count(for: "n2") == (waiting: 4, inFlight: 1))
        let (settled, next) = coalescer.settle(1)
        #expect(settled == .sent)
        #expect(next == ForwardCoalescer.Batch(leader: "n2", items: (2...5).map { Self.item($0) }))
        // The next batch waits for every forward of this one, in any order.
        let queued = coalescer.enqueue(Self.item(6), to: "n2")
        #expect(queued == nil)
        for id: UInt64 in [4, 2, 5] {
            let (settled, next) = coalescer.settle(id)
            #expect(settled == .sent && next == nil)
        }
        let last = coalescer.settle(3)
        #expect(Self.ids(last.1) == [6])
        let sixth = coalescer.settle(6)
        #expect(sixth.0 == .sent && sixth.1 == nil)
        #expect(coalescer.count(for: "n2") == (waiting: 0, inFlight: 0))
        // Settling twice, or an id it never held (an unbatched forward), changes nothing.
        let twice = coalescer.settle(6)
        let never = coalescer.settle(99)
        #expect(twice.0 == .unknown && twice.1 == nil)
        #expect(never.0 == .unknown && never.1 == nil)
    }

    @Test("a batch takes at most maxItems forwards and maxBytes of commands, but always at least one")
    func limits() {
        var coalescer = ForwardCoalescer(maxItems: 3, maxBytes: 10)
        _ = coalescer.enqueue(Self.item(1), to: "n2")
        for id in UInt64(2)...6 { _ = coalescer.enqueue(Self.item(id, bytes: id == 5 ? 50 : 4), to: "n2") }
        let second = coalescer.settle(1).1
        #expect(Self.ids(second) == [2, 3])  // 4 + 4, a third would pass 10 bytes
        _ = coalescer.settle(2)
        let third = coalescer.settle(3).1
        #expect(Self.ids(third) == [4])  // 4 + 50 > 10
        let fourth = coalescer.settle(4).1
        #expect(Self.ids(fourth) == [5])  // 50 bytes alone: at least one
        let fifth = coalescer.settle(5).1
        #expect(Self.ids(fifth) == [6])
        var many = ForwardCoalescer(maxItems: 2, maxBytes: 1 << 20)
        _ = many.enqueue(Self.item(1), to: "n2")
        for id in UInt64(2)...5 { _ = many.enqueue(Self.item(id), to: "n2") }
        let capped = many.settle(1).1
        #expect(Self.ids(capped) == [2, 3])
    }

    @Test("a failed batch: every forward in it settled (not queued) releases the next batch")
    func failedBatch() {
        var coalescer = ForwardCoalescer()
        _ = coalescer.enqueue(Self.item(1), to: "n2")
        _ = coalescer.enqueue(Self.item(2), to: "n2")
        _ = coalescer.enqueue(Self.item(3), to: "n2")
        // The batch [1] could not be queued: its forward is answered "not proposed" and settled.
        let (settled, next) = coalescer.settle(1)
        #expect(settled == .sent)
        #expect(Self.ids(next) == [2, 3])
        // That one fails too: each settles; the last one leaves nothing behind.
        let second = coalescer.settle(2)
        let third = coalescer.settle(3)
        #expect(second.0 == .sent && second.1 == nil)
        #expect(third.0 == .sent && third.1 == nil)
        #expect(coalescer.count(for: "n2") == (waiting: 0, inFlight: 0))
    }

    @Test("a leader change mid-batch: the old leader's sent forwards settle as sent, its waiting ones as unsent; the new leader's queue is its own")
    func leaderChange() {
        var coalescer = ForwardCoalescer()
        _ = coalescer.enqueue(Self.item(1), to: "n2")
        _ = coalescer.enqueue(Self.item(2), to: "n2")
        _ = coalescer.enqueue(Self.item(3), to: "n2")
        // n3 takes over: forwards to it go at once, independent of n2's batch in flight.
        let toNewLeader = coalescer.enqueue(Self.item(4), to: "n3")
        #expect(Self.ids(toNewLeader) == [4])
        // The callers of 2 and 3 see the change before anything was sent: certainly not proposed.
        let third = coalescer.settle(3)
        let second = coalescer.settle(2)
        #expect(third.0 == .unsent && third.1 == nil)
        #expect(second.0 == .unsent && second.1 == nil)
        // The caller of 1 gives up on n2's answer: outcome unknown (it was sent).
        let first = coalescer.settle(1)
        #expect(first.0 == .sent && first.1 == nil)
        #expect(coalescer.count(for: "n2") == (waiting: 0, inFlight: 0))
        #expect(coalescer.count(for: "n3") == (waiting: 0, inFlight: 1))
    }
}
