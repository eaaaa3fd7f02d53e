import SchedulerCore

/// Every error the API answers, as one typed value: a code (which fixes the HTTP status), a
/// message that tells the user what to do, the offending field, and for `unavailable` the
/// seconds to wait. ``APIError/response(from:context:)`` renders it — the one place errors
/// become HTTP.
public struct APIError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The error classes of the public contract.
    public enum Code: String, Hashable, Sendable, CaseIterable {
        /// 400: malformed JSON, wrong types, unknown fields.
        case badRequest = "bad_request"
        /// 401.
        case unauthorized
        /// 403.
        case forbidden
        /// 404: unknown id or path.
        case notFound = "not_found"
        /// 405: the path exists but not with this method; `Allow` lists the methods it has.
        case methodNotAllowed = "method_not_allowed"
        /// 409: a DAG cycle, an idempotency-key clash, a state that forbids the action.
        case conflict
        /// 409: another membership change is not committed yet; retry once it is (one at a time).
        case changeInProgress = "change_in_progress"
        /// 412: `If-Match` names another version of the job than the current one.
        case preconditionFailed = "precondition_failed"
        /// 413: the body is over the limit.
        case payloadTooLarge = "payload_too_large"
        /// 415: a body that is not declared `Content-Type: application/json`.
        case unsupportedMediaType = "unsupported_media_type"
        /// 422: a bad value; `field` names it.
        case invalid
        /// 429.
        case rateLimited = "rate_limited"
        /// 429: a `[quotas]` limit refuses a creating request (`max_pending_jobs`,
        /// `submissions_per_second_per_token`); nothing was written. `Retry-After` is set.
        case quotaExceeded = "quota_exceeded"
        /// 507: `[quotas] max_state_bytes` refuses a creating request; nothing was written.
        /// Retrying helps only once jobs are purged or expire, or the quota is raised.
        case insufficientStorage = "insufficient_storage"
        /// 503: no leader; `Retry-After` is set. Nothing was written: any retry is safe.
        case unavailable
        /// 503: the write was proposed but this node cannot tell whether it committed (the leader
        /// changed or did not answer in time). Only a retry with the same `Idempotency-Key` is
        /// safe; without one, read first. `Retry-After` is set.
        case outcomeUnknown = "outcome_unknown"
        /// 500: a bug. Never for bad input.
        case `internal`

        /// The HTTP status code.
        public var statusCode: Int {
            switch self {
            case .badRequest: 400
            case .unauthorized: 401
            case .forbidden: 403
            case .notFound: 404
            case .methodNotAllowed: 405
            case .conflict, .changeInProgress: 409
            case .preconditionFailed: 412
            case .payloadTooLarge: 413
            case .unsupportedMediaType: 415
            case .invalid: 422
            case .rateLimited, .quotaExceeded: 429
            case .insufficientStorage: 507
            case .unavailable, .outcomeUnknown: 503
            case .internal: 500
            }
        }
    }

    /// The class.
    public var code: Code
    /// What is wrong and what to do.
    public var message: String
    /// The offending field (`jobs[3].schedule`), if one.
    public var field: String?
    /// For `unavailable`: seconds for `Retry-After`.
    public var retryAfterSeconds: Int?

    /// An error.
    public init(_ code: Code, _ message: String, field: String? = nil, retryAfterSeconds: Int? = nil) {
        self.code = code
        self.message = message
        self.field = field
        self.retryAfterSeconds = retryAfterSeconds
    }

    /// 400 `bad_request`.
    public static func badRequest(_ message: String, field: String? = nil) -> APIError {
        APIError(.badRequest, message, field: field)
    }
    /// 422 `invalid` naming `field`.
    public static func invalid(field: String, _ message: String) -> APIError {
        APIError(.invalid, message, field: field)
    }
    /// 404 `not_found`.
    public static func notFound(_ message: String) -> APIError { APIError(.notFound, message) }
    /// 409 `conflict`.
    public static func conflict(_ message: String, field: String? = nil) -> APIError {
        APIError(.conflict, message, field: field)
    }
    /// 413 `payload_too_large` for a body over `limit` bytes.
    public static func payloadTooLarge(limit: Int) -> APIError {
        APIError(.payloadTooLarge, "the request body is larger than \(limit) bytes; split it into smaller requests")
    }
    /// 503 `unavailable` with `Retry-After: retryAfter` (seconds, at least 1).
    public static func unavailable(retryAfter: Int, _ message: String = "no leader is known right now; retry shortly or read with ?stale=true") -> APIError {
        APIError(.unavailable, message, retryAfterSeconds: max(1, retryAfter))
    }

    /// 503 `outcome_unknown` with `Retry-After: retryAfter` (seconds, at least 1).
    public static func outcomeUnknown(retryAfter: Int, _ message: String) -> APIError {
        APIError(.outcomeUnknown, message, retryAfterSeconds: max(1, retryAfter))
    }

    /// `code: message (field)`.
    public var description: String {
        "\(code.rawValue): \(message)" + (field.map { " (field \($0))" } ?? "")
    }

    /// The wire body.
    public var envelope: ErrorEnvelope {
        ErrorEnvelope(error: ErrorDetail(code: code.rawValue, message: message, field: field))
    }
}

