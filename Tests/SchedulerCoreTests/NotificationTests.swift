import SchedulerCore
import Testing

@Suite("Notifications: derivation and the replicated table")
struct NotificationTests {
    private static let hook = "https://hooks.example.com/q"

    /// Runs a once job with `retry.maxAttempts = 2` to death, deriving at each entry with the
    /// given settings and rules; returns every record derived, in order.
    private func deriveLifecycle(settings: NotificationSettings, rules: [NotificationRule]) -> [NotificationRecord] {
        var h = Harness()
        var index: UInt64 = 0
        var records: [NotificationRecord] = []
        func step(_ events: [SchedulerEvent], _ h: Harness) {
            index += 1
            records += NotificationDerivation.derive(from: events, index: index, at: h.clock, state: h.state, settings: settings) {
                $0.jobID == "a" ? rules : []
            }
        }
        step(h.submitOnce("a", retry: RetryPolicy(maxAttempts: 2, jitter: false)), h)
        step(h.assign("r-a"), h)
        step(h.fail("r-a"), h)
        h.clock = h.clock + 1_000
        step(h.apply(.tick), h)
        step(h.assign("r-a"), h)
        step(h.fail("r-a"), h)
        return records
    }

    @Test("a retried failure is `failed`, the last one `dead` only; each destination once, keyed by entry and position")
    func failedThenDead() {
        let rule = NotificationRule(on: [.failed, .dead], webhook: Self.hook, email: ["b@x.org", "a@x.org", "a@x.org"])
        let records = deriveLifecycle(settings: NotificationSettings(), rules: [rule])
        #expect(records.map(\.trigger) == [.failed, .failed, .dead, .dead])
        #expect(records.map(\.destination) == [.webhook(Self.hook), .email(["a@x.org", "b@x.org"]),
                                               .webhook(Self.hook), .email(["a@x.org", "b@x.org"])])
        #expect(records[0].key == NotificationKey(event: 3_000_000, destination: 0))
        #expect(records[2].key == NotificationKey(event: 6_000_000, destination: 0))
        #expect(records[2].eventID == "ev-0000000006000000")
        #expect(records[2].jobID == "a" && records[2].runID == "r-a" && records[2].attempt == 2)
    }

    @Test("nothing is derived for a job whose rules do not ask, and cluster defaults apply to every job")
    func onlyWhenAsked() {
        #expect(deriveLifecycle(settings: NotificationSettings(), rules: []).isEmpty)
        #expect(deriveLifecycle(settings: NotificationSettings(), rules: [NotificationRule(on: [.succeeded], webhook: Self.hook)]).isEmpty)
        let defaults = NotificationSettings(defaults: NotificationRule(on: [.dead], webhook: Self.hook))
        let records = deriveLifecycle(settings: defaults, rules: [NotificationRule(on: [.dead], webhook: Self.hook)])
        #expect(records.map(\.trigger) == [.dead], "a default and a job rule to the same webhook send once")
    }

    @Test("derivation is deterministic: two replicas applying the same entries derive the same records")
    func deterministic() {
        let settings = NotificationSettings(defaults: NotificationRule(on: NotificationTrigger.allCases, webhook: Self.hook))
        #expect(deriveLifecycle(settings: settings, rules: []) == deriveLifecycle(settings: settings, rules: []))
    }

    @Test("a forbidden cron fire is overlap_skipped")
    func overlapSkipped() {
        var h = Harness()
        h.submitCron("c", firstFireAt: h.clock, concurrency: .forbid)
        let fire = { (n: Int64, h: inout Harness) -> [SchedulerEvent] in
            h.apply(.fireCron(FireCron(jobID: "c", scheduledAt: h.clock, nextFireAt: h.clock + 60_000, runID: RunID("c-\(n)"))))
        }
        _ = fire(1, &h)
        h.clock = h.clock + 60_000
        let events = fire(2, &h)
        let settings = NotificationSettings(defaults: NotificationRule(on: [.overlapSkipped, .missed], webhook: Self.hook))
        let records = NotificationDerivation.derive(from: events, index: 9, at: h.clock, state: h.state, settings: settings) { _ in [] }
        #expect(records.map(\.trigger) == [.overlapSkipped])
        #expect(records.first?.jobID == "c")
    }

    private func record(_ event: UInt64, at: Int64 = 0) -> NotificationRecord {
        NotificationRecord(key: NotificationKey(event: event, destination: 0), trigger: .dead, destination: .webhook(Self.hook),
                           at: Timestamp(milliseconds: at), jobID: "a")
    }

    @Test("pending is capped by max_pending; the overflow is counted; a replayed record adds nothing")
    func cap() {
        var table = NotificationTable()
        table.record([record(1), record(2), record(3)], maxPending: 2)
        #expect(table.pending.count == 2 && table.dropped == 1)
        table.record([record(1)], maxPending: 10)
        #expect(table.pending.count == 2 && table.dropped == 1)
    }

    @Test("retry moves the next try; delivered and failed settle once; a stale outcome changes nothing")
    func transitions() {
        var table = NotificationTable()
        table.record([record(1, at: 100), record(2, at: 50)], maxPending: 10)
        #expect(table.due(at: Timestamp(milliseconds: 100), limit: 10).map(\.key.event) == [2, 1])
        let retried = table.apply(.retry(NotificationKey(event: 1, destination: 0), tries: 1, nextAttemptAt: Timestamp(milliseconds: 500),
                                         error: "503"))
        #expect(retried)
        #expect(table.due(at: Timestamp(milliseconds: 499), limit: 10).map(\.key.event) == [2])
        #expect(table.nextDueAt == Timestamp(milliseconds: 50))
        let delivered = table.apply(.delivered(NotificationKey(event: 1, destination: 0), tries: 2))
        let again = table.apply(.delivered(NotificationKey(event: 1, destination: 0), tries: 3))
        let failed = table.apply(.failed(NotificationKey(event: 2, destination: 0), tries: 8, error: "404"))
        #expect(delivered && failed)
        #expect(!again, "a second leader's outcome is stale")
        #expect(table.pending.isEmpty && table.deliveredTotal == 1 && table.failedTotal == 1)
        #expect(table.records(in: .delivered).map(\.tries) == [2])
        #expect(table.records(in: .failed).map(\.lastError) == ["404"])
        #expect(table.records(forJob: "a").count == 2)
        table.record([record(1)], maxPending: 10)
        #expect(table.pending.isEmpty, "a settled notification is not recorded again")
    }
}
