import AsyncHTTPClient
import EgressHTTP
import EgressPolicy
import NIOCore
import NIOHTTP1
import NIOPosix
import SchedulerCore
import Synchronization

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

/// Sends an ``HTTPTask``'s request with AsyncHTTPClient and judges the answer: 2xx succeeds.
///
/// Before any packet goes to a server, its host is resolved here and every address is judged by
/// the node's ``AddressPolicy`` (`[executor] http_deny` / `http_allow`); the connection is then
/// pinned to the judged address with AsyncHTTPClient's `dnsOverride`, so a second DNS answer
/// cannot move it (TLS SNI, certificate checks and `Host` keep the URL's name). Redirects are
/// followed here, each target judged and pinned the same way, at most ``HTTPRedirect/maximum``.
///
/// The response body streams through an ``OutputTail``. Cancelling the calling task (timeout or
/// the caller's cancellation) cancels the request and closes its connection.
struct HTTPRunner: Sendable {
    let configuration: ExecutorConfiguration
    /// The base client settings; each hop gets its own client with its pin and redirects off.
    let clients: HTTPClientSettings
    let clock: any Clock<Duration>

    /// State shared with the request task, which may be cut short.
    private final class Capture: Sendable {
        let tail: Mutex<OutputTail>
        let status = Mutex<Int32?>(nil)
        init(limit: Int) { tail = Mutex(OutputTail(limit: limit)) }
    }

    private enum Ending: Sendable {
        case completed
        case failed(String)
        /// AsyncHTTPClient's backstop deadline (a second after the attempt's) passed first. On a
        /// starved cooperative pool the attempt's own timer can be late, so this is still the
        /// attempt's timeout, never a plain failure (a CI run saw it reported `failed`).
        case backstopReached
    }

    /// What one request/response exchange led to.
    private enum Step: Sendable {
        case ended(Ending)
        case redirect(HTTPClientRequest)
    }

    func run(_ task: HTTPTask, request: ExecutionRequest) async -> ExecutionResult {
        let clientRequest: HTTPClientRequest
        switch Self.makeRequest(task) {
        case .success(let made): clientRequest = made
        case .failure(let refusal): return ExecutionResult(outcome: .failed, error: refusal.text)
        }
        let capture = Capture(limit: configuration.outputTailLimit)
        // AsyncHTTPClient's own deadline is only a backstop; the attempt's deadline (on `clock`)
        // cancels the request first.
        let backstop = NIODeadline.now() + TimeAmount.nanoseconds(Self.nanoseconds(request.timeout + .seconds(1)))
        let target = task.method.uppercased() + " " + task.url
        let runner = self
        let (ending, stopped) = await withAttemptDeadline(timeout: request.timeout, clock: clock) {
            await runner.follow(clientRequest, capture: capture, deadline: backstop)
        }
        let status = capture.status.withLock { $0 }
        let body = capture.tail.withLock { $0.text }
        let timedOut = ExecutionResult(outcome: .timedOut, httpStatus: status, outputTail: body,
                                       error: "no complete response from \(target) within timeout \(DurationText.seconds(request.timeout))")
        switch stopped {
        case .timedOut:
            return timedOut
        case .cancelled:
            return ExecutionResult(outcome: .cancelled, httpStatus: status, outputTail: body, error: "cancelled")
        case nil:
            break
        }
        switch ending {
        case .backstopReached:
            return timedOut
        case .failed(let message):
            return ExecutionResult(outcome: .failed, httpStatus: status, outputTail: body, error: message)
        case .completed:
            guard let status else {
                return ExecutionResult(outcome: .failed, outputTail: body, error: "no response status from \(target)")
            }
            if (200..<300).contains(status) {
                return ExecutionResult(outcome: .succeeded, httpStatus: status, outputTail: body)
            }
            let reason = HTTPResponseStatus(statusCode: Int(status)).reasonPhrase
            return ExecutionResult(outcome: .failed, httpStatus: status, outputTail: body,
                                   error: "HTTP \(status) \(reason) from \(target)")
        }
    }

    // MARK: - Hops

    /// Sends `first`, then each redirect target, until a final answer or a refusal.
    private func follow(_ first: HTTPClientRequest, capture: Capture, deadline: NIODeadline) async -> Ending {
        var current = first
        var redirects = 0
        while true {
            let pin: [String: String]
            switch await EgressPin.pin(current.url, policy: configuration.httpPolicy) {
            case .success(let pinned): pin = pinned
            case .failure(let refusal):
                let via = redirects == 0 ? "" : " (reached by redirect from \(first.url))"
                return .failed(refusal.text + via)
            }
            // Resolution cannot be interrupted; a deadline that passed meanwhile sends nothing.
            if Task.isCancelled { return .failed("cancelled") }
            let settings = EgressPin.configuration(clients.configuration, pinnedTo: pin)
            let client = HTTPClient(eventLoopGroup: clients.eventLoopGroup, configuration: settings)
            let step = await exchange(current, client: client, capture: capture, deadline: deadline, redirectsSoFar: redirects)
            try? await client.shutdown()
            switch step {
            case .ended(let ending): return ending
            case .redirect(let next):
                current = next
                redirects += 1
            }
        }
    }

