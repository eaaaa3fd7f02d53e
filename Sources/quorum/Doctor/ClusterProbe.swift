import AsyncHTTPClient
import Foundation
import HTTPAPI
import NIOCore
import NIOHTTP1

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
        let health: HTTPClientResponse
        do {
            health = try await client.execute(request(url + "/healthz"), timeout: TimeAmount(timeout))
            _ = try await health.body.collect(upTo: 64 << 10)
        } catch {
            observation.unreachable = "\(error)"
            return observation
        }
        guard health.status == .ok else {
            observation.unreachable = "/healthz answered \(health.status.code)"
            return observation
        }
        let middle = sent.addingTimeInterval((clock.now - started).seconds / 2)
        if let header = health.headers.first(name: "Date"), let date = Self.httpDate(header) {
            observation.clockOffsetSeconds = date.timeIntervalSince(middle)
        }
        observation.ready = (try? await fetch(url + "/readyz"))?.status == 200
        do {
            let (status, body) = try await fetch(url + "/api/cluster")
            if status == 200 {
                observation.cluster = try JSONDecoder().decode(ClusterResource.self, from: Data(body))
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
        let response = try await client.execute(request(url), timeout: TimeAmount(timeout))
        let body = try await response.body.collect(upTo: 8 << 20)
        return (Int(response.status.code), Array(buffer: body))
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

extension Duration {
    /// In seconds, as a `Double`.
    var seconds: Double {
        let (whole, attoseconds) = components
        return Double(whole) + Double(attoseconds) / 1e18
    }
}
