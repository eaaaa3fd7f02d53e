import Foundation
@testable import HTTPAPI
import SchedulerCore
import Testing

@Suite("RFC 3339 timestamps")
struct RFC3339Tests {
    @Test("formats UTC with milliseconds")
    func formats() {
        #expect(RFC3339.format(Timestamp(0)) == "1970-01-01T00:00:00.000Z")
        #expect(RFC3339.format(Timestamp(1_796_115_600_123)) == "2026-12-01T09:00:00.123Z")
        #expect(RFC3339.format(Timestamp(951_782_400_000)) == "2000-02-29T00:00:00.000Z")
        #expect(RFC3339.format(Timestamp(-1)) == "1969-12-31T23:59:59.999Z")
    }

    @Test("parses what it formats, offsets and fractions", arguments: [
        ("2026-12-01T09:00:00.123Z", Int64(1_796_115_600_123)),
        ("2026-12-01T09:00:00Z", 1_796_115_600_000),
        ("2026-12-01T10:00:00+01:00", 1_796_115_600_000),
        ("2026-12-01T04:30:00-04:30", 1_796_115_600_000),
        ("2026-12-01t09:00:00.1z", 1_796_115_600_100),
        ("2026-12-01T09:00:00.123456789Z", 1_796_115_600_123),
        ("2000-02-29T00:00:00Z", 951_782_400_000),
    ])
    func parses(text: String, milliseconds: Int64) {
        #expect(RFC3339.parse(text) == Timestamp(milliseconds))
    }

    @Test("rejects what is not RFC 3339", arguments: [
        "", "2026-12-01", "2026-12-01T09:00:00", "2026-13-01T09:00:00Z", "2026-02-29T09:00:00Z",
        "2026-12-01T24:00:00Z", "2026-12-01T09:60:00Z", "2026-12-01T09:00:60Z", "2026-12-01T09:00:00.Z",
        "2026-12-01T09:00:00+0100", "2026-12-01T09:00:00Zjunk", "tomorrow at nine o'clock please",
    ])
    func rejects(text: String) {
        #expect(RFC3339.parse(text) == nil)
    }

    @Test("round-trips across the years")
    func roundTrips() {
        var ms: Int64 = -2_000_000_000_000
        while ms < 4_000_000_000_000 {
            #expect(RFC3339.parse(RFC3339.format(Timestamp(ms))) == Timestamp(ms))
            ms += 7_777_777_777
        }
    }
}

@Suite("Strict decoding")
struct StrictDecodingTests {
    func decodeError<T: Decodable>(_ type: T.Type, _ json: String) -> APIError? {
        do {
            _ = try StrictJSON.decode(type, from: Array(json.utf8))
            return nil
        } catch {
            return error
        }
    }

    @Test("the seed body decodes")
    func seed() throws {
        let job = try StrictJSON.decode(JobSubmission.self, from: Array(#"{"name":"example-job","type":"cron","schedule":"0 * * * *","priority":1}"#.utf8))
        #expect(job.name == "example-job")
        #expect(job.priority == .integer(1))
    }

    @Test("malformed JSON is a bad request without a field", arguments: ["{", "[1,2]", "{\"name\":}", "null", "   "])
    func malformed(json: String) {
        let error = decodeError(JobSubmission.self, json)
        #expect(error?.code == .badRequest)
    }

    @Test("unknown and wrong-typed fields name their path", arguments: [
        (#"{"name":"a","colour":"red"}"#, "colour", APIError.Code.badRequest),
        (#"{"name":5}"#, "name", .badRequest),
        (#"{"name":"a","priority":"high"}"#, "priority", .badRequest),
        (#"{"name":"a","task":{"kind":"shell","command":"ls"}}"#, "task.command", .badRequest),
        (#"{"name":"a","task":{"kind":"shell","command":["ls"],"url":"x"}}"#, "task.url", .badRequest),
        (#"{"name":"a","task":{"kind":"rocket"}}"#, "task.kind", .invalid),
        (#"{"name":"a","task":{"kind":"http"}}"#, "task.url", .invalid),
        (#"{"name":"a","retry":{"max_attempts":"3"}}"#, "retry.max_attempts", .badRequest),
        (#"{"name":"a","retry":{"tries":3}}"#, "retry.tries", .badRequest),
        (#"{"name":"a","labels":{"team":1}}"#, "labels.team", .badRequest),
        (#"{"name":"a","run_at":"next tuesday"}"#, "run_at", .invalid),
    ])
    func fieldPaths(json: String, field: String, code: APIError.Code) throws {
        let error = try #require(decodeError(JobSubmission.self, json))
        #expect(error.field == field, "\(error)")
        #expect(error.code == code, "\(error)")
    }

    @Test("a batch names jobs[i] in the path")
    func batchPaths() throws {
        let json = #"{"jobs":[{"name":"a"},{"name":"b"},{"name":"c"},{"name":"d","task":{"kind":"shell","command":[1]}}]}"#
        let error = try #require(decodeError(BatchSubmission.self, json))
        #expect(error.field == "jobs[3].task.command[0]")
        #expect(error.code == .badRequest)
        let unknown = try #require(decodeError(BatchSubmission.self, #"{"jobs":[{"name":"a","nme":"b"}]}"#))
        #expect(unknown.field == "jobs[0].nme")
        let top = try #require(decodeError(BatchSubmission.self, #"{"jobs":[],"extra":1}"#))
        #expect(top.field == "extra")
    }

    @Test("DAG tasks name tasks[i] in the path")
    func dagPaths() throws {
        let json = #"{"name":"etl","tasks":[{"id":"a"},{"id":"b","depends_on":"a"}]}"#
        let error = try #require(decodeError(DAGSubmission.self, json))
        #expect(error.field == "tasks[1].depends_on")
        #expect(error.code == .badRequest)
    }

    @Test("field paths render like the API writes them")
    func pathRendering() {
        let path: [any CodingKey] = [AnyCodingKey(stringValue: "jobs"), AnyCodingKey(intValue: 3),
                                     AnyCodingKey(stringValue: "task"), AnyCodingKey(stringValue: "command")]
        #expect(FieldPath.render(path) == "jobs[3].task.command")
    }
}
