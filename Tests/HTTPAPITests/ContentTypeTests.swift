import HTTPAPI
import Hummingbird
import HummingbirdTesting
import NIOCore
import SchedulerCore
import Testing

/// JSON bodies need `Content-Type: application/json`: what keeps a web page from posting jobs.
@Suite("Content-Type of JSON bodies")
struct ContentTypeTests {
    static let job = #"{"name":"x"}"#

    @Test("a form-encoded, text/plain or undeclared body is 415 naming Content-Type, and nothing is created",
          arguments: ["application/x-www-form-urlencoded", "text/plain", "multipart/form-data; boundary=x", nil, "application/jsonp"])
    func refused(contentType: String?) async throws {
        try await withAPI(makeLocalService()) { client in
            for path in ["/api/jobs", "/api/jobs/batch", "/api/dags"] {
                var headers: HTTPFields = [:]
                if let contentType { headers[.contentType] = contentType }
                let response = try await client.execute(uri: path, method: .post, headers: headers, body: ByteBuffer(string: Self.job))
                #expect(response.status == .unsupportedMediaType, "\(path) \(String(describing: contentType))")
                let error = try response.decoded(ErrorEnvelope.self).error
                #expect(error.code == "unsupported_media_type")
                #expect(error.field == "Content-Type")
            }
            #expect(try await client.send(.get, "/api/jobs").decoded(ListPage<JobResource>.self).items.isEmpty)
        }
    }

    @Test("application/json with parameters and in any case is accepted")
    func accepted() async throws {
        try await withAPI(makeLocalService()) { client in
            for contentType in ["application/json", "application/json; charset=utf-8", "Application/JSON"] {
                let headers: HTTPFields = [.contentType: contentType]
                let response = try await client.execute(uri: "/api/jobs", method: .post, headers: headers, body: ByteBuffer(string: Self.job))
                #expect(response.status == .created, "\(contentType)")
            }
        }
    }
}
