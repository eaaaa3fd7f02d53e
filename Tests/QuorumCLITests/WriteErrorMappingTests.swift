import Foundation
import HTTPAPI
import NodeRuntime
import Testing

@testable import quorum

@Suite("RaftAPIReplica maps write errors to the API's")
struct WriteErrorMappingTests {
    @Test("a write over max_entry_bytes is 413 payload_too_large naming the key, the size and the limit, without Retry-After")
    func entryTooLarge() throws {
        let error = RaftAPIReplica.apiError(writing: .entryTooLarge(EntryTooLarge(size: 20_971_520, limit: 4_194_304)))
        #expect(error.code == .payloadTooLarge)
        #expect(error.code.statusCode == 413)
        #expect(error.retryAfterSeconds == nil)
        let body = try JSONEncoder().encode(error.envelope)
        let object = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
        let detail = try #require(object["error"] as? [String: Any])
        #expect(detail["code"] as? String == "payload_too_large")
        let message = try #require(detail["message"] as? String)
        #expect(message.contains("max_entry_bytes"))
        #expect(message.contains("20971520 bytes"))
        #expect(message.contains("(4194304)"))
        #expect(message.contains("split"))
    }

    @Test("an unavailability stays 503 with Retry-After")
    func unavailable() {
        let error = RaftAPIReplica.apiError(writing: .unavailable(ReplicaUnavailable("no leader is known; retry shortly")))
        #expect(error.code == .unavailable)
        #expect(error.retryAfterSeconds == 1)
    }

    @Test("a write whose outcome is unknown is 503 outcome_unknown, not unavailable: clients must not repeat it without a key")
    func outcomeUnknown() {
        let error = RaftAPIReplica.apiError(writing: .unavailable(ReplicaUnavailable(
            "leader n2 did not answer; the outcome is unknown", outcomeUnknown: true)))
        #expect(error.code == .outcomeUnknown)
        #expect(error.code.rawValue == "outcome_unknown")
        #expect(error.code.statusCode == 503)
        #expect(error.retryAfterSeconds == 1)
    }
}
