import AsyncHTTPClient
import Foundation
import HTTPAPI
import NIOCore
import NIOHTTP1
import QuorumClient

/// Asks one node's API what doctor needs: `/healthz`, `/readyz`, `/api/cluster` (with the token)
/// and `/api/cluster/digest`, noting its clock from the `Date` header.
struct ClusterProbe {
    let client: HTTPClient
    let token: String?
    let timeout: Duration

    func observe(id: String, url: String) async -> NodeObservation {
        var observation = NodeObservation(id: id, url: url)
        let clock = ContinuousClock()
        let sent = Date()
        let started = clock.now
        let health: (status: Int, headers: HTTPHeaders)
        do {
            health = try await fetch(url + "/healthz", upTo: 64 << 10)
        } catch {
            observation.unreachable = "\(error)"
            return observation
        }
        guard health.status == 200 else {
            observation.unreachable = "/healthz answered \(health.status)"
            return observation
        }
        let middle = sent.addingTimeInterval((clock.now - started).seconds / 2)
        if let header = health.headers.first(name: "Date"), let date = Self.httpDate(header) {
            observation.clockOffsetSeconds = date.timeIntervalSince(middle)
        }
        observation.ready = (try? await fetch(url + "/readyz"))?.status == 200
        do {
            let (status, body) = try await fetch(url + "/api/cluster")
            observation.clusterStatus = status
            if status == 200 {
                do {
                    observation.cluster = try JSONDecoder().decode(ClusterResource.self, from: Data(body))
                } catch {
                    observation.clusterProblem = "the answer is not a Quorum cluster view (\(Self.decodingProblem(error)))"
                }
            } else {
                observation.clusterProblem = "answered \(status)"
            }
        } catch {
            observation.clusterProblem = "\(error)"
        }
        observation.digest = try? await digest(url)
        return observation
    }

    /// `GET /api/cluster/digest` (`nil` when the build has none: 404).
    func digest(_ url: String) async throws -> (appliedIndex: UInt64, digest: String)? {
        let (status, body) = try await fetch(url + "/api/cluster/digest")
        guard status == 200,
              let object = try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
              let index = (object["applied_index"] as? NSNumber)?.uint64Value,
              let digest = object["digest"]
        else { return nil }
        return (index, "\(digest)")
    }

    private func fetch(_ url: String) async throws -> (status: Int, body: [UInt8]) {
        let (status, _, body) = try await fetchWithHeaders(url, upTo: 8 << 20)
        return (status, body)
    }

    private func fetch(_ url: String, upTo limit: Int) async throws -> (status: Int, headers: HTTPHeaders) {
        let (status, headers, _) = try await fetchWithHeaders(url, upTo: limit)
        return (status, headers)
    }

    /// The status, headers and body of `GET url`, all within ``timeout`` (``BoundedFetch``: a node
    /// that sends its headers and then nothing must not hold doctor forever).
    private func fetchWithHeaders(_ url: String, upTo limit: Int) async throws -> (status: Int, headers: HTTPHeaders, body: [UInt8]) {
        do {
            let answer = try await BoundedFetch.fetch(request(url), with: client, timeout: timeout, upTo: limit)
            return (answer.status, answer.headers, Array(buffer: answer.body))
        } catch is BoundedFetch.Timeout {
            throw ProbeTimeout(url: url, timeout: timeout)
        }
    }

    /// What is wrong with a body that is not a ``ClusterResource``, in one short line.
    static func decodingProblem(_ error: any Error) -> String {
        switch error {
        case DecodingError.dataCorrupted: "not JSON"
        case DecodingError.keyNotFound(let key, _): "no \"\(key.stringValue)\""
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            "\"\(context.codingPath.map(\.stringValue).joined(separator: "."))\" has the wrong type"
        default: "\(error)"
        }
    }

    private func request(_ url: String) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: url)
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        return request
    }

    /// An RFC 9110 IMF-fixdate (`Sun, 06 Dec 2026 04:30:00 GMT`).
    static func httpDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: text)
    }
}

/// A node that did not answer completely within doctor's `--timeout`.
struct ProbeTimeout: Error, CustomStringConvertible {
    let url: String
    let timeout: Duration
    var description: String { "no complete answer from \(url) within \(timeout.seconds) s (--timeout)" }
}

extension Duration {
    /// In seconds, as a `Double`.
    var seconds: Double {
        let (whole, attoseconds) = components
        return Double(whole) + Double(attoseconds) / 1e18
    }
}
