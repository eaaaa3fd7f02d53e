import Synchronization

/// `[api] rate_limit_per_token`: a token bucket per token name — `rate` requests a second
/// sustained, bursts of up to `rate` — so one client (a runaway script, a leaked token) cannot
/// take a node's whole API. Over the limit: 429 `rate_limited` with `Retry-After`. Pure apart
/// from its lock: time comes in as milliseconds.
public final class TokenRateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updatedMs: Int64
    }

    /// Requests per second per token (also the burst).
    public let rate: Int
    /// The config key the refusal names (`[api] rate_limit_per_token` or `[quotas]
    /// submissions_per_second_per_token`), and the code it answers with.
    private let key: String
    private let code: APIError.Code
    /// Called with each refusal (the quota's metric).
    private let onRefusal: @Sendable () -> Void
    private let buckets = Mutex<[String: Bucket]>([:])

    /// A limiter of `rate` requests per second per token (at least 1), refusing with `code`
    /// (429 either way) and a message naming `key`.
    public init(rate: Int, key: String = "[api] rate_limit_per_token", code: APIError.Code = .rateLimited,
                onRefusal: @escaping @Sendable () -> Void = {}) {
        self.rate = max(1, rate)
        self.key = key
        self.code = code
        self.onRefusal = onRefusal
    }

    /// `[quotas] submissions_per_second_per_token`: 429 `quota_exceeded`, separate from the
    /// general limit (each limiter holds its own buckets).
    public static func submissions(rate: Int, onRefusal: @escaping @Sendable () -> Void = {}) -> TokenRateLimiter {
        TokenRateLimiter(rate: rate, key: "[quotas] submissions_per_second_per_token", code: .quotaExceeded, onRefusal: onRefusal)
    }

    /// Takes one request for `caller` at `nowMs`; throws 429 when its bucket is empty.
    public func take(for caller: String, nowMs: Int64) throws(APIError) {
        let rate = Double(self.rate)
        let waitMs: Int64? = buckets.withLock { buckets in
            var bucket = buckets[caller] ?? Bucket(tokens: rate, updatedMs: nowMs)
            let elapsed = Double(max(0, nowMs - bucket.updatedMs)) / 1000
            bucket.tokens = min(rate, bucket.tokens + elapsed * rate)
            bucket.updatedMs = nowMs
            defer { buckets[caller] = bucket }
            guard bucket.tokens >= 1 else { return Int64(((1 - bucket.tokens) / rate * 1000).rounded(.up)) }
            bucket.tokens -= 1
            return nil
        }
        if let waitMs {
            onRefusal()
            throw APIError(code, "token '\(caller)' is over \(key) (\(self.rate) requests/s); slow down and "
                           + "retry after the Retry-After seconds", retryAfterSeconds: Int(max(1, (waitMs + 999) / 1000)))
        }
    }
}
