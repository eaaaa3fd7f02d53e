import Foundation
import QuorumClient
import QuorumTestServer
import Testing

/// A server that sends its status line and headers and then nothing: the client gives up at its
/// request timeout instead of waiting forever (AsyncHTTPClient's own deadline ends at the head;
/// ``BoundedFetch`` bounds the body too).
@Suite("The client against a server that stalls after its headers")
struct StalledAnswerTests {
    @Test("a read ends with an error within about the request timeout")
    func stalledReadIsBounded() async throws {
        let gate = RequestGate()
        let started = ContinuousClock.now
        let outcome: Result<Void, any Error> = try await TestAPIServer.withServer(
            router: TestAPIServer.makeDoctorTargetRouter(cluster: .garbage("{}"), gate: gate)) { url in
            defer { gate.open() }
            do {
                try await QuorumAPIClient.withClient(servers: try ServerList(parsing: url), requestTimeout: .seconds(1)) { api in
                    _ = try await api.cluster()
                }
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        let elapsed = ContinuousClock.now - started
        guard case .failure(let error) = outcome else {
            Issue.record("a stalled answer was taken as complete")
            return
        }
        #expect("\(error)".contains("no complete answer within the request timeout"), "\(error)")
        #expect(elapsed < .seconds(15), "took \(elapsed) with a 1 s request timeout")
    }
}
