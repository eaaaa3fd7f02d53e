import DeterministicRandom
import SchedulerCore
import Testing

/// The leader's per-round questions to the notification table — which are due, earliest first,
/// and when the next one is — answered from its due index, checked against the obvious answer
/// (filter every pending one and sort) over seeded random histories of records and outcomes.
@Suite("notification table: the due index")
struct NotificationDueIndexTests {
    /// What `due(at:limit:)` must answer: every pending one due by `now`, by (next attempt, key).
    static func reference(_ table: NotificationTable, at now: Timestamp, limit: Int) -> [NotificationKey] {
        Array(table.pending.values.filter { $0.nextAttemptAt <= now }
            .sorted { ($0.nextAttemptAt, $0.key) < ($1.nextAttemptAt, $1.key) }.prefix(limit).map(\.key))
    }

    @Test("seeded: due and nextDueAt match a full sort through records, retries, deliveries, failures and a snapshot restore")
    func matchesFullSort() throws {
        let seed = UInt64.random(in: 0 ... .max)
        var random = SplitMix64(seed: seed)
        var table = NotificationTable()
        var now = Timestamp(1_000_000)
        var event: UInt64 = 1
        for step in 0..<3_000 {
            now = now.adding(milliseconds: Int64(random.below(50)))
            switch random.below(10) {
            case 0..<4:
                let records = (0..<(1 + random.below(3))).map { destination in
                    NotificationRecord(key: NotificationKey(event: event * 1_000_000, destination: destination), trigger: .dead,
                                       destination: .webhook("https://h.example.com/\(destination)"),
                                       at: now.adding(milliseconds: Int64(random.below(2_000)) - 1_000))
                }
                event += 1
                table.record(records, maxPending: 500)
            default:
                let keys = table.pending.keys.sorted()
                guard !keys.isEmpty else { continue }
                let key = keys[random.below(keys.count)]
                switch random.below(4) {
                case 0: table.apply(.delivered(key, tries: 1))
                case 1: table.apply(.failed(key, tries: 8, error: "HTTP 410"))
                default: table.apply(.retry(key, tries: 1, nextAttemptAt: now.adding(milliseconds: Int64(random.below(5_000))), error: "HTTP 503"))
                }
            }
            let limit = 1 + random.below(40)
            #expect(table.due(at: now, limit: limit).map(\.key) == Self.reference(table, at: now, limit: limit),
                    "seed \(seed), step \(step)")
            #expect(table.nextDueAt == table.pending.values.map(\.nextAttemptAt).min(), "seed \(seed), step \(step)")
        }
        #expect(table.pending.count > 0, "seed \(seed): the history left nothing pending to check")
    }

    @Test("a retried notification moves to its new time; a settled one is never offered again")
    func retryMovesSettledLeaves() {
        var table = NotificationTable()
        let t0 = Timestamp(10_000)
        let a = NotificationKey(event: 1_000_000, destination: 0), b = NotificationKey(event: 2_000_000, destination: 0)
        table.record([NotificationRecord(key: a, trigger: .dead, destination: .webhook("https://h/a"), at: t0),
                      NotificationRecord(key: b, trigger: .dead, destination: .webhook("https://h/b"), at: t0.adding(milliseconds: 5))],
                     maxPending: 10)
        #expect(table.due(at: t0.adding(milliseconds: 10), limit: 10).map(\.key) == [a, b])
        table.apply(.retry(a, tries: 1, nextAttemptAt: t0.adding(milliseconds: 100), error: "HTTP 503"))
        #expect(table.due(at: t0.adding(milliseconds: 10), limit: 10).map(\.key) == [b])
        #expect(table.nextDueAt == t0.adding(milliseconds: 5))
        table.apply(.delivered(b, tries: 1))
        #expect(table.nextDueAt == t0.adding(milliseconds: 100))
        #expect(table.due(at: t0.adding(milliseconds: 100), limit: 10).map(\.key) == [a])
        table.record([NotificationRecord(key: b, trigger: .dead, destination: .webhook("https://h/b"), at: t0)], maxPending: 10)
        #expect(table.due(at: t0.adding(milliseconds: 100), limit: 10).map(\.key) == [a], "a replayed record of a settled one adds nothing")
    }
}
