/// Turns cron text into a `CronSchedule`, or a `CronParseError` naming the field and value.
///
/// The grammar is cronie's: five fields separated by blanks; each field a comma list of
/// elements; an element is `*`, a value, or a range `a-b`, optionally followed by `/step`.
/// A value with a step (`5/15`) means "from the value to the field's maximum". Values are
/// numbers or, for month and day-of-week, three-letter names in any case.
enum CronParser {
    /// The macros and the five-field text each one stands for (cronie's meaning).
    static let macros: [(name: String, expansion: String)] = [
        ("@yearly", "0 0 1 1 *"), ("@annually", "0 0 1 1 *"), ("@monthly", "0 0 1 * *"),
        ("@weekly", "0 0 * * 0"), ("@daily", "0 0 * * *"), ("@midnight", "0 0 * * *"),
        ("@hourly", "0 * * * *"),
    ]

    static func parse(_ text: String) throws(CronParseError) -> CronSchedule {
        let bytes = Array(text.utf8)
        let tokens = split(bytes)
        guard let first = tokens.first else {
            throw CronParseError(
                field: "expression", value: text,
                message: "the expression is empty; write 5 fields (minute hour day-of-month month day-of-week) or a macro such as @daily")
        }
        if first.first == UInt8(ascii: "@") {
            return try parseMacro(tokens, text: text)
        }
        guard tokens.count == 5 else {
            throw CronParseError(
                field: "expression", value: text,
                message: "expected 5 fields (minute hour day-of-month month day-of-week) or a macro such as @daily, got \(tokens.count) in \"\(CronParseError.shortened(text))\"")
        }
        var sets: [CronBitSet] = []
        var startsWithStar: [Bool] = []
        for (field, token) in zip(CronField.allCases, tokens) {
            sets.append(try parseField(token, field))
            startsWithStar.append(token.first == UInt8(ascii: "*"))
        }
        var daysOfWeek = sets[4]
        if daysOfWeek.contains(7) {
            daysOfWeek.insert(0)
            daysOfWeek.bits &= ~(UInt64(1) << 7)
        }
        return CronSchedule(
            minutes: sets[0], hours: sets[1], daysOfMonth: sets[2], months: sets[3],
            daysOfWeek: daysOfWeek,
            daysMatchEither: !startsWithStar[2] && !startsWithStar[4],
            hasWildcardTime: startsWithStar[0] || startsWithStar[1])
    }

    private static func parseMacro(_ tokens: [ArraySlice<UInt8>], text: String) throws(CronParseError) -> CronSchedule {
        let name = String(decoding: tokens[0], as: UTF8.self)
        let lowered = name.lowercased()
        if lowered == "@reboot" {
            throw CronParseError(
                field: "expression", value: name,
                message: "@reboot is not supported: Quorum schedules by time; use a once job instead")
        }
        guard let macro = macros.first(where: { $0.name == lowered }) else {
            throw CronParseError(
                field: "expression", value: name,
                message: "unknown macro \"\(CronParseError.shortened(name))\"; use @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly")
        }
        guard tokens.count == 1 else {
            throw CronParseError(
                field: "expression", value: text,
                message: "\"\(CronParseError.shortened(text))\": \(macro.name) stands alone, without further fields")
        }
        return try parse(macro.expansion)
    }

    /// Splits on runs of spaces and tabs; leading and trailing blanks (and line ends) vanish.
    private static func split(_ bytes: [UInt8]) -> [ArraySlice<UInt8>] {
        var tokens: [ArraySlice<UInt8>] = []
        var start: Int? = nil
        for (index, byte) in bytes.enumerated() {
            let isBlank = byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t")
                || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r")
            if isBlank {
                if let s = start { tokens.append(bytes[s..<index]) }
                start = nil
            } else if start == nil {
                start = index
            }
        }
        if let s = start { tokens.append(bytes[s..<bytes.count]) }
        return tokens
    }

    private static func parseField(_ token: ArraySlice<UInt8>, _ field: CronField) throws(CronParseError) -> CronBitSet {
        var result = CronBitSet()
        var elementStart = token.startIndex
        var index = token.startIndex
        while true {
            if index == token.endIndex || token[index] == UInt8(ascii: ",") {
                let element = token[elementStart..<index]
                if element.isEmpty {
                    let whole = string(token)
                    throw CronParseError(
                        field: field.name, value: whole,
                        message: "empty list element in \"\(CronParseError.shortened(whole))\"; separate values with single commas, as in 1,15,30")
                }
                result.formUnion(try parseElement(element, field))
                if index == token.endIndex { break }
                elementStart = index + 1
            }
            index += 1
        }
        return result
    }

