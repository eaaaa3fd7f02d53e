import NIOCore
import SchedulerCore

/// Writes JSON straight into a `ByteBuffer`, with the same text rules as the API's
/// `JSONEncoder` (`outputFormatting = [.withoutEscapingSlashes]`), so a hand-written encoder for
/// a hot response (``JobResource/writeJSON(into:)``) reads the same to every client.
///
/// The rules, checked against Foundation by `JobResourceJSONTests`: strings escape `"` and `\`,
/// the control characters U+0000…U+001F as `\b \t \n \f \r` or `\u00xx` (lowercase hex), and
/// nothing else (slashes, DEL, non-ASCII and U+2028 are written as they are); integers in
/// decimal; a double as Swift's shortest round-trip `description` without a trailing `.0`
/// (`30`, `0.5`, `1e+20`). Callers write keys and commas through ``key(_:)``, which tracks
/// whether a comma is due.
struct JSONBufferWriter {
    /// The bytes written so far.
    var buffer: ByteBuffer
    /// Whether the next member or element of the innermost open container needs a comma first.
    private var needsComma = false

    /// A writer appending to `buffer`.
    init(buffer: ByteBuffer) { self.buffer = buffer }

    mutating func beginObject() { open(UInt8(ascii: "{")) }
    mutating func endObject() { close(UInt8(ascii: "}")) }
    mutating func beginArray() { open(UInt8(ascii: "[")) }
    mutating func endArray() { close(UInt8(ascii: "]")) }

    private mutating func open(_ bracket: UInt8) {
        separate()
        buffer.writeInteger(bracket)
        needsComma = false
    }

    private mutating func close(_ bracket: UInt8) {
        buffer.writeInteger(bracket)
        needsComma = true
    }

    /// `"name":`, after a comma when a member came before. `name` is a plain ASCII key.
    mutating func key(_ name: StaticString) {
        separate()
        buffer.writeInteger(UInt8(ascii: "\""))
        buffer.writeStaticString(name)
        buffer.writeInteger(UInt8(ascii: "\""))
        buffer.writeInteger(UInt8(ascii: ":"))
        needsComma = false
    }

    /// A string key of a map (labels, env), escaped like any string.
    mutating func key(escaping name: String) {
        string(name)
        buffer.writeInteger(UInt8(ascii: ":"))
        needsComma = false
    }

    mutating func null() {
        separate()
        buffer.writeStaticString("null")
        needsComma = true
    }

    mutating func bool(_ value: Bool) {
        separate()
        buffer.writeStaticString(value ? "true" : "false")
        needsComma = true
    }

    mutating func integer(_ value: some BinaryInteger) {
        separate()
        buffer.writeString(String(value))
        needsComma = true
    }

    /// A finite double as `JSONEncoder` writes it. The caller checks `isFinite` first
    /// (``JobResource/canWriteJSON``): JSON has no NaN or infinity, and `JSONEncoder` throws.
    mutating func double(_ value: Double) {
        separate()
        var text = value.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        buffer.writeString(text)
        needsComma = true
    }

    mutating func timestamp(_ time: Timestamp) {
        separate()
        buffer.writeInteger(UInt8(ascii: "\""))
        RFC3339.write(time, into: &buffer)
        buffer.writeInteger(UInt8(ascii: "\""))
        needsComma = true
    }

    /// A JSON string: runs of bytes that need no escape are copied in one write.
    mutating func string(_ value: String) {
        separate()
        buffer.writeInteger(UInt8(ascii: "\""))
        var utf8 = value
        utf8.withUTF8 { bytes in
            var runStart = 0
            for index in 0..<bytes.count {
                let byte = bytes[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                if runStart < index {
                    buffer.writeBytes(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes[runStart..<index])))
                }
                writeEscape(byte)
                runStart = index + 1
            }
            if runStart < bytes.count {
                buffer.writeBytes(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes[runStart..<bytes.count])))
            }
        }
        buffer.writeInteger(UInt8(ascii: "\""))
        needsComma = true
    }

    /// `null` for nil, else the string.
    mutating func string(orNull value: String?) {
        if let value { string(value) } else { null() }
    }

    /// `null` for nil, else the integer.
    mutating func integer(orNull value: (some BinaryInteger)?) {
        if let value { integer(value) } else { null() }
    }

    /// `null` for nil, else the timestamp.
    mutating func timestamp(orNull value: Timestamp?) {
        if let value { timestamp(value) } else { null() }
    }

    /// An object of strings, keys sorted (`JSONEncoder` writes them in hash order, which differs
    /// per process; any order is the same JSON, sorted is at least stable).
    mutating func stringMap(_ map: [String: String]) {
        beginObject()
        for name in map.keys.sorted() {
            key(escaping: name)
            string(map[name] ?? "")
        }
        endObject()
    }

    mutating func stringArray(_ values: [String]) {
        beginArray()
        for value in values { string(value) }
        endArray()
    }

    private mutating func separate() {
        if needsComma { buffer.writeInteger(UInt8(ascii: ",")) }
    }

    private mutating func writeEscape(_ byte: UInt8) {
        buffer.writeInteger(UInt8(ascii: "\\"))
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): buffer.writeInteger(byte)
        case 0x08: buffer.writeInteger(UInt8(ascii: "b"))
        case 0x09: buffer.writeInteger(UInt8(ascii: "t"))
        case 0x0A: buffer.writeInteger(UInt8(ascii: "n"))
        case 0x0C: buffer.writeInteger(UInt8(ascii: "f"))
        case 0x0D: buffer.writeInteger(UInt8(ascii: "r"))
        default:
            let hex: StaticString = "0123456789abcdef"
            buffer.writeStaticString("u00")
            hex.withUTF8Buffer { digits in
                buffer.writeInteger(digits[Int(byte >> 4)])
                buffer.writeInteger(digits[Int(byte & 0x0F)])
            }
        }
    }
}
