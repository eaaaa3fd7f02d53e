import Foundation
import HTTPAPI
import Hummingbird
import HummingbirdTesting
import NIOCore
import SchedulerCore
import Synchronization
import Testing

/// An ``EventFeed`` over one ``EventWindow``, as the node's hub does it.
final class TestEventFeed: EventFeed {
    private struct Guarded {
        var window = EventWindow(capacity: 1_000)
        var wakes: [Int: AsyncStream<Void>.Continuation] = [:]
        var next = 0
        var closed = false
        var cutOffs: [String] = []
        var committed: UInt64 = .max
        var commitWaits: [UInt64] = []
    }
    private let guarded = Mutex(Guarded())

    /// What ``awaitCommitted(entry:within:)`` answers: entries up to this one are committed.
    func setCommitted(_ index: UInt64) { guarded.withLock { $0.committed = index } }
    /// The entries clients waited for.
    var commitWaits: [UInt64] { guarded.withLock { $0.commitWaits } }
    func awaitCommitted(entry: UInt64, within limit: Duration) async -> Bool {
        guarded.withLock { g in
            g.commitWaits.append(entry)
            return entry <= g.committed
        }
    }

    func append(_ events: [ChangeEvent]) {
        guarded.withLock { g in
            for event in events { g.window.append(event) }
            for wake in g.wakes.values { wake.yield() }
        }
    }
    func close() {
        let wakes = guarded.withLock { g in
            g.closed = true
            defer { g.wakes = [:] }
            return Array(g.wakes.values)
        }
        for wake in wakes { wake.finish() }
    }
    var clients: Int { guarded.withLock { $0.wakes.count } }
    var cutOffs: [String] { guarded.withLock { $0.cutOffs } }

    func open(lastEventID: UInt64?) -> (cursor: EventCursor, opening: EventOpening) {
        guarded.withLock { $0.window.open(lastEventID: lastEventID) }
    }
    func read(_ cursor: EventCursor, limit: Int, clientBuffer: Int) -> EventRead {
        guarded.withLock { $0.window.read(cursor, limit: limit, clientBuffer: clientBuffer) }
    }
    func wakes() -> AsyncStream<Void> {
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let key: Int? = guarded.withLock { g in
            guard !g.closed else { return nil }
            g.next += 1
            g.wakes[g.next] = continuation
            return g.next
        }
        if key == nil { continuation.finish() }
        return stream
    }
    func clientCutOff(reason: String) { guarded.withLock { $0.cutOffs.append(reason) } }
}

/// Waits until `condition` holds, polling, or fails after `seconds`.
func eventually(_ what: String, seconds: Double = 10, _ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while !condition() {
        guard ContinuousClock.now < deadline else {
            Issue.record("timed out waiting for \(what)")
            throw CancellationError()
        }
        await Task.yield()
        try await Task.sleep(for: .milliseconds(5))
    }
}

@Suite("GET /api/events: server-sent events")
struct EventStreamRouteTests {
    static func run(_ index: UInt64, _ position: Int, job: String = "j1", state: String = "queued") -> ChangeEvent {
        ChangeEvent(id: ChangeEvent.id(index: index, position: position), kind: .run, at: Timestamp(1_764_579_600_123),
                    jobID: job, runID: "r-\(job)", attempt: 1, state: state)
    }

