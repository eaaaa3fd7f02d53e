import HTTPAPI
@testable import quorum
import QuorumClient
import Testing

/// What `quorum node --join` does with each answer to its request to be added or promoted.
@Suite("quorum node --join: answers")
struct JoinAnswerTests {
    static func api(_ status: Int, _ code: String, _ message: String = "m") -> QuorumClientError {
        .api(server: "http://127.0.0.1:1", status: status, detail: ErrorDetail(code: code, message: message, field: nil))
    }

    @Test("success is accepted; a missing or weak token waits for an operator; a conflict is looked into")
    func answers() {
        #expect(JoinAnswer.classify(nil) == .accepted)
        #expect(JoinAnswer.classify(Self.api(401, "unauthorized", "no token")) == .needsAdministrator("no token"))
        #expect(JoinAnswer.classify(Self.api(403, "forbidden", "role submit")) == .needsAdministrator("role submit"))
        #expect(JoinAnswer.classify(Self.api(409, "conflict", "n4 was removed earlier")) == .conflict("n4 was removed earlier"))
    }

    @Test("not now — no leader, a change in flight, catching up, a 5xx, nobody answering — is asked again")
    func retries() {
        let retried: [QuorumClientError] = [
            Self.api(409, "change_in_progress"), Self.api(500, "internal"), Self.api(429, "rate_limited"),
            .noServerAvailable([]), .outcomeUnknown(server: "s", request: "r", reason: "x"),
            .unexpectedResponse(server: "s", request: "r", status: 502, reason: "html"),
        ]
        for error in retried {
            guard case .retry = JoinAnswer.classify(error) else {
                Issue.record("\(error) should be retried, got \(JoinAnswer.classify(error))")
                continue
            }
        }
    }

    @Test("never — a bad URL or TLS file, addresses the cluster refuses — stops the node with the cluster's message")
    func refusals() {
        for error in [Self.api(422, "invalid", "raft: 127.0.0.1:7001 is already n2's raft address"), Self.api(404, "not_found"),
                      QuorumClientError.invalidServer("x", reason: "no scheme"), .invalidTLS("no such file")] {
            guard case .refused(let message) = JoinAnswer.classify(error) else {
                Issue.record("\(error) should stop the node, got \(JoinAnswer.classify(error))")
                continue
            }
            #expect(!message.isEmpty)
        }
    }

    @Test("retries back off from 0.5 s to a 10 s ceiling, never overflowing")
    func pauses() {
        #expect(JoinAnswer.pause(beforeRetry: 1) == .milliseconds(500))
        #expect(JoinAnswer.pause(beforeRetry: 2) == .seconds(1))
        #expect(JoinAnswer.pause(beforeRetry: 5) == .seconds(8))
        #expect(JoinAnswer.pause(beforeRetry: 6) == .seconds(10))
        #expect(JoinAnswer.pause(beforeRetry: Int.max) == .seconds(10))
        #expect(JoinAnswer.pause(beforeRetry: 0) == .milliseconds(500))
    }
}
