import Foundation
@testable import HTTPAPI
import Hummingbird
import HummingbirdTesting
import Testing

/// `Prefer: return=minimal` on `POST /api/jobs` (RFC 7240): a 201 with the id, state and links
/// only, and `Preference-Applied`; everything else as without it.
@Suite("Prefer: return=minimal")
struct PreferMinimalTests {
    static let prefer = HTTPFields.Element.Name("Prefer")!
    static let applied = HTTPFields.Element.Name("Preference-Applied")!

    struct Minimal: Decodable, Equatable {
        struct Links: Decodable, Equatable { var `self`: String }
        var id: String
        var state: String
        var links: Links
    }

    @Test("a minimal 201 holds id, state and links.self, says Preference-Applied, and Location leads to the job")
    func minimalCreated() async throws {
        try await withAPI(makeLocalService()) { client in
            let response = try await client.send(.post, "/api/jobs", json: #"{"name":"a"}"#, headers: [Self.prefer: "return=minimal"])
            #expect(response.status == .created)
            #expect(response.headers[Self.applied] == "return=minimal")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any])
            #expect(Set(object.keys) == ["id", "state", "links"])
            let minimal = try response.decoded(Minimal.self)
            #expect(response.headers[.location] == minimal.links.`self`)
            #expect(minimal.links.`self` == "/api/jobs/\(minimal.id)")
            let job = try await client.send(.get, minimal.links.`self`).decoded(JobResource.self)
            #expect(job.id == minimal.id)
            #expect(job.state == minimal.state)
        }
    }

    @Test("without the preference, or with return=representation, the 201 is the whole job and nothing is applied")
    func representation() async throws {
        try await withAPI(makeLocalService()) { client in
            for headers: HTTPFields in [[:], [Self.prefer: "return=representation"], [Self.prefer: "respond-async"], [Self.prefer: "return"]] {
                let response = try await client.send(.post, "/api/jobs", json: #"{"name":"a"}"#, headers: headers)
                #expect(response.status == .created)
                #expect(response.headers[Self.applied] == nil)
                #expect(try response.decoded(JobResource.self).name == "a")
            }
        }
    }

    @Test("the preference is read from a list, case-insensitively, quoted or with parameters")
    func parsing() {
        func preference(_ values: [String]) -> ReturnPreference {
            var fields = HTTPFields()
            for value in values { fields.append(HTTPFields.Element(name: Self.prefer, value: value)) }
            return ReturnPreference(fields)
        }
        #expect(preference(["respond-async, RETURN=\"Minimal\"; foo=bar"]) == .minimal)
        #expect(preference(["wait=5", " return = minimal "]) == .minimal)
        #expect(preference(["return=representation, return=minimal"]) == .representation)
        #expect(preference(["return=minimalist"]) == .representation)
        #expect(preference([]) == .representation)
    }

    @Test("an idempotent repeat answers 200 minimal; a bad body is the usual error")
    func repeatAndErrors() async throws {
        try await withAPI(makeLocalService()) { client in
            let headers: HTTPFields = [Self.prefer: "return=minimal", idempotencyKeyHeader: "k1"]
            let first = try await client.send(.post, "/api/jobs", json: #"{"name":"a"}"#, headers: headers)
            let again = try await client.send(.post, "/api/jobs", json: #"{"name":"a"}"#, headers: headers)
            #expect(first.status == .created)
            #expect(again.status == .ok)
            #expect(again.headers[Self.applied] == "return=minimal")
            #expect(try again.decoded(Minimal.self) == first.decoded(Minimal.self))
            let bad = try await client.send(.post, "/api/jobs", json: #"{"name":"a","color":"red"}"#, headers: [Self.prefer: "return=minimal"])
            #expect(bad.status == .badRequest)
            #expect(bad.apiError?.field == "color")
            #expect(bad.headers[Self.applied] == nil)
        }
    }
}
