import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// What one request to a node came to.
enum HTTPOutcome: Sendable {
    /// The node answered; `runID` is its `Quorum-Run-Id` header (the run a trigger started).
    case response(status: Int, body: Data, runID: String? = nil)
    /// The connection was refused: the request was never received (nothing happened).
    case refused
    /// Anything else (timeout, reset, a node that stopped mid-request): it may or may not have happened.
    case unknown(String)

    /// The body as a JSON object, if it is one.
    var object: [String: Any]? {
        guard case .response(_, let body, _) = self else { return nil }
        return (try? JSONSerialization.jsonObject(with: body)) as? [String: Any]
    }

    /// The status, if the node answered.
    var status: Int? {
        guard case .response(let status, _, _) = self else { return nil }
        return status
    }

    /// The error code of an error body (`unavailable`, `outcome_unknown`…).
    var errorCode: String? { (object?["error"] as? [String: Any])?["code"] as? String }
}

/// The tool's HTTP client: plain JSON requests with a deadline, no retries (the workload decides).
final class ChaosHTTP: Sendable {
    private let client: HTTPClient

    init(group: any EventLoopGroup) {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = HTTPClient.Configuration.Timeout(connect: .seconds(1))
        configuration.connectionPool = .init(idleTimeout: .seconds(30))
        client = HTTPClient(eventLoopGroupProvider: .shared(group), configuration: configuration)
    }

    /// Sends `method url` with an optional JSON body and headers, waiting at most `timeout`.
    func send(_ method: HTTPMethod, _ url: String, json: Data? = nil, headers: [(String, String)] = [],
              timeout: Duration = .seconds(4)) async -> HTTPOutcome {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: json))
        }
        do {
            let seconds = Int64(timeout.components.seconds)
            let response = try await client.execute(request, timeout: .seconds(max(1, seconds)))
            let body = try await response.body.collect(upTo: 4 << 20)
            return .response(status: Int(response.status.code), body: Data(body.readableBytesView),
                             runID: response.headers.first(name: "Quorum-Run-Id"))
        } catch {
            let text = "\(error)"
            if text.contains("connectionRefused") || text.contains("Connection refused") || text.contains("ECONNREFUSED") {
                return .refused
            }
            return .unknown(text)
        }
    }

    /// Closes the client's connections.
    func shutdown() async {
        try? await client.shutdown()
    }
}
