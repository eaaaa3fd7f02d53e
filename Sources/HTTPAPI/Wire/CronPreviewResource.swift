/// `GET /api/cron/next`: the next fire times of a schedule, as `quorum cron next` prints them.
public struct CronPreviewResource: Codable, Hashable, Sendable {
    /// The expression, as sent.
    public var expr: String
    /// The IANA zone the times are in.
    public var tz: String
    /// The fire times strictly after `after`, ISO 8601 with the zone's offset, earliest first.
    /// Fewer than asked only when the schedule stops firing within the search horizon.
    public var times: [String]
    /// The instant the search started from (ISO 8601 in the zone).
    public var after: String

    /// A preview.
    public init(expr: String, tz: String, times: [String], after: String) {
        self.expr = expr
        self.tz = tz
        self.times = times
        self.after = after
    }

    /// The JSON keys.
    public enum CodingKeys: String, CodingKey, CaseIterable {
        case expr, tz, times, after
    }
}
