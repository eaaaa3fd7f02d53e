import Foundation
import HTTPAPI
import Hummingbird
import HummingbirdTesting
import SchedulerCore
import Synchronization

/// A clock the test moves by hand.
final class ManualClock: Sendable {
    private let milliseconds: Mutex<Int64>
    init(_ start: Timestamp) { milliseconds = Mutex(start.milliseconds) }
    var now: Timestamp { Timestamp(milliseconds.withLock { $0 }) }
    func advance(byMilliseconds delta: Int64) { milliseconds.withLock { $0 += delta } }
    /// The closure the service reads.
    var reader: @Sendable () -> Timestamp { { [self] in now } }
}

func makeLocalService(clock: ManualClock = ManualClock(startOfTest)) -> LocalSchedulerService {
    LocalSchedulerService(clock: clock.reader)
}

/// Runs `body` against the router over `service`, without sockets.
func withAPI<Service: SchedulerService>(
    _ service: Service, limits: APILimits = APILimits(), shellPolicy: (any ShellCommandPolicy)? = nil,
    _ body: @Sendable (any TestClientProtocol) async throws -> Void
) async throws {
    let app = Application(router: makeQuorumRouter(service: service, limits: limits, shellPolicy: shellPolicy))
    try await app.test(.router, body)
}

extension TestClientProtocol {
    /// Sends `json` (if any) and returns the response.
    func send(_ method: HTTPRequest.Method, _ uri: String, json: String? = nil, headers: HTTPFields = [:]) async throws -> TestResponse {
        var fields = headers
        if json != nil { fields[.contentType] = "application/json" }
        return try await execute(uri: uri, method: method, headers: fields, body: json.map { ByteBuffer(string: $0) })
    }
}

extension TestResponse {
    /// The body decoded as `T`.
    func decoded<T: Decodable>(_ type: T.Type) throws -> T {
        try JSONDecoder().decode(type, from: Data(body.readableBytesView))
    }
    /// The error object.
    var apiError: ErrorDetail? { try? decoded(ErrorEnvelope.self).error }
    /// The body as text.
    var text: String { String(buffer: body) }
}

let idempotencyKeyHeader = HTTPFields.Element.Name("Idempotency-Key")!
