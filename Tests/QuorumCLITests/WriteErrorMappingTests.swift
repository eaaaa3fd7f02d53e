import Foundation
import HTTPAPI
import NodeCore
import NodeRuntime
import SchedulerPlanning
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

    @Test("a write the leader finds invalid at its stamp is 422 naming the field (jobs[i]. inside a batch)")
    func invalidAtTheStamp() {
        let single = RaftAPIReplica.apiError(writing: .invalid(UnstampedCommand.ResolveError(batchIndex: nil, field: "schedule",
                                                                                              message: "never fires after now")))
        #expect(single.code == .invalid && single.field == "schedule" && single.message == "never fires after now")
        let batch = RaftAPIReplica.apiError(writing: .invalid(UnstampedCommand.ResolveError(batchIndex: 3, field: "schedule",
                                                                                             message: "x")))
        #expect(batch.field == "jobs[3].schedule")
    }

    @Test("a pending-jobs quota refusal is 429 quota_exceeded with Retry-After 5; a state-bytes one is 507 insufficient_storage")
    func quotaExceeded() {
        let pending = RaftAPIReplica.apiError(writing: .quotaExceeded(QuotaRefusal(quota: .maxPendingJobs, current: 5, adding: 1, limit: 5)))
        #expect(pending.code == .quotaExceeded && pending.code.statusCode == 429 && pending.code.rawValue == "quota_exceeded")
        #expect(pending.retryAfterSeconds == 5)
        #expect(pending.message.contains("[quotas] max_pending_jobs (5)") && pending.message.contains("5 runs"))
        let bytes = RaftAPIReplica.apiError(writing: .quotaExceeded(QuotaRefusal(quota: .maxStateBytes, current: 3_000_000,
                                                                                   adding: 200, limit: 2_000_000)))
        #expect(bytes.code == .insufficientStorage && bytes.code.statusCode == 507 && bytes.code.rawValue == "insufficient_storage")
        #expect(bytes.retryAfterSeconds == nil)
        #expect(bytes.message.contains("[quotas] max_state_bytes (2000000)") && bytes.message.contains("3000000 bytes"))
    }

    @Test("an upgrade refusal is 503 unavailable with the leader's message and Retry-After 5")
    func upgradeInProgress() {
        let error = RaftAPIReplica.apiError(writing: .upgradeInProgress(message: "upgrade in progress: n3 (format 1)"))
        #expect(error.code == .unavailable)
        #expect(error.retryAfterSeconds == 5)
        #expect(error.message == "upgrade in progress: n3 (format 1)")
    }
}
