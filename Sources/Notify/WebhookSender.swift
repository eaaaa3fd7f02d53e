import AsyncHTTPClient
import EgressHTTP
import EgressPolicy
import NIOCore
import NIOHTTP1
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// POSTs a notification's JSON payload to a webhook URL, signed, and classifies the answer.
///
/// The same egress rules as http tasks (``EgressPin``, `[executor] http_deny`/`http_allow`): the
/// host is resolved and judged before any packet goes to it, and the connection is pinned to the
/// judged address. Redirects are not followed (as Stripe and GitHub do not): a 3xx is a
/// permanent failure naming the `Location`, so a webhook can never be bounced to an internal
/// address, and the operator configures the final URL.
///
/// Classification: 2xx delivered; 408, 429 and 5xx retryable (`Retry-After`, in seconds or as
/// an HTTP-date, honoured up to ``Settings/retryAfterCap``); other statuses permanent; timeouts,
/// refused or dropped connections and resolver failures retryable; a denied address permanent.
public struct WebhookSender: Sendable {
    /// How requests are made.
    public struct Settings: Sendable {
        /// Which addresses may be reached (the executor's `http_deny`/`http_allow` policy).
        public var policy: AddressPolicy
        /// The whole request, connection included, must end within this.
        public var timeout: Duration
        /// The longest `Retry-After` honoured; longer advice is cut to it.
        public var retryAfterCap: Duration
        /// AsyncHTTPClient's settings (TLS trust, connect timeout, …); pin and redirects are set per request.
        public var clientConfiguration: HTTPClient.Configuration
        /// Where the connections run.
        public var eventLoopGroup: any EventLoopGroup
        /// The wall clock, in Unix seconds, for the signature's `t`.
        public var now: @Sendable () -> Int64

        /// Settings with a 10 s timeout, Retry-After capped at 10 min, NIO's shared event loops and the system clock.
        public init(policy: AddressPolicy = AddressPolicy(), timeout: Duration = .seconds(10), retryAfterCap: Duration = .seconds(600),
                    clientConfiguration: HTTPClient.Configuration = HTTPClient.Configuration(),
                    eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
                    now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }) {
            self.policy = policy
            self.timeout = timeout
            self.retryAfterCap = retryAfterCap
            self.clientConfiguration = clientConfiguration
            self.eventLoopGroup = eventLoopGroup
            self.now = now
        }
    }

    /// How requests are made.
    public let settings: Settings

    /// A sender.
    public init(settings: Settings = Settings()) {
        self.settings = settings
    }

    /// Sends `event` to `url`, signed with `secret` (unsigned without one), and says how it ended.
    public func send(_ event: NotificationEvent, to url: String, secret: WebhookSecret?) async -> DeliveryOutcome {
        await send(body: NotificationPayload.encode(event), eventID: event.eventID, type: event.type.rawValue, to: url, secret: secret)
    }

    /// Sends an already encoded payload (what ``send(_:to:secret:)`` does after encoding).
    public func send(body: [UInt8], eventID: String, type: String, to url: String, secret: WebhookSecret?) async -> DeliveryOutcome {
        guard let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = parsed.host, !host.isEmpty
        else {
            return .permanent(reason: "webhook url \"\(url)\" is invalid: give an absolute http:// or https:// URL with a host")
        }
        let pin: [String: String]
        switch await EgressPin.pin(url, policy: settings.policy, what: "webhook") {
        case .success(let pinned): pin = pinned
        case .failure(let refusal):
            // A resolver failure may pass; a denied address will not until the config changes.
            if refusal.kind == .unresolved { return .retryable(reason: refusal.text, retryAfter: nil) }
            return .permanent(reason: "webhook refused: \(refusal.text)")
        }
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "quorum-notify/1")
        request.headers.add(name: "Quorum-Event-Id", value: Self.headerSafe(eventID))
        request.headers.add(name: "Quorum-Event-Type", value: Self.headerSafe(type))
        if let secret {
            request.headers.add(name: WebhookSignature.headerName,
                                value: WebhookSignature.header(body: body, timestamp: settings.now(), secret: secret))
        }
        request.body = .bytes(ByteBuffer(bytes: body))

        var configuration = EgressPin.configuration(settings.clientConfiguration, pinnedTo: pin)
        let timeout = TimeAmount.milliseconds(RetrySchedule.timeoutMilliseconds(settings.timeout))
        configuration.timeout.connect = min(configuration.timeout.connect ?? timeout, timeout)
        let client = HTTPClient(eventLoopGroup: settings.eventLoopGroup, configuration: configuration)
        let outcome = await exchange(request, client: client, deadline: .now() + timeout, url: url)
        try? await client.shutdown()
        return outcome
    }

    private func exchange(_ request: HTTPClientRequest, client: HTTPClient, deadline: NIODeadline, url: String) async -> DeliveryOutcome {
        do {
            // No logger: AsyncHTTPClient's request logs would carry the URL, which may hold a token.
            let response = try await client.execute(request, deadline: deadline)
            // The receiver's answer is not used; read at most a little so the connection ends cleanly.
            var read = 0
            for try await buffer in response.body {
                read += buffer.readableBytes
                if read > 65_536 { break }
            }
            return classify(status: response.status, headers: response.headers, url: url)
        } catch {
            return .retryable(reason: Self.describe(error, url: url), retryAfter: nil)
        }
    }

    /// The outcome of a response with `status`.
    func classify(status: HTTPResponseStatus, headers: HTTPHeaders, url: String) -> DeliveryOutcome {
        let code = Int(status.code)
        let answered = "webhook \(url) answered \(code) \(status.reasonPhrase)"
        switch code {
        case 200..<300:
            return .delivered
        case 300..<400:
            let location = headers.first(name: "Location").map { " to \($0)" } ?? ""
            return .permanent(reason: "\(answered)\(location); webhooks do not follow redirects: configure the final URL")
        case 408, 429, 500...:
            let advice = headers.first(name: "Retry-After").flatMap { RetryAfterHeader.delay($0, now: settings.now()) }
            return .retryable(reason: answered, retryAfter: advice.map { min($0, settings.retryAfterCap) })
        default:
            return .permanent(reason: "\(answered); fix the URL or the receiver, then send a test notification")
        }
    }

    /// Ids and types come from the cluster, but a header must never carry CR or LF.
    private static func headerSafe(_ value: String) -> String {
        String(value.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }.map(Character.init))
    }

    /// A message for a request that got no complete response.
    static func describe(_ error: any Error, url: String) -> String {
        if let clientError = error as? HTTPClientError {
            switch clientError {
            case .connectTimeout: return "connecting to webhook \(url) timed out"
            case .deadlineExceeded: return "webhook \(url) did not answer before the timeout"
            case .remoteConnectionClosed: return "webhook \(url) closed the connection before answering"
            default: return "webhook \(url) failed: \(clientError)"
            }
        }
        if let ioError = error as? IOError, ioError.errnoCode == ECONNREFUSED {
            return "connection refused by webhook \(url)"
        }
        if let connectionError = error as? NIOConnectionError, !connectionError.connectionErrors.isEmpty {
            return "cannot connect to webhook \(url): \(connectionError.connectionErrors.map { "\($0.error)" }.joined(separator: "; "))"
        }
        return "webhook \(url) failed: \(error)"
    }
}
