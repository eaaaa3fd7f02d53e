/// One event of a `text/event-stream`, as the HTML standard's parsing rules build it.
public struct ServerSentEvent: Hashable, Sendable {
    /// The `id:` field of this event, if it had one.
    public var id: String?
    /// The `event:` field (`message` when absent).
    public var event: String
    /// The `data:` lines joined with newlines.
    public var data: String

    /// An event.
    public init(id: String?, event: String, data: String) {
        self.id = id
        self.event = event
        self.data = data
    }
}

/// An incremental `text/event-stream` parser (HTML standard, "Interpreting an event stream"):
/// feed it bytes as they arrive, take complete events. Comments (`: hb`) and `retry:` are
/// skipped; a line may end in LF, CR or CRLF; a field without `:` has an empty value.
///
/// (mattt/EventSource 1.1.1, which the issue suggested, does not compile on Linux: its
/// `EventSource` actor calls `URLSession.bytes`, which FoundationNetworking lacks, so the
/// module and its parser cannot be built here.)
public struct ServerSentEventParser: Sendable {
    private var line: [UInt8] = []
    private var lastWasCR = false
    private var id: String?
    private var event = ""
    private var data: [String] = []
    private var hasData = false
    /// The most recent `id:` seen (the value a reconnect sends as `Last-Event-ID`).
    public private(set) var lastEventID: String?
    /// Longest line kept; a longer one is cut there (a broken server cannot exhaust memory).
    public let maxLineBytes: Int

    /// A parser with an empty buffer.
    public init(maxLineBytes: Int = 1 << 20) { self.maxLineBytes = maxLineBytes }

    /// Consumes `bytes`, returning the events they complete.
    public mutating func consume(_ bytes: some Sequence<UInt8>) -> [ServerSentEvent] {
        var completed: [ServerSentEvent] = []
        for byte in bytes {
            if lastWasCR {
                lastWasCR = false
                if byte == UInt8(ascii: "\n") { continue }
            }
            switch byte {
            case UInt8(ascii: "\n"):
                if let event = endLine() { completed.append(event) }
            case UInt8(ascii: "\r"):
                lastWasCR = true
                if let event = endLine() { completed.append(event) }
            default:
                if line.count < maxLineBytes { line.append(byte) }
            }
        }
        return completed
    }

    private mutating func endLine() -> ServerSentEvent? {
        defer { line.removeAll(keepingCapacity: true) }
        guard !line.isEmpty else { return dispatch() }
        if line.first == UInt8(ascii: ":") { return nil }
        let field: String
        let value: String
        if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
            field = String(decoding: line[..<colon], as: UTF8.self)
            var start = line.index(after: colon)
            if start < line.endIndex, line[start] == UInt8(ascii: " ") { start += 1 }
            value = String(decoding: line[start...], as: UTF8.self)
        } else {
            field = String(decoding: line, as: UTF8.self)
            value = ""
        }
        switch field {
        case "event": event = value
        case "data":
            data.append(value)
            hasData = true
        case "id" where !value.contains("\0"): id = value
        default: break
        }
        return nil
    }

    private mutating func dispatch() -> ServerSentEvent? {
        defer {
            event = ""
            data = []
            hasData = false
        }
        if let id { lastEventID = id }
        let dispatched = id
        id = nil
        guard hasData else { return nil }
        return ServerSentEvent(id: dispatched, event: event.isEmpty ? "message" : event, data: data.joined(separator: "\n"))
    }
}