    private static func parseElement(_ element: ArraySlice<UInt8>, _ field: CronField) throws(CronParseError) -> CronBitSet {
        var text: String { string(element) }  // only built for an error message
        var base = element
        var step = 1
        var hasStep = false
        if let slash = element.firstIndex(of: UInt8(ascii: "/")) {
            base = element[element.startIndex..<slash]
            let stepBytes = element[(slash + 1)...]
            step = try parseStep(stepBytes, element: element, field)
            hasStep = true
            if base.isEmpty {
                throw CronParseError(
                    field: field.name, value: text,
                    message: "\"\(CronParseError.shortened(text))\" has a step but nothing to step over; write */\(string(stepBytes)) or 0-\(field.range.upperBound)/\(string(stepBytes))")
            }
        }
        let low: Int
        let high: Int
        if base.count == 1 && base.first == UInt8(ascii: "*") {
            low = field.range.lowerBound
            high = field.range.upperBound
        } else if let dash = base.firstIndex(of: UInt8(ascii: "-")) {
            if dash == base.startIndex {
                throw CronParseError(
                    field: field.name, value: text,
                    message: "\"\(CronParseError.shortened(text))\" is negative; use \(field.hint)")
            }
            let startBytes = base[base.startIndex..<dash]
            let endBytes = base[(dash + 1)...]
            if endBytes.isEmpty {
                throw CronParseError(
                    field: field.name, value: text,
                    message: "range \"\(CronParseError.shortened(text))\" has no end; write it as start-end, as in \(field.range.lowerBound)-\(field.range.upperBound)")
            }
            low = try parseValue(startBytes, element: element, field)
            let end = try parseValue(endBytes, element: element, field)
            // `FRI-SUN` means Friday to Sunday: SUN at the end of a range is 7, not 0.
            high = field == .dayOfWeek && end == 0 && endBytes.allSatisfy(isLetter) ? 7 : end
            if low > high {
                throw CronParseError(
                    field: field.name, value: text,
                    message: "range \"\(CronParseError.shortened(text))\" runs backwards (\(low) > \(high)); write the smaller value first (cron ranges do not wrap around)")
            }
        } else {
            low = try parseValue(base, element: element, field)
            high = hasStep ? field.range.upperBound : low  // cronie: `5/15` means 5-max/15
        }
        return CronBitSet(range: low...high, step: step)
    }

    private static func parseStep(_ bytes: ArraySlice<UInt8>, element elementBytes: ArraySlice<UInt8>, _ field: CronField) throws(CronParseError) -> Int {
        var element: String { string(elementBytes) }
        var stepText: String { string(bytes) }
        guard !bytes.isEmpty else {
            throw CronParseError(
                field: field.name, value: element,
                message: "\"\(CronParseError.shortened(element))\" has no step after \"/\"; write a whole number, as in */15")
        }
        guard bytes.allSatisfy(isDigit) else {
            throw CronParseError(
                field: field.name, value: element,
                message: "step \"\(CronParseError.shortened(stepText))\" in \"\(CronParseError.shortened(element))\" is not a whole number; write one, as in */15")
        }
        let span = field.range.count
        let step = number(bytes)
        if step == 0 {
            throw CronParseError(
                field: field.name, value: element,
                message: "step 0 in \"\(CronParseError.shortened(element))\" must be at least 1")
        }
        guard let step, step <= span else {
            throw CronParseError(
                field: field.name, value: element,
                message: "step \(CronParseError.shortened(stepText)) in \"\(CronParseError.shortened(element))\" is larger than the field's range \(field.range.lowerBound)-\(field.range.upperBound); use 1-\(span)")
        }
        return step
    }

    /// A number or a name, checked against the field's range.
    private static func parseValue(_ bytes: ArraySlice<UInt8>, element elementBytes: ArraySlice<UInt8>, _ field: CronField) throws(CronParseError) -> Int {
        var element: String { string(elementBytes) }
        var valueText: String { string(bytes) }
        var context: String { bytes.count == elementBytes.count ? "" : " in \"\(CronParseError.shortened(element))\"" }
        if !bytes.isEmpty && bytes.allSatisfy(isDigit) {
            guard let value = number(bytes), field.range.contains(value) else {
                throw CronParseError(
                    field: field.name, value: element,
                    message: "\(CronParseError.shortened(valueText)) is out of range \(field.range.lowerBound)-\(field.range.upperBound)\(context)")
            }
            return value
        }
        if !bytes.isEmpty && bytes.allSatisfy(isLetter) {
            let upper = valueText.uppercased()
            if let match = field.names.first(where: { $0.name == upper }) {
                return match.value
            }
            let what = field == .month ? "unknown month name" : field == .dayOfWeek ? "unknown day-of-week name" : "\"\(CronParseError.shortened(valueText))\" is not a number"
            let message = field.names.isEmpty
                ? "\(what)\(context); use \(field.hint)"
                : "\(what) \"\(CronParseError.shortened(valueText))\"\(context); use \(field.hint)"
            throw CronParseError(field: field.name, value: element, message: message)
        }
        if bytes.contains(UInt8(ascii: ".")) && bytes.contains(where: isDigit) {
            throw CronParseError(
                field: field.name, value: element,
                message: "\"\(CronParseError.shortened(valueText))\" is not a whole number\(context); use \(field.hint)")
        }
        if bytes.isEmpty {
            throw CronParseError(
                field: field.name, value: element,
                message: "\"\(CronParseError.shortened(element))\" is missing a value; use \(field.hint)")
        }
        throw CronParseError(
            field: field.name, value: element,
            message: "\"\(CronParseError.shortened(valueText))\"\(context) is not a number, a name or *; use \(field.hint), ranges (1-5), lists (1,2) and steps (*/15)")
    }

    /// The decimal value of ASCII digits, or nil when it exceeds 1,000,000 (no field gets near).
    private static func number(_ digits: ArraySlice<UInt8>) -> Int? {
        var value = 0
        for digit in digits {
            value = value * 10 + Int(digit - UInt8(ascii: "0"))
            if value > 1_000_000 { return nil }
        }
        return value
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
    }

    private static func string(_ bytes: ArraySlice<UInt8>) -> String { String(decoding: bytes, as: UTF8.self) }
}
