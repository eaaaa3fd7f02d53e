import Foundation
import HTTPAPI
import Hummingbird
import HummingbirdTesting
import SchedulerCore
import Synchronization
import Testing

/// `GET /api/cluster/digest`: equal states at an equal index have equal digests, any applied
/// change moves both, and a service without an applied index answers 503 instead of a made-up one.
@Suite("State digest route")
struct StateDigestRouteTests {
    /// Submits `names` as once jobs and returns the digest the route reports afterwards.
    private func digest(after names: [String]) async throws -> StateDigestResource {
        let result = Mutex<StateDigestResource?>(nil)
        try await withAPI(makeLocalService()) { client in
            for name in names {
                let created = try await client.send(.post, "/api/jobs", json: #"{"name":"\#(name)"}"#)
                #expect(created.status == .created)
            }
            let response = try await client.send(.get, "/api/cluster/digest")
            #expect(response.status == .ok)
            #expect(response.text.contains("\"applied_index\""))
            let body = try response.decoded(StateDigestResource.self)
            result.withLock { $0 = body }
        }
        return try #require(result.withLock { $0 })
    }

    @Test("two replicas fed the same writes report the same index and digest; another write changes both")
    func equalStatesEqualDigests() async throws {
        let first = try await digest(after: ["a", "b"])
        let second = try await digest(after: ["a", "b"])
        #expect(first == second)
        #expect(first.digest.count == 16)
        #expect(first.digest.allSatisfy { $0.isHexDigit && !$0.isUppercase })
        let longer = try await digest(after: ["a", "b", "c"])
        #expect(longer.appliedIndex > first.appliedIndex)
        #expect(longer.digest != first.digest)
        let different = try await digest(after: ["a", "x"])
        #expect(different.appliedIndex == first.appliedIndex)
        #expect(different.digest != first.digest)
    }

    @Test("the digest is a zero-padded 16-digit hex string")
    func padding() {
        #expect(StateDigestResource(appliedIndex: 3, digest: 0xab).digest == "00000000000000ab")
        #expect(StateDigestResource(appliedIndex: 3, digest: UInt64.max).digest == "ffffffffffffffff")
    }

    @Test("a service that keeps no applied index answers 503, not a digest")
    func noIndexNoDigest() async throws {
        try await withAPI(NoLeaderService(local: makeLocalService())) { client in
            let response = try await client.send(.get, "/api/cluster/digest")
            #expect(response.status == .serviceUnavailable)
            #expect(response.apiError?.code == "unavailable")
        }
    }
}
