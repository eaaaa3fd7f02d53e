import NIOCore

/// One SMTP reply: a three-digit code and its text lines (a multi-line reply is `250-…` lines
/// then a final `250 …` line, RFC 5321 §4.2.1).
public struct SMTPReply: Sendable, Hashable, CustomStringConvertible {
    /// The code, e.g. 250.
    public let code: Int
    /// The text after the code on each line, in order.
    public let lines: [String]

    /// A reply.
    public init(code: Int, lines: [String]) {
        self.code = code
        self.lines = lines
    }

    /// 2xx.
    public var isPositive: Bool { (200..<300).contains(code) }
    /// 3xx: the server waits for more (AUTH challenge, DATA's 354).
    public var isIntermediate: Bool { (300..<400).contains(code) }
    /// 4xx: try again later.
    public var isTransient: Bool { (400..<500).contains(code) }

    /// `550 mailbox unavailable` (lines joined by ` / `).
    public var description: String { "\(code) \(lines.joined(separator: " / "))" }
}

/// Splits the server's bytes into ``SMTPReply`` values, refusing anything that is not one.
///
/// Bounded: a line longer than ``maxLineBytes`` or a reply of more than ``maxLines`` lines is
/// an error, so a broken or hostile server cannot make the client buffer without limit.
struct SMTPReplyDecoder: ByteToMessageDecoder {
    typealias InboundOut = SMTPReply

    static let maxLineBytes = 4096
    static let maxLines = 100

    private var pendingCode: Int?
    private var pendingLines: [String] = []

    /// Why the server's bytes are not SMTP replies.
    struct MalformedReply: Error, CustomStringConvertible {
        let reason: String
        var description: String { "the server sent a malformed reply: \(reason)" }
    }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let newline = buffer.readableBytesView.firstIndex(of: 0x0A) else {
            if buffer.readableBytes > Self.maxLineBytes {
                throw MalformedReply(reason: "a line longer than \(Self.maxLineBytes) bytes")
            }
            return .needMoreData
        }
        let length = newline - buffer.readerIndex
        guard length <= Self.maxLineBytes, var bytes = buffer.readBytes(length: length + 1) else {
            throw MalformedReply(reason: "a line longer than \(Self.maxLineBytes) bytes")
        }
        bytes.removeLast()
        if bytes.last == 0x0D { bytes.removeLast() }
        guard bytes.count >= 3, bytes.prefix(3).allSatisfy({ (0x30...0x39).contains($0) }),
              bytes.count == 3 || bytes[3] == UInt8(ascii: " ") || bytes[3] == UInt8(ascii: "-")
        else {
            throw MalformedReply(reason: "\"\(String(decoding: bytes.prefix(80), as: UTF8.self))\" does not start with a code")
        }
        let code = bytes.prefix(3).reduce(0) { $0 * 10 + Int($1 - 0x30) }
        let isLast = bytes.count == 3 || bytes[3] == UInt8(ascii: " ")
        let text = bytes.count > 4 ? String(decoding: bytes[4...], as: UTF8.self) : ""
        if let pendingCode, pendingCode != code {
            throw MalformedReply(reason: "a multi-line reply changed its code from \(pendingCode) to \(code)")
        }
        pendingCode = code
        pendingLines.append(text)
        guard pendingLines.count <= Self.maxLines else {
            throw MalformedReply(reason: "a reply of more than \(Self.maxLines) lines")
        }
        if isLast {
            context.fireChannelRead(wrapInboundOut(SMTPReply(code: code, lines: pendingLines)))
            pendingCode = nil
            pendingLines = []
        }
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        // A partial line at the end of the connection is no reply; the client sees the stream end.
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}
