/// Percent-decoding of one path segment, done once and strictly.
///
/// Hummingbird hands a route its raw path segment (`dn2-x-5%2Fa`), so an id holding a
/// reserved character — old DAG task run ids hold `/` — only reaches the service if the
/// server decodes it. Decoding is strict because a lenient decoder would let two spellings
/// name the same thing in some places and not in others: a `%` must start two hex digits and
/// the bytes must be UTF-8. `+` stays `+` (that rule is for query strings, not paths).
enum PathParameterDecoding {
    /// `text` with every `%XY` replaced by its byte.
    ///
    /// - Throws: 400 `bad_request` naming `parameter` and the offset of a malformed escape,
    ///   or saying the decoded bytes are not UTF-8.
    static func decode(_ text: String, parameter: String) throws(APIError) -> String {
        guard text.utf8.contains(UInt8(ascii: "%")) else { return text }
        let input = Array(text.utf8)
        var output: [UInt8] = []
        output.reserveCapacity(input.count)
        var i = 0
        while i < input.count {
            let byte = input[i]
            guard byte == UInt8(ascii: "%") else {
                output.append(byte)
                i += 1
                continue
            }
            guard i + 2 < input.count, let high = hexValue(input[i + 1]), let low = hexValue(input[i + 2]) else {
                let escape = String(decoding: input[i..<min(i + 3, input.count)], as: UTF8.self)
                throw .badRequest("path parameter \(parameter) has a malformed percent escape '\(escape)' at byte \(i); "
                                  + "write a reserved character as % and two hex digits (a '/' in an id is %2F)", field: parameter)
            }
            output.append(high << 4 | low)
            i += 3
        }
        guard let decoded = String(validating: output, as: UTF8.self) else {
            throw .badRequest("path parameter \(parameter) does not decode to UTF-8 text; percent-encode the id's UTF-8 bytes",
                              field: parameter)
        }
        return decoded
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
