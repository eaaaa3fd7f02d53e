/// A strict reader of the JSON that well-formed requests hold, for the hand-written decoders of
/// the hot request bodies (``JobSubmission/fastDecode(_:)``).
///
/// It accepts only what Foundation's `JSONDecoder` reads the same way and throws
/// ``JSONByteReader/Miss`` at anything else — malformed JSON, a byte-order mark, a repeated key,
/// an unpaired surrogate, a number that is not a plain integer where an integer is wanted. A miss
/// is not an error for the client: the caller then decodes the body with `JSONDecoder`, which
/// either accepts it or throws the error (status, code, field, message) the API has always
/// given. So the fast path can only ever be narrower than the `Codable` one, never different.
struct JSONByteReader {
    /// "Not on the fast path": decode with `JSONDecoder` instead.
    struct Miss: Error {}

    /// A JSON number as written, classified.
    struct Number {
        /// Its text (ASCII digits, sign, `.`, `e`).
        var text: Substring
        /// Whether it has no fraction and no exponent.
        var isPlainInteger: Bool
    }

    private let bytes: [UInt8]
    private var index = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// Skips JSON whitespace (space, tab, LF, CR only).
    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    /// Nothing but whitespace is left.
    mutating func expectEnd() throws(Miss) {
        skipWhitespace()
        guard index == bytes.count else { throw Miss() }
    }

    /// Consumes `byte` after whitespace, or misses.
    mutating func expect(_ byte: UInt8) throws(Miss) {
        guard try consumeIf(byte) else { throw Miss() }
    }

    /// Consumes `byte` after whitespace when it is next.
    mutating func consumeIf(_ byte: UInt8) throws(Miss) -> Bool {
        skipWhitespace()
        guard index < bytes.count else { throw Miss() }
        guard bytes[index] == byte else { return false }
        index += 1
        return true
    }

    /// Consumes `null` when it is next.
    mutating func consumeNull() throws(Miss) -> Bool {
        skipWhitespace()
        guard index + 4 <= bytes.count, bytes[index] == UInt8(ascii: "n") else { return false }
        guard bytes[index + 1] == UInt8(ascii: "u"), bytes[index + 2] == UInt8(ascii: "l"), bytes[index + 3] == UInt8(ascii: "l") else { throw Miss() }
        index += 4
        return true
    }

    /// The members of an object, one key at a time: `body` reads the value. A repeated key
    /// misses (`JSONDecoder` keeps the first; the fast path does not guess).
    mutating func object(_ body: (inout JSONByteReader, String) throws(Miss) -> Void) throws(Miss) {
        try expect(UInt8(ascii: "{"))
        if try consumeIf(UInt8(ascii: "}")) { return }
        var seen: [String] = []
        repeat {
            skipWhitespace()
            let key = try string()
            guard !seen.contains(key) else { throw Miss() }
            seen.append(key)
            try expect(UInt8(ascii: ":"))
            try body(&self, key)
        } while try consumeIf(UInt8(ascii: ","))
        try expect(UInt8(ascii: "}"))
    }

    /// The elements of an array: `body` reads each.
    mutating func array(_ body: (inout JSONByteReader) throws(Miss) -> Void) throws(Miss) {
        try expect(UInt8(ascii: "["))
        if try consumeIf(UInt8(ascii: "]")) { return }
        repeat {
            try body(&self)
        } while try consumeIf(UInt8(ascii: ","))
        try expect(UInt8(ascii: "]"))
    }

    /// A string value (no `null`).
    mutating func string() throws(Miss) -> String {
        skipWhitespace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw Miss() }
        index += 1
        let start = index
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                defer { index += 1 }
                return try Self.validated(bytes[start..<index])
            }
            if byte == UInt8(ascii: "\\") { return try escapedString(from: start) }
            guard byte >= 0x20 else { throw Miss() }
            index += 1
        }
        throw Miss()
    }

    /// `[String]`.
    mutating func stringArray() throws(Miss) -> [String] {
        var values: [String] = []
        try array { (reader: inout JSONByteReader) throws(Miss) in values.append(try reader.string()) }
        return values
    }

    /// `[String: String]`.
    mutating func stringMap() throws(Miss) -> [String: String] {
        var map: [String: String] = [:]
        try object { (reader: inout JSONByteReader, key: String) throws(Miss) in map[key] = try reader.string() }
        return map
    }

    mutating func bool() throws(Miss) -> Bool {
        skipWhitespace()
        if bytes[index...].starts(with: "true".utf8) {
            index += 4
            return true
        }
        if bytes[index...].starts(with: "false".utf8) {
            index += 5
            return false
        }
        throw Miss()
    }

    /// A number in JSON's grammar (`-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`).
    mutating func number() throws(Miss) -> Number {
        skipWhitespace()
        let start = index
        func digits() -> Int {
            let from = index
            while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 { index += 1 }
            return index - from
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
        let intStart = index
        let intDigits = digits()
        guard intDigits >= 1, intDigits == 1 || bytes[intStart] != 48 else { throw Miss() }
        var plain = true
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard digits() >= 1 else { throw Miss() }
            plain = false
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard digits() >= 1 else { throw Miss() }
            plain = false
        }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        return Number(text: text[...], isPlainInteger: plain)
    }

    /// A plain integer that fits `T` (no fraction, no exponent, no `-0`), else a miss.
    mutating func integer<T: FixedWidthInteger>(_ type: T.Type) throws(Miss) -> T {
        let number = try number()
        guard number.isPlainInteger, number.text != "-0", let value = T(number.text) else { throw Miss() }
        return value
    }

    /// Any finite number as a double.
    mutating func double() throws(Miss) -> Double {
        let number = try number()
        guard number.text != "-0", let value = Double(number.text), value.isFinite else { throw Miss() }
        return value
    }

    /// A string with escapes, from `start` (just after the opening quote); `index` is at the
    /// first backslash.
    private mutating func escapedString(from start: Int) throws(Miss) -> String {
        var out = Array(bytes[start..<index])
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                return try Self.validated(out[...])
            case UInt8(ascii: "\\"):
                guard index < bytes.count else { throw Miss() }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escape)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"): out.append(contentsOf: try unicodeEscape())
                default: throw Miss()
                }
            default:
                guard byte >= 0x20 else { throw Miss() }
                out.append(byte)
            }
        }
        throw Miss()
    }

    /// The UTF-8 of `\uXXXX` (after the `u`), with a following `\uXXXX` low surrogate when this
    /// is a high one; an unpaired surrogate misses.
    private mutating func unicodeEscape() throws(Miss) -> [UInt8] {
        var value = try hex4()
        if (0xD800...0xDBFF).contains(value) {
            guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else { throw Miss() }
            index += 2
            let low = try hex4()
            guard (0xDC00...0xDFFF).contains(low) else { throw Miss() }
            value = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
        } else if (0xDC00...0xDFFF).contains(value) {
            throw Miss()
        }
        guard let scalar = Unicode.Scalar(value) else { throw Miss() }
        return Array(String(Character(scalar)).utf8)
    }

    private mutating func hex4() throws(Miss) -> UInt32 {
        guard index + 4 <= bytes.count else { throw Miss() }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            index += 1
            let digit: UInt8
            switch byte {
            case 48...57: digit = byte - 48
            case 65...70: digit = byte - 55
            case 97...102: digit = byte - 87
            default: throw Miss()
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    /// The bytes as a string, or a miss when they are not valid UTF-8.
    private static func validated(_ utf8: ArraySlice<UInt8>) throws(Miss) -> String {
        guard let text = String(validating: utf8, as: UTF8.self) else { throw Miss() }
        return text
    }
}