    /// One request on its own pinned client.
    private func exchange(_ request: HTTPClientRequest, client: HTTPClient, capture: Capture, deadline: NIODeadline,
                          redirectsSoFar: Int) async -> Step {
        do {
            // No logger: AsyncHTTPClient's request logs would carry the URL, which may hold secrets.
            let response = try await client.execute(request, deadline: deadline)
            if HTTPRedirect.isFollowed(response.status), let location = response.headers.first(name: "Location") {
                // The redirect's own body is not the task's output.
                for try await _ in response.body {}
                guard redirectsSoFar < HTTPRedirect.maximum else {
                    return .ended(.failed("more than \(HTTPRedirect.maximum) redirects, the last from \(request.url); not followed"))
                }
                switch HTTPRedirect.next(after: request, status: response.status, location: location) {
                case .success(let next): return .redirect(next)
                case .failure(let failure): return .ended(.failed(failure.text))
                }
            }
            capture.status.withLock { $0 = Int32(response.status.code) }
            for try await buffer in response.body {
                buffer.withUnsafeReadableBytes { bytes in
                    capture.tail.withLock { $0.append(bytes) }
                }
            }
            return .ended(.completed)
        } catch let error as HTTPClientError where error == .deadlineExceeded {
            return .ended(.backstopReached)
        } catch {
            return .ended(.failed(Self.describe(error, url: request.url)))
        }
    }

    // MARK: - Building the request

    private struct Refusal: Error {
        let text: String
    }

    private static func makeRequest(_ task: HTTPTask) -> Result<HTTPClientRequest, Refusal> {
        guard let url = URL(string: task.url), let scheme = url.scheme?.lowercased(),
              scheme == "http" || scheme == "https",
              let host = url.host, !host.isEmpty
        else {
            return .failure(Refusal(text: "http task url \(quoted(task.url)) is invalid: give an absolute http:// or https:// URL with a host"))
        }
        let method = task.method.uppercased()
        guard !method.isEmpty, method.utf8.allSatisfy(isTokenByte) else {
            return .failure(Refusal(text: "http task method \(quoted(task.method)) is invalid: use a method such as GET or POST"))
        }
        var request = HTTPClientRequest(url: task.url)
        request.method = HTTPMethod(rawValue: method)
        for field in task.headers {
            guard !field.key.isEmpty, field.key.utf8.allSatisfy(isTokenByte) else {
                return .failure(Refusal(text: "http task header name \(quoted(field.key)) is invalid: use letters, digits and -"))
            }
            guard !field.value.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0 }) else {
                return .failure(Refusal(text: "http task header \(field.key) has a value containing CR, LF or NUL"))
            }
            request.headers.add(name: field.key, value: field.value)
        }
        // The replicated task has no "absent" body: an empty one is sent as none.
        if !task.body.isEmpty {
            request.body = .bytes(ByteBuffer(bytes: task.body))
        }
        return .success(request)
    }

    /// RFC 9110 §5.6.2 `tchar`.
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default:
            "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }

    private static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? Int64.max : scaled &+ attoseconds / 1_000_000_000
    }

    // MARK: - Describing failures

    /// A message for a request that got no complete response.
    static func describe(_ error: any Error, url: String) -> String {
        if isConnectionRefused(error) {
            return "connection refused to \(url)"
        }
        if let clientError = error as? HTTPClientError {
            switch clientError {
            case .connectTimeout:
                return "connection to \(url) timed out"
            case .remoteConnectionClosed:
                return "the server closed the connection before answering: \(url)"
            default:
                return "request to \(url) failed: \(clientError)"
            }
        }
        if let connectionError = error as? NIOConnectionError,
           connectionError.dnsAError != nil || connectionError.dnsAAAAError != nil,
           connectionError.connectionErrors.isEmpty {
            return "cannot resolve the host of \(url)"
        }
        return "request to \(url) failed: \(error)"
    }

    private static func isConnectionRefused(_ error: any Error) -> Bool {
        if let ioError = error as? IOError {
            return ioError.errnoCode == ECONNREFUSED
        }
        if let connectionError = error as? NIOConnectionError {
            return !connectionError.connectionErrors.isEmpty
                && connectionError.connectionErrors.allSatisfy { isConnectionRefused($0.error) }
        }
        return false
    }
}
