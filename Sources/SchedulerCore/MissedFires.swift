/// The earlier due times of a cron job that a late leader folded into one fire
/// (``FireCron/missedBefore``): how many, and the first and last of them.
///
/// Why it exists: a leader that comes back after several fire times passed stamps only the latest
/// one; the others are counted in ``Job/missedFires`` but were never judged by the misfire policy.
/// A team that asked for `missed` wants to hear that its job skipped them, so a fire that carries
/// its folded range (entry tag 31, ``CommandCodec/missedFireNotices``) derives one `missed`
/// notification for all of them on apply.
public struct MissedFires: Hashable, Sendable {
    /// How many due times were folded (at least 1).
    public var count: Int
    /// The earliest folded due time.
    public var first: Timestamp
    /// The latest folded due time (before the fire the leader stamped).
    public var last: Timestamp

    /// A folded range.
    public init(count: Int, first: Timestamp, last: Timestamp) {
        self.count = count
        self.first = first
        self.last = last
    }
}

/// The first and last due times a late leader folded into a fire; the count is the fire's
/// ``FireCron/missedBefore``.
public struct MissedFireRange: Hashable, Sendable {
    /// The earliest folded due time.
    public var first: Timestamp
    /// The latest folded due time.
    public var last: Timestamp

    /// A range.
    public init(first: Timestamp, last: Timestamp) {
        self.first = first
        self.last = last
    }
}
