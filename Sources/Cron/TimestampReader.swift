import Foundation

/// The cursor behind `CronTimeFormat.parse`.
struct TimestampReader {
    let bytes: [UInt8]
    let text: String
    var position = 0

    init(bytes: [UInt8], text: String) {
        self.bytes = bytes
        self.text = text
    }

    static let expected = "write an ISO 8601 time with an offset, such as 2025-01-15T10:20:30Z or 2025-01-15T10:20:30+05:30"

    mutating func read() throws(CronTimeParseError) -> Date {
        let year = try digits(4, "year")
        try expect("-")
        let month = try digits(2, "month")
        try expect("-")
        let day = try digits(2, "day")
        guard position < bytes.count, [UInt8(ascii: "T"), UInt8(ascii: "t"), UInt8(ascii: " ")].contains(bytes[position]) else {
            throw fail("expected \"T\" and a time after the date; \(Self.expected)")
        }
        position += 1
        let hour = try digits(2, "hour")
        try expect(":")
        let minute = try digits(2, "minute")
        var second = 0
        var fraction = 0.0
        if peek(":") {
            position += 1
            second = try digits(2, "second")
            if peek(".") || peek(",") {
                position += 1
                fraction = try fractionDigits()
            }
        }
        let offset = try readOffset()
        guard position == bytes.count else {
            throw fail("unexpected text after the offset; \(Self.expected)")
        }
        try check(month, 1...12, "month")
        try check(day, 1...CivilCalendar.daysInMonth(year: year, month: month), "day")
        try check(hour, 0...23, "hour")
        try check(minute, 0...59, "minute")
        try check(second, 0...59, "second")
        let wall = CivilCalendar.days(year: year, month: month, day: day) * CivilCalendar.secondsPerDay
            + hour * 3600 + minute * 60 + second
        return Date(timeIntervalSince1970: TimeInterval(wall - offset) + fraction)
    }

    private mutating func readOffset() throws(CronTimeParseError) -> Int {
        guard position < bytes.count else {
            throw fail("has no UTC offset; add Z for UTC or an offset such as +01:00")
        }
        let sign = bytes[position]
        if sign == UInt8(ascii: "Z") || sign == UInt8(ascii: "z") {
            position += 1
            return 0
        }
        guard sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") else {
            throw fail("expected Z or an offset such as +01:00 after the time; \(Self.expected)")
        }
        position += 1
        let hours = try digits(2, "offset hours")
        var minutes = 0
        if peek(":") {
            position += 1
            minutes = try digits(2, "offset minutes")
        } else if position < bytes.count {
            minutes = try digits(2, "offset minutes")
        }
        try check(hours, 0...23, "offset hours")
        try check(minutes, 0...59, "offset minutes")
        let magnitude = hours * 3600 + minutes * 60
        return sign == UInt8(ascii: "-") ? -magnitude : magnitude
    }

    private mutating func fractionDigits() throws(CronTimeParseError) -> Double {
        var value = 0.0
        var scale = 0.1
        var count = 0
        while position < bytes.count, isDigit(bytes[position]) {
            value += Double(bytes[position] - UInt8(ascii: "0")) * scale
            scale /= 10
            count += 1
            position += 1
        }
        guard count > 0 else { throw fail("expected digits after the decimal point; \(Self.expected)") }
        return value
    }

    private mutating func digits(_ count: Int, _ part: String) throws(CronTimeParseError) -> Int {
        var value = 0
        for _ in 0..<count {
            guard position < bytes.count, isDigit(bytes[position]) else {
                throw fail("expected \(count) digits for the \(part); \(Self.expected)")
            }
            value = value * 10 + Int(bytes[position] - UInt8(ascii: "0"))
            position += 1
        }
        return value
    }

    private mutating func expect(_ character: Unicode.Scalar) throws(CronTimeParseError) {
        guard peek(character) else {
            throw fail("expected \"\(character)\" at position \(position + 1); \(Self.expected)")
        }
        position += 1
    }

    private func peek(_ character: Unicode.Scalar) -> Bool {
        position < bytes.count && bytes[position] == UInt8(ascii: character)
    }

    private func check(_ value: Int, _ range: ClosedRange<Int>, _ part: String) throws(CronTimeParseError) {
        guard range.contains(value) else {
            throw fail("\(part) \(value) is out of range \(range.lowerBound)-\(range.upperBound)")
        }
    }

    private func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    private func fail(_ message: String) -> CronTimeParseError { CronTimeParseError(text: text, message: message) }
}
