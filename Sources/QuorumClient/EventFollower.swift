import AsyncHTTPClient
import NIOCore
import NIOHTTP1

/// Follows `GET /api/events` across the servers of a ``ServerList``: when a stream ends or a
/// server cannot be reached, it reconnects to the next one with `Last-Event-ID`, so no event
/// is missed or repeated (event ids are the same on every node).
public struct EventFollower: Sendable {
    /// What the follower reports besides events.
    public enum Notice: Sendable, Equatable {
        /// Connected to this server.
        case connected(String)
        /// Lost this server (or could not reach it), with why; it goes on with the next.
        case lost(String, reason: String)
        /// The server could not resume after the last id: list again, then follow.
        case reset(String)
    }

    /// The servers, tried in order and round again.
    public let servers: ServerList
    /// The HTTP client (its connect timeout decides how soon an unreachable server is skipped).
    public let httpClient: HTTPClient
    /// The bearer token, if the cluster needs one.
    public let token: String?
    /// `GET /api/events` with its filters (``request(types:job:dag:labels:)``).
    public let request: APIRequest
    /// Pause after every server failed once, before the next round.
    public let retryPause: Duration

    /// A follower.
    public init(servers: ServerList, httpClient: HTTPClient, token: String?, request: APIRequest, retryPause: Duration = .seconds(1)) {
        self.servers = servers
        self.httpClient = httpClient
        self.token = token
        self.request = request
        self.retryPause = retryPause
    }

    /// `GET /api/events` with these filters.
    public static func request(types: [String], job: String?, dag: String?, labels: [String]) -> APIRequest {
        var query: [APIRequest.QueryItem] = []
        if !types.isEmpty { query.append(.init("types", types.joined(separator: ","))) }
        if let job { query.append(.init("job", job)) }
        if let dag { query.append(.init("dag", dag)) }
        query += labels.map { .init("label", $0) }
        return APIRequest(.get, ["api", "events"], query: query)
    }

    /// Follows until the task is cancelled, or a server refuses the request itself (4xx:
    /// a bad filter or token; thrown as ``QuorumClientError``).
    public func follow(lastEventID: String? = nil, onEvent: (ServerSentEvent) -> Void, onNotice: (Notice) -> Void) async throws {
        var lastEventID = lastEventID
        var index = 0
        var failuresInRound = 0
        while !Task.isCancelled {
            let server = servers.urls[index % servers.urls.count]
            let outcome = await stream(from: server, after: &lastEventID, onEvent: onEvent, onNotice: onNotice)
            switch outcome {
            case .refused(let error):
                throw error
            case .ended(let reason, let receivedAny):
                onNotice(.lost(server, reason: reason))
                failuresInRound = receivedAny ? 0 : failuresInRound + 1
            }
            index += 1
            if failuresInRound >= servers.urls.count {
                failuresInRound = 0
                try await Task.sleep(for: retryPause)
            }
        }
    }

    enum Outcome {
        case ended(String, receivedAny: Bool)
        case refused(QuorumClientError)
    }

    private func stream(from server: String, after lastEventID: inout String?, onEvent: (ServerSentEvent) -> Void,
                        onNotice: (Notice) -> Void) async -> Outcome {
        var request = HTTPClientRequest(url: server + self.request.target)
        request.headers.add(name: "Accept", value: "text/event-stream")
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let lastEventID { request.headers.add(name: "Last-Event-ID", value: lastEventID) }
        var receivedAny = false
        do {
            // No overall deadline: the stream is meant to stay open (the server's heartbeats keep it busy).
            let response = try await httpClient.execute(request, deadline: .distantFuture)
            let status = Int(response.status.code)
            guard status == 200 else {
                let body = (try? await response.body.collect(upTo: 64 << 10)).map { Array(buffer: $0) } ?? []
                let reply = APIResponse(server: server, status: status, body: body)
                if (400..<500).contains(status), status != 404, status != 429 {
                    do {
                        _ = try QuorumAPIClient.checked(reply, request: self.request)
                    } catch {
                        return .refused(error)
                    }
                }
                return .ended("HTTP \(status)", receivedAny: false)
            }
            onNotice(.connected(server))
            var parser = ServerSentEventParser()
            for try await chunk in response.body {
                for event in parser.consume(chunk.readableBytesView) {
                    receivedAny = true
                    if event.event == "reset" {
                        onNotice(.reset(server))
                        continue
                    }
                    if let id = event.id { lastEventID = id }
                    onEvent(event)
                }
            }
            return .ended("the server ended the stream", receivedAny: receivedAny)
        } catch {
            return .ended(FailoverTransport.describe(error), receivedAny: receivedAny)
        }
    }
}
