import Notify
import Testing

@Suite("Notification payload JSON")
struct NotificationPayloadTests {
    static let dead = NotificationEvent(
        eventID: "ev-0000000000000042", type: .dead, atUnixMilliseconds: 1_796_531_100_123,
        jobID: "job-7", jobName: "nightly-report", runID: "run-9", attempt: 3, maxAttempts: 3, outcome: "failed",
        error: "exit status 2", outputTail: "line 1\nsaid \"no\" \\ done\u{1}", dashboardURL: "https://quorum.example.com/jobs/job-7")

    @Test("golden: every key, in the documented order, nulls for what does not apply")
    func golden() {
        let expected = #"{"payload_version":1,"event_id":"ev-0000000000000042","type":"dead","at":"2026-12-06T04:25:00.123Z","#
            + #""job_id":"job-7","job_name":"nightly-report","run_id":"run-9","dag_id":null,"dag_name":null,"dag_run_id":null,"#
            + #""attempt":3,"max_attempts":3,"outcome":"failed","error":"exit status 2","#
            + #""output_tail":"line 1\nsaid \"no\" \\ done\u0001","dashboard_url":"https://quorum.example.com/jobs/job-7","#
            + #""missed_count":null,"missed_from":null,"missed_until":null}"#
        #expect(NotificationPayload.json(Self.dead) == expected)
        #expect(NotificationPayload.encode(Self.dead) == Array(expected.utf8))
    }

    @Test("folded missed fires: missed_count and the range of due times, RFC 3339")
    func missedFires() {
        let event = NotificationEvent(eventID: "ev-0000000002000000", type: .missed, atUnixMilliseconds: 1_796_531_100_000,
                                      jobID: "job-7", jobName: "nightly-report", missedCount: 9,
                                      missedFromUnixMilliseconds: 1_796_500_800_000, missedUntilUnixMilliseconds: 1_796_529_600_000)
        let json = NotificationPayload.json(event)
        #expect(json.contains(#""type":"missed""#))
        #expect(json.hasSuffix(#""missed_count":9,"missed_from":"2026-12-05T20:00:00.000Z","missed_until":"2026-12-06T04:00:00.000Z"}"#))
    }

    @Test("a DAG event: job fields null, type names as the config writes them")
    func dagEvent() {
        let event = NotificationEvent(eventID: "ev-1", type: .dagFailed, atUnixMilliseconds: 0, dagID: "dag-1", dagName: "etl", dagRunID: "dr-1")
        let json = NotificationPayload.json(event)
        #expect(json.hasPrefix(#"{"payload_version":1,"event_id":"ev-1","type":"dag_failed","at":"1970-01-01T00:00:00.000Z","job_id":null"#))
        #expect(json.contains(#""dag_id":"dag-1","dag_name":"etl","dag_run_id":"dr-1","attempt":null"#))
        #expect(NotificationEventType.allCases.map(\.rawValue)
            == ["succeeded", "failed", "dead", "timed_out", "lost", "dag_succeeded", "dag_failed", "missed", "overlap_skipped"])
    }

    @Test("the output tail keeps the last 2048 bytes, starting at a character boundary")
    func outputTail() {
        var event = Self.dead
        event.outputTail = String(repeating: "é", count: 3000) // 2 bytes each
        let json = NotificationPayload.json(event)
        let tail = json.split(separator: #""output_tail":""#)[1].split(separator: "\"")[0]
        #expect(tail.utf8.count == 2048)
        #expect(tail.allSatisfy { $0 == "é" })
        event.outputTail = String(repeating: "é", count: 1024) + "x" // 2049 bytes: the last 2048 start inside an é
        let odd = NotificationPayload.json(event).split(separator: #""output_tail":""#)[1].split(separator: "\"")[0]
        #expect(odd == Substring(String(repeating: "é", count: 1023) + "x"))
    }

    @Test("times before the epoch and far ahead format as RFC 3339")
    func times() {
        let at = { (ms: Int64) in
            NotificationPayload.json(NotificationEvent(eventID: "e", type: .missed, atUnixMilliseconds: ms))
                .split(separator: #""at":""#)[1].prefix(24)
        }
        #expect(at(-1) == "1969-12-31T23:59:59.999Z")
        #expect(at(951_782_400_000) == "2000-02-29T00:00:00.000Z")
        #expect(at(4_102_444_800_000) == "2100-01-01T00:00:00.000Z")
    }
}
