import AsyncHTTPClient
import Foundation
import HTTPAPI
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// Sends an ``APIRequest`` to the first server of a ``ServerList`` that can serve it.
///
/// The next server is tried when one refuses or cannot be reached (nothing was sent, so even a
/// write is safe to repeat) or answers 503 `unavailable` (no leader: nothing was applied). A
/// failure after the request was sent — no answer, or a 503 `outcome_unknown` (proposed, commit
/// unknown) — moves on only for requests that are safe to repeat (``APIRequest/isSafeToRepeat``:
/// reads, and writes with an `Idempotency-Key`); for any other write the outcome is unknown and
/// is reported as such rather than risking a duplicate.
public struct FailoverTransport: Sendable {
    /// The servers, in the order tried.
    public let servers: ServerList
    /// The HTTP client; owned by the caller.
    public let httpClient: HTTPClient
    /// The deadline of one request to one server.
    public let requestTimeout: Duration
    /// The largest response body accepted.
    public let maxResponseBytes: Int
    /// How long to keep going round the list again while no server can serve (every one
    /// unreachable or without a leader, as during an election); zero tries the list once.
    public let unavailableWait: Duration
    /// The pause between two rounds of ``unavailableWait``.
    public static let roundPause: Duration = .milliseconds(500)

    /// The bearer token sent with every request (`Authorization: Bearer …`), if any.
    public let token: String?

    /// A transport over `httpClient` (see ``FailoverTransport/makeHTTPClient(connectTimeout:)``).
    public init(servers: ServerList, httpClient: HTTPClient, requestTimeout: Duration = .seconds(30),
                unavailableWait: Duration = .zero, maxResponseBytes: Int = 64 << 20, token: String? = nil) {
        self.token = token
        self.servers = servers
        self.httpClient = httpClient
        self.requestTimeout = requestTimeout
        self.unavailableWait = unavailableWait
        self.maxResponseBytes = maxResponseBytes
    }

