import Foundation
@testable import HTTPAPI
import SchedulerCore
import Testing

@Suite("Absent optional fields are written as null")
struct ExplicitNullTests {
    private func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    @Test("every documented key is present, absent values as null")
    func nullKeys() throws {
        let attempt = AttemptResource(
            runId: "r1", attempt: 0, executor: nil, state: "pending", outcome: nil, scheduledAt: APITimestamp(Timestamp(0)),
            startedAt: nil, finishedAt: nil, exitCode: nil, httpStatus: nil, durationMs: nil, outputTail: nil, error: nil,
            dagId: nil)
        #expect(
            try json(attempt)
                == #"{"attempt":0,"dag_id":null,"duration_ms":null,"error":null,"executor":null,"exit_code":null,"finished_at":null,"http_status":null,"lost_attempts":null,"outcome":null,"output_tail":null,"run_id":"r1","scheduled_at":"1970-01-01T00:00:00.000Z","started_at":null,"state":"pending","tries":null}"#
        )
        let letter = DeadLetterResource(
            runId: "r1", jobId: nil, dagId: nil, taskId: nil, attempts: 3, tries: nil, lostAttempts: nil, error: "exit code 1",
            deadAt: APITimestamp(Timestamp(0)))
        #expect(
            try json(letter)
                == #"{"attempts":3,"dag_id":null,"dead_at":"1970-01-01T00:00:00.000Z","error":"exit code 1","job_id":null,"lost_attempts":null,"run_id":"r1","task_id":null,"tries":null}"#
        )
        #expect(try json(ErrorDetail(code: "not_found", message: "no job x", field: nil)) == #"{"code":"not_found","field":null,"message":"no job x"}"#)
        #expect(try json(ListPage<String>(items: [], nextCursor: nil)) == #"{"items":[],"next_cursor":null}"#)
        #expect(try json(ClusterResource(leader: nil, term: 1, commitIndex: 0, nodes: [])) == #"{"commit_index":0,"leader":null,"nodes":[],"term":1}"#)
    }

    @Test("null and a missing key both read back as nil")
    func decodes() throws {
        let decoder = JSONDecoder()
        let withNull = try decoder.decode(ErrorDetail.self, from: Data(#"{"code":"x","message":"y","field":null}"#.utf8))
        let missing = try decoder.decode(ErrorDetail.self, from: Data(#"{"code":"x","message":"y"}"#.utf8))
        let present = try decoder.decode(ErrorDetail.self, from: Data(#"{"code":"x","message":"y","field":"name"}"#.utf8))
        #expect(withNull.field == nil)
        #expect(missing.field == nil)
        #expect(present.field == "name")
    }
}