    static func withEvents(_ feed: TestEventFeed, settings: EventStreamSettings = EventStreamSettings(),
                           _ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: APIErrorMiddleware(routes: QuorumRoutes<LocalSchedulerService>.contract))
        EventStreamRoute(feed: feed, settings: settings).register(on: router)
        try await Application(router: router).test(.router, body)
    }

    @Test("the stream sends id, event and data with every contract key; filters apply")
    func format() async throws {
        let feed = TestEventFeed()
        feed.append([ChangeEvent(id: 5_000_000, kind: .job, at: Timestamp(0), jobID: "j1", state: "queued"), Self.run(5, 1)])
        feed.close()
        try await Self.withEvents(feed) { client in
            // A new client hears only what comes next; this one resumes before entry 5.
            let fresh = try await client.send(.get, "/api/events")
            #expect(fresh.text == ": open\n\n")
            let before: HTTPFields = [lastEventIDHeader: "4999999"]
            let all = try await client.send(.get, "/api/events", headers: before)
            #expect(all.status == .ok)
            #expect(all.headers[.contentType]?.hasPrefix("text/event-stream") == true)
            #expect(all.text.contains("id: 5000000\nevent: job\ndata: {\"type\":\"job\",\"at\":\"1970-01-01T00:00:00.000Z\",\"job_id\":\"j1\","
                + "\"run_id\":null,\"dag_id\":null,\"attempt\":null,\"state\":\"queued\",\"outcome\":null,\"node\":null}\n\n"))
            #expect(all.text.contains("id: 5000001\nevent: run\n"))
            let runs = try await client.send(.get, "/api/events?types=run", headers: before)
            #expect(!runs.text.contains("event: job") && runs.text.contains("event: run"))
            let other = try await client.send(.get, "/api/events?job=j2", headers: before)
            #expect(!other.text.contains("event:"))
            let bad = try await client.send(.get, "/api/events?types=runs")
            #expect(bad.status == .unprocessableContent)
            #expect(bad.apiError?.field == "types")
        }
    }

    @Test("Last-Event-ID resumes after that event; an id older than the window gets one reset")
    func resumeAndReset() async throws {
        let feed = TestEventFeed()
        for index in UInt64(1)...3 { feed.append([Self.run(index, 0), Self.run(index, 1)]) }
        feed.close()
        try await Self.withEvents(feed) { client in
            let resumed = try await client.send(.get, "/api/events", headers: [lastEventIDHeader: "2000000"])
            let ids = resumed.text.split(separator: "\n").filter { $0.hasPrefix("id: ") }.map { String($0.dropFirst(4)) }
            #expect(ids == ["2000001", "3000000", "3000001"])
            #expect(!resumed.text.contains("event: reset"))
            let bad = try await client.send(.get, "/api/events", headers: [lastEventIDHeader: "x"])
            #expect(bad.apiError?.field == "Last-Event-ID")
        }
        let small = TestEventFeed()
        for index in UInt64(1)...1_200 { small.append([Self.run(index, 0)]) }
        small.close()
        try await Self.withEvents(small) { client in
            let reset = try await client.send(.get, "/api/events", headers: [lastEventIDHeader: "5000000"])
            #expect(reset.text.components(separatedBy: "event: reset").count == 2)
            #expect(!reset.text.contains("id: "))
        }
    }

    @Test("hostile Last-Event-IDs: negative, fractional, hex, lists, past UInt64 are 422 naming the header; UInt64.max is one reset, no trap")
    func hostileLastEventIDs() async throws {
        let feed = TestEventFeed()
        feed.append([Self.run(1, 0)])
        feed.setCommitted(1)
        feed.close()
        try await Self.withEvents(feed) { client in
            for text in ["-1", "1e6", "1.5", "0x10", "+", "5,6", "18446744073709551616", String(repeating: "9", count: 5_000)] {
                let bad = try await client.send(.get, "/api/events", headers: [lastEventIDHeader: text])
                #expect(bad.status == .unprocessableContent, "\(text.prefix(30))")
                #expect(bad.apiError?.field == "Last-Event-ID", "\(text.prefix(30))")
            }
            // The largest id: its entry (id / 1,000,000) is far past anything committed here.
            let largest = try await client.send(.get, "/api/events", headers: [lastEventIDHeader: String(UInt64.max)])
            #expect(largest.status == .ok)
            #expect(largest.text.components(separatedBy: "event: reset").count == 2)
        }
        #expect(feed.commitWaits == [UInt64.max / 1_000_000])
    }

    @Test("a Last-Event-ID ahead of the node: resumed when its entry is committed here, else one reset and live events")
    func aheadOfTheNode() async throws {
        let feed = TestEventFeed()
        for index in UInt64(1)...3 { feed.append([Self.run(index, 0)]) }
        feed.setCommitted(5)
        feed.close()
        try await Self.withEvents(feed) { client in
            // Entry 5 is committed here, not yet applied: no reset, nothing old.
            let waiting = try await client.send(.get, "/api/events", headers: [lastEventIDHeader: "5000001"])
            #expect(waiting.text == ": open\n\n")
            // Entry 9 is beyond what this node knows is committed (another cluster, a lagging node).
            let beyond = try await client.send(.get, "/api/events", headers: [lastEventIDHeader: "9000000"])
            #expect(beyond.text.components(separatedBy: "event: reset").count == 2)
            #expect(!beyond.text.contains("id: "))
        }
        #expect(feed.commitWaits == [5, 9])
    }

    @Test("live: new events and heartbeats reach an open stream; a slow client is cut off")
    func live() async throws {
        let feed = TestEventFeed()
        var settings = EventStreamSettings()
        settings.heartbeat = .milliseconds(50)
        settings.clientBuffer = 3
        let writer = RecordingWriter()
        let pump = Task {
            try await EventStreamRoute(feed: feed, settings: settings).stream(to: writer, lastEventID: nil)
        }
        try await eventually("the client to register") { feed.clients == 1 }
        feed.append([Self.run(7, 0)])
        try await eventually("the live event") { writer.text.contains("id: 7000000\n") }
        try await eventually("a heartbeat") { writer.text.contains(": hb\n\n") }
        // Stall the client's writes and overrun its buffer of 3.
        writer.stall(true)
        feed.append([Self.run(8, 0)])
        try await eventually("the stalled write") { writer.stalled }
        feed.append((0..<5).map { Self.run(9, $0) })
        writer.stall(false)
        try await pump.value
        #expect(feed.cutOffs.count == 1)
        #expect(!writer.text.contains("id: 9000004"))
    }

    @Test("over a real socket: closing the feed ends the response")
    func closeEndsLiveResponse() async throws {
        let feed = TestEventFeed()
        let router = Router(context: BasicRequestContext.self)
        EventStreamRoute(feed: feed).register(on: router)
        try await Application(router: router, server: .http1ClosingUnserved()).test(.live) { client in
            async let response = client.send(.get, "/api/events")
            try await eventually("the client to register") { feed.clients == 1 }
            feed.append([Self.run(3, 0)])
            feed.close()
            let text = try await response.text
            #expect(text == ": open\n\n" + ServerSentEventText.block(Self.run(3, 0)))
        }
    }

    @Test("closing the feed (the node shuts down) ends an open stream")
    func closeEndsStream() async throws {
        let feed = TestEventFeed()
        let writer = RecordingWriter()
        let pump = Task { try await EventStreamRoute(feed: feed).stream(to: writer, lastEventID: nil) }
        try await eventually("the client to register") { feed.clients == 1 && writer.text.contains(": open") }
        feed.close()
        try await pump.value
    }
}

/// A body writer that records what it is given and can hold writes, like a client that stops reading.
final class RecordingWriter: ResponseBodyWriter, Sendable {
    private let state = Mutex((text: "", holding: false, stalled: false))
    var text: String { state.withLock { $0.text } }
    var stalled: Bool { state.withLock { $0.stalled } }
    func stall(_ on: Bool) { state.withLock { $0.holding = on } }

    func write(_ buffer: ByteBuffer) async throws {
        state.withLock { $0.text += String(buffer: buffer) }
        while state.withLock({ $0.holding }) {
            state.withLock { $0.stalled = true }
            try await Task.sleep(for: .milliseconds(2))
        }
    }
    func write(contentsOf buffers: some Sequence<ByteBuffer>) async throws {
        for buffer in buffers { try await write(buffer) }
    }
    func finish(_ trailingHeaders: HTTPFields?) async throws {}
}

let lastEventIDHeader = HTTPFields.Element.Name("Last-Event-ID")!
