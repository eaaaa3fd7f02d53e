import Foundation
@testable import HTTPAPI
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

    @Test("the byte-wise check decides every value as the Foundation one does: parameters, case, blanks, look-alikes, non-ASCII",
          arguments: ["application/json", "APPLICATION/JSON", " application/json ", "\tapplication/json;charset=utf-8",
                      "application/json ; x=y", "application/jsonp", "application/jso", "applicationXjson", "application\u{0F}json",
                      "aPPlication/Json", "application/json\u{00A0}", "\u{00A0}application/json", "application/jsön", "",
                      ";application/json", ";;application/json", " ;application/json", "application/json;", "text/json", "application/json\r", "a\u{2003}pplication/json"])
    func byteWiseCheck(contentType: String) {
        let general = contentType.split(separator: ";", maxSplits: 1).first.map {
            $0.trimmingCharacters(in: .whitespaces).lowercased()
        } == "application/json"
        #expect(RequestReading.declaresJSON(contentType) == general, "\(contentType.debugDescription)")
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
