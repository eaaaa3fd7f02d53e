/// The bytes of a message as SMTP's DATA phase carries them (RFC 5321 §4.5.2, §4.5.3.1.6).
///
/// Every line ends in CRLF (a bare CR or LF becomes CRLF, so a job's output cannot end the
/// message early or smuggle commands), a line longer than ``maxLineBytes`` is broken at a
/// character boundary, a line starting with `.` gets a second `.` (dot-stuffing: the server
/// removes it), and the terminating `CRLF . CRLF` is appended.
public enum SMTPData {
    /// Longest line sent, CRLF excluded: RFC 5321 allows 998; servers such as aiosmtpd refuse more.
    public static let maxLineBytes = 998

    /// `message` (headers, blank line, body) ready to be written after the server's 354.
    public static func encode(_ message: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(message.utf8.count + 64)
        for line in lines(message) {
            for piece in split(line) {
                if piece.first == UInt8(ascii: ".") { out.append(UInt8(ascii: ".")) }
                out += piece
                out += [0x0D, 0x0A]
            }
        }
        out += Array(".\r\n".utf8)
        return out
    }

    /// The lines of `text` with any of CRLF, CR or LF as the break; a final break ends the last line.
    static func lines(_ text: String) -> [[UInt8]] {
        var result: [[UInt8]] = []
        var current: [UInt8] = []
        var previousWasCR = false
        for byte in text.utf8 {
            if byte == 0x0A, previousWasCR {
                previousWasCR = false
                continue
            }
            previousWasCR = byte == 0x0D
            if byte == 0x0D || byte == 0x0A {
                result.append(current)
                current = []
            } else {
                current.append(byte)
            }
        }
        if !current.isEmpty { result.append(current) }
        return result
    }

    /// `line` in pieces of at most ``maxLineBytes`` bytes, never inside a UTF-8 character.
    static func split(_ line: [UInt8]) -> [[UInt8]] {
        guard line.count > maxLineBytes else { return [line] }
        var pieces: [[UInt8]] = []
        var start = 0
        while start < line.count {
            var end = min(start + maxLineBytes, line.count)
            // Back off continuation bytes so the cut falls before a character's first byte.
            while end < line.count, end > start + 1, line[end] & 0xC0 == 0x80 { end -= 1 }
            pieces.append(Array(line[start..<end]))
            start = end
        }
        return pieces
    }
}
