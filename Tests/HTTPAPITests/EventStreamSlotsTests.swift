import HTTPAPI
import Hummingbird
import HummingbirdTesting
import Testing

/// `[events] max_streams` and `max_streams_per_token`: a client cannot hold every connection
/// of a node with event streams.
@Suite("GET /api/events: stream caps")
struct EventStreamSlotsTests {
    @Test("the node cap and the per-token cap refuse one past the limit, and a released slot is reusable")
    func caps() throws {
        let slots = EventStreamSlots(maxStreams: 3, maxStreamsPerToken: 2)
        let a1 = try slots.acquire(token: "a"), a2 = try slots.acquire(token: "a")
        #expect(throws: APIError.self) { try slots.acquire(token: "a") }
        let b1 = try slots.acquire(token: "b")
        do {
            _ = try slots.acquire(token: "c")
            Issue.record("a fourth stream was admitted past max_streams = 3")
        } catch {
            #expect(error.code == .rateLimited && error.retryAfterSeconds == 5)
            #expect(error.message.contains("[events] max_streams allows (3)"), "\(error.message)")
        }
        a1.release()
        a1.release() // twice gives back one slot, not two
        #expect(slots.open == 2)
        let a3 = try slots.acquire(token: "a")
        #expect(throws: APIError.self) { try slots.acquire(token: nil) }
        for slot in [a2, a3, b1] { slot.release() }
        #expect(slots.open == 0)
    }

    @Test("a slot that is dropped without a release is given back (a response never sent)")
    func droppedSlot() throws {
        let slots = EventStreamSlots(maxStreams: 1, maxStreamsPerToken: 1)
        do { _ = try slots.acquire(token: "a") }
        #expect(slots.open == 0)
        let again = try slots.acquire(token: "a")
        #expect(slots.open == 1)
        again.release()
    }

    @Test("over the cap the route answers 429 naming the key; a finished stream frees its slot")
    func route() async throws {
        let feed = TestEventFeed()
        feed.append([EventStreamRouteTests.run(1, 0)])
        feed.setCommitted(1)
        feed.close()
        let slots = EventStreamSlots(maxStreams: 1, maxStreamsPerToken: 1)
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: APIErrorMiddleware(routes: QuorumRoutes<LocalSchedulerService>.contract))
        EventStreamRoute(feed: feed, slots: slots).register(on: router)
        try await Application(router: router).test(.router) { client in
            let held = try slots.acquire(token: nil)
            let refused = try await client.execute(uri: "/api/events", method: .get)
            #expect(refused.status == .tooManyRequests)
            #expect(refused.headers[.retryAfter] == "5")
            #expect(String(buffer: refused.body).contains("[events] max_streams"))
            held.release()
            // The feed is closed, so the stream ends at once and gives its slot back.
            let served = try await client.execute(uri: "/api/events", method: .get)
            #expect(served.status == .ok)
            let again = try await client.execute(uri: "/api/events", method: .get)
            #expect(again.status == .ok)
        }
        #expect(slots.open == 0)
    }
}
