/// The wait a `Retry-After` header asks for (RFC 9110 §10.2.3).
///
/// Both forms: delta-seconds (`120`) and an HTTP-date in the IMF-fixdate form senders must use
/// (`Sun, 06 Dec 2026 04:27:00 GMT`), measured from the sender's clock. The obsolete RFC 850 and
/// asctime date forms, and anything malformed, give `nil`: the schedule's own backoff applies.
public enum RetryAfterHeader {
    /// How long `value` asks to wait from `now` (Unix seconds); a date in the past is zero.
    public static func delay(_ value: String, now: Int64) -> Duration? {
        let trimmed = value.filter { $0 != " " && $0 != "\t" }
        if !trimmed.isEmpty, trimmed.utf8.count <= 12, trimmed.utf8.allSatisfy({ (0x30...0x39).contains($0) }), let seconds = Int64(trimmed) {
            return .seconds(seconds)
        }
        guard let date = imfFixdate(value) else { return nil }
        let (difference, overflow) = date.subtractingReportingOverflow(now)
        return overflow ? nil : .seconds(max(0, difference))
    }

    /// `Sun, 06 Dec 2026 04:27:00 GMT` as Unix seconds, or `nil`.
    static func imfFixdate(_ value: String) -> Int64? {
        let words = value.split(separator: " ")
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        guard words.count == 6, words[0].count == 4, words[0].hasSuffix(","), words[5] == "GMT",
              words[1].count == 2, let day = Int(words[1]), (1...31).contains(day),
              let monthIndex = months.firstIndex(of: String(words[2])),
              words[3].count == 4, let year = Int64(words[3]), year >= 1970
        else { return nil }
        let clock = words[4].split(separator: ":", omittingEmptySubsequences: false)
        guard clock.count == 3, clock.allSatisfy({ $0.count == 2 }),
              let hour = Int64(clock[0]), let minute = Int64(clock[1]), let second = Int64(clock[2]),
              (0...23).contains(hour), (0...59).contains(minute), (0...60).contains(second)
        else { return nil }
        let days = CivilTime.days(year: year, month: Int64(monthIndex + 1), day: Int64(day))
        return days * 86_400 + hour * 3600 + minute * 60 + second
    }
}
