import DeterministicRandom
import SchedulerCore
import Testing

@Suite("Event window: ids, resume, reset, filters, overflow")
struct EventWindowTests {
    /// A numbered `run` event of entry `index` at `position`, stamped by the test's clock.
    static func event(_ index: UInt64, _ position: Int, job: String = "j", at: Timestamp = Timestamp(1_000)) -> ChangeEvent {
        ChangeEvent(id: ChangeEvent.id(index: index, position: position), kind: .run, at: at, jobID: job, runID: "r-" + job,
                    attempt: 1, state: "queued")
    }

    /// Reads everything readable at `cursor`.
    static func readAll(_ window: EventWindow, _ cursor: inout EventCursor, buffer: Int = 1_000_000) -> [ChangeEvent] {
        var all: [ChangeEvent] = []
        while case .events(let events, let next) = window.read(cursor, limit: 7, clientBuffer: buffer), next.next != cursor.next {
            all += events
            cursor = next
        }
        return all
    }

    @Test("ids are log index × 1,000,000 + position, derived identically from the same entry")
    func idsFromEntries() {
        var h = Harness()
        let events = h.submitOnce("a", labels: [KeyValue("team", "x")])
        let first = ChangeEvents.derive(from: events, index: 42, at: h.clock, state: h.state)
        let again = ChangeEvents.derive(from: events, index: 42, at: h.clock, state: h.state)
        #expect(first == again)
        #expect(first.map(\.id) == (0..<first.count).map { 42_000_000 + UInt64($0) })
        #expect(first.first?.kind == .job && first.first?.jobID == "a")
        #expect(first.contains { $0.kind == .run && $0.runID == "r-a" && $0.state == "queued" && $0.labels == [KeyValue("team", "x")] })
        let assigned = h.assign("r-a")
        let finished = h.finish("r-a")
        let derived = ChangeEvents.derive(from: assigned + finished, index: 43, at: h.clock, state: h.state)
        #expect(derived.contains { $0.state == "running" && $0.attempt == 1 })
        #expect(derived.contains { $0.outcome == "succeeded" })
        // Executor orders are not client events.
        #expect(derived.count < (assigned + finished).count)
        #expect(ChangeEvent.id(index: 1, position: 1_000_000) == nil)
        #expect(ChangeEvent.id(index: .max, position: 0) == nil)
    }

    @Test("Last-Event-ID resumes right after that event: no gap, no duplicate")
    func resumeNoGap() {
        var window = EventWindow(capacity: 100)
        for index in UInt64(1)...10 { for position in 0..<3 { window.append(Self.event(index, position)) } }
        var (cursor, opening) = window.open(lastEventID: 4_000_001)
        #expect(opening == .resumed)
        let ids = Self.readAll(window, &cursor).compactMap(\.id)
        #expect(ids.first == 4_000_002)
        #expect(ids.count == 30 - 11)
        #expect(ids == ids.sorted() && Set(ids).count == ids.count)
        // A client whose last id is the newest gets nothing old, then the next live event.
        var (live, _) = window.open(lastEventID: 10_000_002)
        #expect(Self.readAll(window, &live).isEmpty)
        window.append(Self.event(11, 0))
        #expect(Self.readAll(window, &live).compactMap(\.id) == [11_000_000])
    }

    @Test("an id older than the window, or from before a restart, gets a reset; a newer one waits")
    func resetWhenOlderThanWindow() {
        var window = EventWindow(capacity: 5)
        for index in UInt64(1)...4 { for position in 0..<2 { window.append(Self.event(index, position)) } }
        // Holds ids 2_000_001 ... 4_000_001: everything after 2_000_000 is here.
        #expect(window.open(lastEventID: 2_000_000).opening == .resumed)
        #expect(window.open(lastEventID: 1_000_001).opening == .reset)
        #expect(window.open(lastEventID: nil).opening == .live)
        // Ahead of this node (the client came from a node further along): the caller decides
        // between waiting and a reset (EventStreamRoute); nothing old is read.
        var (ahead, aheadOpening) = window.open(lastEventID: 6_000_000)
        #expect(aheadOpening == .ahead(entry: 6) && Self.readAll(window, &ahead).isEmpty)

        var (cursor, _) = window.open(lastEventID: 3_000_000)
        window.restart(after: 100)
        guard case .reset(let after) = window.read(cursor, limit: 10, clientBuffer: 10) else {
            Issue.record("an open cursor must get a reset when the window restarts")
            return
        }
        cursor = after
        window.append(Self.event(101, 0))
        #expect(Self.readAll(window, &cursor).compactMap(\.id) == [101_000_000])
        #expect(window.open(lastEventID: 4_000_001).opening == .reset)
        #expect(window.open(lastEventID: 100_999_999).opening == .resumed)
    }