extension APIError {
    /// Maps a JSON decoding failure: malformed JSON and wrong types are 400 naming the field
    /// path; a ``FieldProblem`` keeps its own class.
    public init(decoding error: any Error) {
        switch error {
        case let problem as FieldProblem:
            self.init(problem.kind == .invalid ? .invalid : .badRequest, problem.message, field: problem.field)
        case let api as APIError:
            self = api
        case let DecodingError.typeMismatch(type, context):
            let field = FieldPath.render(context.codingPath)
            self.init(.badRequest, "wrong type: expected \(Self.jsonTypeName(type))", field: field.isEmpty ? nil : field)
        case let DecodingError.valueNotFound(type, context):
            let field = FieldPath.render(context.codingPath)
            self.init(.badRequest, "wrong type: expected \(Self.jsonTypeName(type)), got null", field: field.isEmpty ? nil : field)
        case let DecodingError.keyNotFound(key, context):
            self.init(.invalid, "required", field: FieldPath.render(context.codingPath + [key]))
        case let DecodingError.dataCorrupted(context):
            if context.codingPath.isEmpty {
                self.init(.badRequest, "the body is not valid JSON; send one JSON object")
            } else {
                self.init(.badRequest, "wrong type or value: \(context.debugDescription)", field: FieldPath.render(context.codingPath))
            }
        default:
            self.init(.badRequest, "the body is not valid JSON; send one JSON object")
        }
    }

    /// Maps a rejection from the state machine.
    public init(rejection: CommandRejection) {
        switch rejection.code {
        case .notFound: self.init(.notFound, rejection.message)
        case .conflict: self.init(.conflict, rejection.message)
        case .invalid: self.init(.invalid, rejection.message)
        case .preconditionFailed: self.init(.preconditionFailed, rejection.message, field: "If-Match")
        }
    }

    /// Maps a DAG validation failure: a cycle is 409, anything else 422, both naming the field.
    public init(dag error: DAGValidationError, fieldPrefix: String = "") {
        let field = FieldPath.join(fieldPrefix, error.field)
        switch error.kind {
        case .cycle: self.init(.conflict, error.message, field: field)
        case .invalid: self.init(.invalid, error.message, field: field)
        }
    }

    static func jsonTypeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        case is Int.Type, is Int64.Type, is UInt64.Type, is Int32.Type: "an integer"
        case is Double.Type, is Float.Type: "a number"
        case is [String].Type: "an array of strings"
        case is [String: String].Type: "an object of strings"
        default:
            String(describing: type).hasPrefix("Array") ? "an array" : (String(describing: type).hasPrefix("Dictionary") ? "an object" : "an object")
        }
    }
}
