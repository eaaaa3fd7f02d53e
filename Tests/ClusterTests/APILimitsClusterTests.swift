import Foundation
import Testing

extension RealClusterTests {
    /// `[api.limits]` reaches the running node's API: the mapping is unit-tested
    /// (APILimitsConfigMappingTests); this checks the node actually serves with it.
    @Suite("[api.limits] on a running node")
    struct APILimitsClusterTests {
        @Test("max_labels = 2 and max_page_size = 5: 2 labels and limit=5 pass; 3 labels and limit=6 are 422 naming labels and limit")
        func configuredLimitsReachTheAPI() async throws {
            var timing = TestCluster.Timing()
            timing.extraConfig = "[api.limits]\nmax_labels = 2\nmax_page_size = 5\ndefault_page_size = 5\n"
            try await TestCluster.with(nodes: 1, timing: timing) { cluster in
                let api = cluster.api("n1")
                func submit(labels: Int) async throws -> APIResponse {
                    let pairs = (0..<labels).map { #""k\#($0)":"v""# }.joined(separator: ",")
                    let body = #"{"name":"labelled","type":"once","task":{"kind":"noop"},"labels":{\#(pairs)}}"#
                    return try await api.post("/api/jobs", data: Data(body.utf8))
                }
                let atLimit = try await submit(labels: 2)
                #expect(atLimit.status == 201, "\(atLimit.text.prefix(300))")
                let past = try await submit(labels: 3)
                #expect(past.status == 422, "\(past.text.prefix(300))")
                let error = try past.decode(ErrorObject.self).error
                #expect(error.field == "labels", "\(error)")
                #expect(error.message.contains("2"), "\(error.message)")

                #expect(try await api.get("/api/jobs?limit=5").status == 200)
                let overPage = try await api.get("/api/jobs?limit=6")
                #expect(overPage.status == 422, "\(overPage.text.prefix(300))")
                #expect(try overPage.decode(ErrorObject.self).error.field == "limit")
            }
        }
    }
}
