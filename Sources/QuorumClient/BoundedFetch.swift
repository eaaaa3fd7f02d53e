import AsyncHTTPClient
import NIOCore
import NIOHTTP1

/// A whole HTTP answer — status, headers and body — within one deadline.
///
/// Why: AsyncHTTPClient's `execute(_:timeout:)` deadline ends when the response head arrives,
/// so a server that sends its headers and then nothing holds `body.collect` forever. Every
/// request a node or the CLI makes to another node goes through here, so a stalled peer costs
/// at most `timeout` (the body read is cancelled at the deadline).
public enum BoundedFetch {
    /// A complete answer.
    public struct Answer: Sendable {
        public var status: Int
        public var headers: HTTPHeaders
        public var body: ByteBuffer
    }

    /// The answer did not complete within the deadline (head or body).
    public struct Timeout: Error, CustomStringConvertible {
        public let url: String
        public let timeout: Duration
        public var description: String { "no complete answer from \(url) within \(timeout)" }
    }

    /// Sends `request` and collects at most `limit` body bytes, all within `timeout`.
    ///
    /// - Throws: ``Timeout`` past the deadline; AsyncHTTPClient's errors otherwise (connection
    ///   refused, a body over `limit`, …).
    public static func fetch(_ request: HTTPClientRequest, with client: HTTPClient, timeout: Duration,
                             upTo limit: Int) async throws -> Answer {
        try await withThrowingTaskGroup(of: Answer?.self) { group in
            group.addTask {
                let response = try await client.execute(request, timeout: TimeAmount(timeout))
                let body = try await response.body.collect(upTo: limit)
                return Answer(status: Int(response.status.code), headers: response.headers, body: body)
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let answer = first else {
                throw Timeout(url: request.url, timeout: timeout)
            }
            return answer
        }
    }
}
