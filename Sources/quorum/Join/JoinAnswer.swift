import HTTPAPI
import QuorumClient

/// What a joining node does after one answer to its request to be added (or promoted): the
/// pure half of ``JoinRequester``, so every answer's handling is tested without a cluster.
enum JoinAnswer: Equatable, Sendable {
    /// The cluster took the request.
    case accepted
    /// The cluster needs an admin token the node did not send (or sent without the role): an
    /// operator adds the node with `quorum cluster add`; the node stops asking and waits.
    case needsAdministrator(String)
    /// 409 `conflict`: the id is already a member (fine: an operator added it first) or was
    /// removed (never fine); the node looks at `/api/cluster` to tell which.
    case conflict(String)
    /// Not now (no leader, a change in flight, the learner still catching up, a server
    /// unreachable): ask again after a pause.
    case retry(String)
    /// Never: a bad `--join` URL or TLS file, or the cluster refuses the node's addresses. The
    /// node stops with this message.
    case refused(String)

    /// The answer `error` stands for (`nil`: the request succeeded).
    static func classify(_ error: QuorumClientError?) -> JoinAnswer {
        guard let error else { return .accepted }
        switch error {
        case .invalidServer, .invalidTLS:
            return .refused(error.description)
        case .noServerAvailable, .outcomeUnknown, .unexpectedResponse:
            return .retry(error.description)
        case .api(_, let status, let detail):
            switch status {
            case 401, 403: return .needsAdministrator(detail.message)
            case 409 where detail.code == APIError.Code.changeInProgress.rawValue: return .retry(detail.message)
            case 409: return .conflict(detail.message)
            case 400, 404, 405, 413, 415, 422: return .refused("\(status) \(detail.code): \(detail.message)")
            default: return .retry("\(status) \(detail.code): \(detail.message)")
            }
        }
    }

    /// The pause before the `attempt`-th retry (1-based): 0.5 s doubling to a 10 s ceiling.
    static func pause(beforeRetry attempt: Int) -> Duration {
        let exponent = min(max(attempt - 1, 0), 5)
        return min(.milliseconds(500 << exponent), .seconds(10))
    }
}