    @Test("a resume ahead of this node skips the events up to its id as the node applies them, not the live leader news")
    func aheadSkipsWhatTheClientHas() {
        var window = EventWindow(capacity: 100)
        window.append(Self.event(1, 0))
        window.append(Self.event(2, 0))
        var (cursor, opening) = window.open(lastEventID: 4_000_001)
        #expect(opening == .ahead(entry: 4))
        #expect(cursor.skipThrough == 4_000_001)
        // Entry 3 and entry 4 as far as the client saw it: it has them.
        window.append(Self.event(3, 0))
        window.append(Self.event(4, 0))
        window.append(ChangeEvent(id: nil, kind: .leader, at: Timestamp(5), state: "n2"))
        window.append(Self.event(4, 1))
        window.append(Self.event(4, 2))
        window.append(Self.event(5, 0))
        let read = Self.readAll(window, &cursor)
        #expect(read.map(\.kind) == [.leader, .run, .run])
        #expect(read.compactMap(\.id) == [4_000_002, 5_000_000])
        // An id just at the newest applied one is an ordinary resume.
        #expect(window.open(lastEventID: 5_000_000).opening == .resumed)
        #expect(window.open(lastEventID: 5_000_001).opening == .ahead(entry: 5))
    }

    @Test("leader events reach live clients but are not replayed to a resume")
    func unnumberedNotReplayed() {
        var window = EventWindow(capacity: 10)
        window.append(Self.event(1, 0))
        var (live, _) = window.open(lastEventID: nil)
        window.append(ChangeEvent(id: nil, kind: .leader, at: Timestamp(5), state: "n2"))
        window.append(Self.event(2, 0))
        #expect(Self.readAll(window, &live).map(\.kind) == [.leader, .run])
        var (resumed, _) = window.open(lastEventID: 1_000_000)
        #expect(Self.readAll(window, &resumed).map(\.kind) == [.run])
    }

    @Test("filters: types, job, dag and every label must match")
    func filters() {
        let run = ChangeEvent(id: 1, kind: .run, at: .zero, jobID: "j1", runID: "r1", dagID: "d1",
                              labels: [KeyValue("team", "a"), KeyValue("env", "prod")])
        let leader = ChangeEvent(id: nil, kind: .leader, at: .zero, state: "n1")
        #expect(EventFilter().matches(run) && EventFilter().matches(leader))
        #expect(EventFilter(kinds: [.run, .dag]).matches(run))
        #expect(!EventFilter(kinds: [.job]).matches(run))
        #expect(EventFilter(jobID: "j1").matches(run) && !EventFilter(jobID: "j2").matches(run))
        #expect(EventFilter(dagID: "d1").matches(run) && !EventFilter(dagID: "d1").matches(leader))
        #expect(EventFilter(labels: [KeyValue("team", "a"), KeyValue("env", "prod")]).matches(run))
        #expect(!EventFilter(labels: [KeyValue("team", "a"), KeyValue("env", "dev")]).matches(run))
    }

    @Test("overflow: a live client past its buffer is cut off; one the window overran is cut off")
    func overflowCutsOff() {
        var window = EventWindow(capacity: 100)
        let (cursor, _) = window.open(lastEventID: nil)
        for position in 0..<20 { window.append(Self.event(1, position)) }
        if case .cutOff = window.read(cursor, limit: 10, clientBuffer: 20) { Issue.record("20 behind fits a buffer of 20") }
        window.append(Self.event(2, 0))
        guard case .cutOff(let reason) = window.read(cursor, limit: 10, clientBuffer: 20) else {
            Issue.record("21 behind a buffer of 20 must be cut off")
            return
        }
        #expect(reason.contains("20"))
        // A resume backlog larger than the buffer is fine until the window forgets it.
        var (resumed, opening) = window.open(lastEventID: 999_999)
        #expect(opening == .resumed)
        #expect(Self.readAll(window, &resumed, buffer: 5).count == 21)
        var (slow, _) = window.open(lastEventID: 999_999)
        for index in UInt64(3)...200 { window.append(Self.event(index, 0)) }
        guard case .cutOff = window.read(slow, limit: 10, clientBuffer: 5) else {
            Issue.record("a cursor the window overran must be cut off")
            return
        }
        #expect(window.count == 100)
        #expect(window.open(lastEventID: 999_999).opening == .reset)
        slow = window.open(lastEventID: nil).cursor
        #expect(Self.readAll(window, &slow).isEmpty)
    }

    @Test("seeded: any resume point inside the window gives exactly the events after it, in order")
    func seededResume() {
        let seed = UInt64.random(in: 0 ... .max)
        var rng = SplitMix64(seed: seed)
        var window = EventWindow(capacity: 500)
        var all: [UInt64] = []
        for index in UInt64(1)...400 {
            for position in 0..<Int(rng.next() % 4) {
                let event = Self.event(index, position)
                window.append(event)
                if let id = event.id { all.append(id) }
            }
            if rng.next() % 5 == 0 { window.append(ChangeEvent(id: nil, kind: .leader, at: .zero)) }
        }
        let held = Array(all.suffix(500))
        for _ in 0..<50 {
            let pick = held[Int(rng.next() % UInt64(held.count))]
            var (cursor, opening) = window.open(lastEventID: pick)
            let got = Self.readAll(window, &cursor).compactMap(\.id)
            if opening == .resumed {
                #expect(got == all.filter { $0 > pick }, "seed \(seed), resume after \(pick)")
            } else {
                #expect(window.completeAfter > pick, "seed \(seed): reset although \(pick) is resumable")
            }
        }
    }
}
