/// The five fields of a cron expression, in order, with their ranges and names.
enum CronField: Int, CaseIterable, Sendable {
    case minute, hour, dayOfMonth, month, dayOfWeek

    /// The name used in error messages and docs.
    var name: String {
        switch self {
        case .minute: "minute"
        case .hour: "hour"
        case .dayOfMonth: "day-of-month"
        case .month: "month"
        case .dayOfWeek: "day-of-week"
        }
    }

    /// The values a number in this field may take. Day-of-week allows 7 as a second Sunday.
    var range: ClosedRange<Int> {
        switch self {
        case .minute: 0...59
        case .hour: 0...23
        case .dayOfMonth: 1...31
        case .month: 1...12
        case .dayOfWeek: 0...7
        }
    }

    /// Three-letter names accepted (case-insensitively) in place of numbers, with their values.
    var names: [(name: String, value: Int)] {
        switch self {
        case .month: Self.monthNames
        case .dayOfWeek: Self.dayOfWeekNames
        default: []
        }
    }

    private static let monthNames: [(name: String, value: Int)] =
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
        .enumerated().map { ($0.element, $0.offset + 1) }
    private static let dayOfWeekNames: [(name: String, value: Int)] =
        ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"].enumerated().map { ($0.element, $0.offset) }

    /// How the field's values are described in "use …" hints.
    var hint: String {
        switch self {
        case .month: "1-12 or JAN-DEC"
        case .dayOfWeek: "0-7 or SUN-SAT (0 and 7 are Sunday)"
        default: "\(range.lowerBound)-\(range.upperBound)"
        }
    }
}