    /// An HTTP client that gives up on a server quickly: connecting times out after
    /// `connectTimeout`, and a refused connection fails at once instead of being retried with
    /// backoff until that timeout (AsyncHTTPClient's default), so failover is fast.
    public static func makeHTTPClient(connectTimeout: Duration = .seconds(1), tls: TLSConfiguration? = nil) -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        if let tls { configuration.tlsConfiguration = tls }
        configuration.timeout = .init(connect: TimeAmount(connectTimeout))
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.redirectConfiguration = .disallow
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// The first answer that is not a 503, from the first server that gives one; with
    /// ``unavailableWait``, rounds over the list repeat (``roundPause`` apart) until one answers
    /// or the wait is over. Nothing a round passes over was applied, so repeating is safe.
    public func send(_ request: APIRequest) async throws(QuorumClientError) -> APIResponse {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: unavailableWait)
        while true {
            let failure: QuorumClientError
            do {
                return try await sendRound(request)
            } catch {
                failure = error
            }
            guard case .noServerAvailable = failure, clock.now.advanced(by: Self.roundPause) < deadline else { throw failure }
            do {
                try await Task.sleep(for: Self.roundPause)
            } catch {
                // Cancelled: report what the last round found.
                throw failure
            }
        }
    }

    /// One pass over the list.
    func sendRound(_ request: APIRequest) async throws(QuorumClientError) -> APIResponse {
        var attempts: [ServerAttempt] = []
        for server in servers.urls {
            let outcome = await sendOnce(request, to: server)
            switch outcome {
            case .answered(let response) where response.status == 503:
                let reason = Self.unavailableReason(response)
                guard request.isSafeToRepeat || Self.errorCode(of: response) != "outcome_unknown" else {
                    throw .outcomeUnknown(server: server, request: request.description, reason: reason)
                }
                attempts.append(ServerAttempt(server: server, reason: reason))
            case .answered(let response):
                return response
            case .notConnected(let reason):
                attempts.append(ServerAttempt(server: server, reason: reason))
            case .noAnswer(let reason):
                guard request.isSafeToRepeat else {
                    throw .outcomeUnknown(server: server, request: request.description, reason: reason)
                }
                attempts.append(ServerAttempt(server: server, reason: reason))
            }
        }
        throw .noServerAvailable(attempts)
    }

    /// What became of one request to one server.
    enum Outcome {
        /// The server answered.
        case answered(APIResponse)
        /// No connection was made: the request was not sent.
        case notConnected(String)
        /// Connected, but no complete answer came back: the request may have been applied.
        case noAnswer(String)
    }

    func sendOnce(_ request: APIRequest, to server: String) async -> Outcome {
        var clientRequest = HTTPClientRequest(url: server + request.target)
        clientRequest.method = HTTPMethod(rawValue: request.method.rawValue)
        clientRequest.headers.add(name: "Accept", value: "application/json")
        if let body = request.body {
            clientRequest.headers.add(name: "Content-Type", value: "application/json")
            clientRequest.body = .bytes(ByteBuffer(bytes: body))
        }
        if let key = request.idempotencyKey { clientRequest.headers.add(name: "Idempotency-Key", value: key) }
        if let version = request.ifMatch { clientRequest.headers.add(name: "If-Match", value: "\"\(version)\"") }
        if let token { clientRequest.headers.add(name: "Authorization", value: "Bearer \(token)") }
        do {
            // The request timeout bounds the whole answer, body included (``BoundedFetch``).
            let response = try await BoundedFetch.fetch(clientRequest, with: httpClient, timeout: requestTimeout, upTo: maxResponseBytes)
            return .answered(APIResponse(server: server, status: response.status, body: Array(buffer: response.body)))
        } catch is BoundedFetch.Timeout {
            return .noAnswer("no complete answer within the request timeout")
        } catch {
            if let reason = Self.connectFailure(error) { return .notConnected(reason) }
            return .noAnswer(Self.describe(error))
        }
    }

    /// A short reason when `error` happened before the request was sent, else nil.
    static func connectFailure(_ error: any Error) -> String? {
        switch error {
        case let io as IOError:
            switch io.errnoCode {
            case ECONNREFUSED: return "connection refused"
            case EHOSTUNREACH, ENETUNREACH: return "host unreachable"
            case EADDRNOTAVAIL: return "address not available"
            default: return nil
            }
        case let connection as NIOConnectionError:
            if let first = connection.connectionErrors.first { return connectFailure(first.error) ?? "could not connect: \(first.error)" }
            return connection.dnsAAAAError.map { "host name not resolved: \($0)" } ?? "could not connect"
        case is SocketAddressError:
            return "host name not resolved"
        case let channel as ChannelError:
            if case .connectTimeout = channel { return "no connection within the connect timeout" }
            return nil
        case let client as HTTPClientError:
            // HTTPClientError is a struct of static values, compared with ==.
            if client == .connectTimeout || client == .getConnectionFromPoolTimeout {
                return "no connection within the connect timeout"
            }
            if client == .invalidURL || client == .emptyHost || client == .emptyScheme {
                return "not a valid server URL: \(client)"
            }
            return nil
        default:
            return nil
        }
    }

    static func describe(_ error: any Error) -> String {
        if let client = error as? HTTPClientError {
            if client == .deadlineExceeded { return "no answer within the request timeout" }
            if client == .remoteConnectionClosed { return "the server closed the connection" }
        }
        return "\(error)"
    }

    /// `503 unavailable: <the server's message>`.
    /// The `error.code` of an error answer, if its body is the API's error envelope.
    static func errorCode(of response: APIResponse) -> String? {
        (try? JSONDecoder().decode(ErrorEnvelope.self, from: Data(response.body)))?.error.code
    }

    static func unavailableReason(_ response: APIResponse) -> String {
        if let envelope = try? JSONDecoder().decode(ErrorEnvelope.self, from: Data(response.body)) {
            return "503 \(envelope.error.code): \(envelope.error.message)"
        }
        return "503"
    }
}

extension TimeAmount {
    /// `duration` in nanoseconds (saturating).
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        self = .nanoseconds(overflow ? Int64.max : whole &+ attoseconds / 1_000_000_000)
    }
}
