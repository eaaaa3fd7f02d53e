import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix

/// One HTTP answer: status, headers and body.
struct APIResponse: Sendable {
    var status: Int
    var headers: [(name: String, value: String)]
    var body: Data

    /// The first header named `name` (case-insensitive).
    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// The body as text, for messages.
    var text: String { String(decoding: body, as: UTF8.self) }

    /// The body decoded as `T` (snake_case keys).
    func decode<T: Decodable>(_ type: T.Type = T.self) throws -> T {
        do {
            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = .convertFromSnakeCase
            return try decoder.decode(T.self, from: body)
        } catch {
            throw ClusterError("HTTP \(status): cannot decode \(T.self) from \(text.prefix(500)): \(error)")
        }
    }

    /// The body decoded as `T` if the status is `expected`; else an error naming both.
    func expect<T: Decodable>(_ expected: Int, as type: T.Type = T.self) throws -> T {
        guard status == expected else { throw ClusterError("expected HTTP \(expected), got \(status): \(text.prefix(500))") }
        return try decode(T.self)
    }
}

/// A small JSON-over-HTTP client for one node's API (AsyncHTTPClient; connects fail fast so a
/// killed node is noticed at once, and every request has a deadline so a stopped one is too).
struct APIClient: Sendable {
    /// `http://127.0.0.1:PORT`.
    let baseURL: String

    private static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.timeout.connect = .milliseconds(500)
        configuration.timeout.read = .seconds(15)
        configuration.connectionPool.idleTimeout = .seconds(5)
        return HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
    }()

    /// GET `path` (with its query).
    func get(_ path: String, headers: [String: String] = [:], timeout: Duration = .seconds(15)) async throws -> APIResponse {
        try await send("GET", path, body: nil, headers: headers, timeout: timeout)
    }

    /// POST `path` with `body` as JSON (or no body).
    func post(_ path: String, json body: (some Encodable)?, headers: [String: String] = [:],
              timeout: Duration = .seconds(15)) async throws -> APIResponse {
        // Sorted keys: a retry sends the very same bytes (an Idempotency-Key with another body is a 409).
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let data = try body.map { try encoder.encode($0) }
        return try await send("POST", path, body: data, headers: headers, timeout: timeout)
    }

    /// PATCH `path` with `json` sent as is.
    func patch(_ path: String, json: String, headers: [String: String] = [:], timeout: Duration = .seconds(15)) async throws -> APIResponse {
        try await send("PATCH", path, body: Data(json.utf8), headers: headers, timeout: timeout)
    }

    /// POST `path` with `data` as a JSON body sent as is (for bodies too large to build as values).
    func post(_ path: String, data: Data, timeout: Duration = .seconds(15)) async throws -> APIResponse {
        try await send("POST", path, body: data, headers: [:], timeout: timeout)
    }

    /// DELETE `path`.
    func delete(_ path: String, timeout: Duration = .seconds(15)) async throws -> APIResponse {
        try await send("DELETE", path, body: nil, headers: [:], timeout: timeout)
    }

    /// POST `path` with no body.
    func post(_ path: String, timeout: Duration = .seconds(15)) async throws -> APIResponse {
        try await send("POST", path, body: nil, headers: [:], timeout: timeout)
    }

    private func send(_ method: String, _ path: String, body: Data?, headers: [String: String],
                      timeout: Duration) async throws -> APIResponse {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = .init(rawValue: method)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let seconds = timeout.components.seconds
        let response = try await Self.client.execute(request, timeout: .seconds(max(1, seconds)))
        let buffer = try await response.body.collect(upTo: 16 << 20)
        return APIResponse(status: Int(response.status.code),
                           headers: response.headers.map { ($0.name, $0.value) },
                           body: Data(buffer.readableBytesView))
    }
}

/// RFC 3339 timestamps of the API (`2026-12-01T09:00:00.123Z`).
enum APITime {
    /// The instant `text` names; an error names the text.
    static func parse(_ text: String) throws -> Date {
        do {
            return try Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text)
        } catch {
            throw ClusterError("not an RFC 3339 timestamp with milliseconds: \(text)")
        }
    }

    /// `date` as the API writes it (UTC, milliseconds).
    static func format(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
