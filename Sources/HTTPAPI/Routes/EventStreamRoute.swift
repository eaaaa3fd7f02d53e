import Hummingbird
import NIOCore
import SchedulerCore

/// `GET /api/events`: the node's events as server-sent events (docs/api.md, "Events").
///
/// The handler only reads the node's ``EventFeed``; it never waits on the apply path. Each
/// client has a cursor into the node's window and reads at its own pace: one that falls
/// behind by more than its buffer (``EventStreamSettings/clientBuffer``) once live is cut
/// off (the stream ends; the client reconnects with `Last-Event-ID`).
public struct EventStreamRoute<Feed: EventFeed>: Sendable {
    /// The route's path.
    public static var path: String { "/api/events" }

    /// Where events come from.
    public let feed: Feed
    /// Heartbeat, buffer and batch.
    public let settings: EventStreamSettings

    /// How many streams may be open at once (shared by every registration of the route).
    public let slots: EventStreamSlots

    /// The route over `feed`, holding at most what `slots` allows open at once.
    public init(feed: Feed, settings: EventStreamSettings = EventStreamSettings(), slots: EventStreamSlots = EventStreamSlots()) {
        self.feed = feed
        self.settings = settings
        self.slots = slots
    }

    /// Adds the route to `router`; with `authorizer`, the caller needs the `read` role.
    public func register<Context: RequestContext>(on router: Router<Context>, authorizer: TokenAuthorizer? = nil) {
        router.get(RouterPath(Self.path)) { request, _ -> Response in
            let caller = try authorizer?.authorize(request, required: .read)
            return try response(to: request, token: caller?.name)
        }
    }

    /// The streaming response for `request` (filters and `Last-Event-ID` checked first: 422;
    /// then a slot for `token`'s stream: 429 when the node or the token has too many open).
    func response(to request: Request, token: String?) throws(APIError) -> Response {
        let filter = try Self.filter(request)
        let lastEventID = try Self.lastEventID(request)
        let slot = try slots.acquire(token: token)
        let route = self
        // The body holds the slot: it is given back when the stream ends, or when the response
        // is dropped unsent (the client went away first).
        let body = ResponseBody { writer in
            defer { slot.release() }
            try await route.stream(to: writer, lastEventID: lastEventID, filter: filter)
        }
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream; charset=utf-8"
        headers[.cacheControl] = "no-cache"
        return Response(status: .ok, headers: headers, body: body)
    }

    /// Streams to `writer` (what the response body does): `event: reset` first when
    /// `lastEventID` cannot be resumed here, then the events after it. Returns when the client
    /// goes away (a write throws), the feed closes (the node stops) or the client is cut off.
    ///
    /// An id past everything this node applied is resumed (events up to it skipped) when the
    /// node knows its entry is committed within ``EventStreamSettings/aheadWait``; otherwise the
    /// client gets a reset and live events: waiting for an entry that may never come here (an
    /// id from another cluster) would hold the client forever.
    public func stream(to writer: any ResponseBodyWriter, lastEventID: UInt64?, filter: EventFilter = EventFilter()) async throws {
        // Registered before the cursor is taken, so no event appended in between is missed.
        let wakes = feed.wakes()
        var (cursor, opening) = feed.open(lastEventID: lastEventID)
        if case .ahead(let entry) = opening, !(await feed.awaitCommitted(entry: entry, within: settings.aheadWait)) {
            (cursor, _) = feed.open(lastEventID: nil)
            opening = .reset
        }
        var writer = writer
        try await EventPump(feed: feed, settings: settings, filter: filter)
            .run(writer: &writer, wakes: wakes, cursor: cursor, reset: opening == .reset)
        // Ends the chunked body; without it the server would hold the response open.
        try await writer.finish(nil)
    }

    /// `?types=run,dag&job=ID&dag=ID&label=k:v` (labels may repeat; all must match).
    static func filter(_ request: Request) throws(APIError) -> EventFilter {
        let query = request.uri.queryParameters
        var filter = EventFilter()
        for list in query.getAll("types") {
            for name in list.split(separator: ",", omittingEmptySubsequences: true) {
                guard let kind = ChangeEvent.Kind(rawValue: String(name)) else {
                    let known = ChangeEvent.Kind.allCases.map(\.rawValue).joined(separator: ", ")
                    throw .invalid(field: "types", "unknown event type '\(FieldProblem.shortened(String(name)))'; use a comma-separated list of \(known)")
                }
                filter.kinds.insert(kind)
            }
        }
        filter.jobID = query.get("job")
        filter.dagID = query.get("dag")
        for text in query.getAll("label") {
            guard let colon = text.firstIndex(of: ":"), colon != text.startIndex else {
                throw .invalid(field: "label", "'\(FieldProblem.shortened(text))' is not key:value")
            }
            filter.labels.append(KeyValue(String(text[..<colon]), String(text[text.index(after: colon)...])))
        }
        return filter
    }

    /// The `Last-Event-ID` header: a decimal event id as this API sends them (absent or empty:
    /// a new client).
    static func lastEventID(_ request: Request) throws(APIError) -> UInt64? {
        guard let text = request.headers.first(where: { $0.name.canonicalName == "last-event-id" })?.value, !text.isEmpty else {
            return nil
        }
        guard let id = UInt64(text) else {
            throw .invalid(field: "Last-Event-ID", "'\(FieldProblem.shortened(text))' is not an event id (a decimal number as the id: lines of this stream)")
        }
        return id
    }
}

/// Writes one client's stream: reads the window whenever it changes, filters, writes; a
/// heartbeat comment after ``EventStreamSettings/heartbeat`` of silence. Ends when the client
/// goes away (a write fails), the feed closes (the node is shutting down), or the client is
/// too slow.
struct EventPump<Feed: EventFeed>: Sendable {
    let feed: Feed
    let settings: EventStreamSettings
    let filter: EventFilter

    enum Signal: Sendable { case events, heartbeat }

    func run(writer: inout any ResponseBodyWriter, wakes: AsyncStream<Void>, cursor start: EventCursor, reset: Bool) async throws {
        let (signals, signal) = AsyncStream<Signal>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let heartbeat = settings.heartbeat
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in wakes { signal.yield(.events) }
                signal.finish()
            }
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: heartbeat)
                    signal.yield(.heartbeat)
                }
            }
            defer { group.cancelAll() }
            let clock = ContinuousClock()
            var lastWrite = clock.now
            var cursor = start
            // The first bytes go out at once, so the client knows the stream is open.
            try await writer.write(ByteBuffer(string: reset ? ServerSentEventText.reset : ": open\n\n"))
            var pending = true
            var iterator = signals.makeAsyncIterator()
            while true {
                if pending {
                    pending = false
                    guard let written = try await drain(&writer, cursor: &cursor) else { return }
                    if written { lastWrite = clock.now }
                }
                guard let next = await iterator.next() else { return }
                switch next {
                case .events:
                    pending = true
                case .heartbeat:
                    // Read anyway: a heartbeat may have replaced a wake-up in the one-slot buffer.
                    pending = true
                    if clock.now - lastWrite >= heartbeat {
                        try await writer.write(ByteBuffer(string: ServerSentEventText.heartbeat))
                        lastWrite = clock.now
                    }
                }
            }
        }
    }

    /// Writes everything readable at `cursor`; whether anything was written, or `nil` when the
    /// client was cut off.
    private func drain(_ writer: inout any ResponseBodyWriter, cursor: inout EventCursor) async throws -> Bool? {
        var wrote = false
        while true {
            switch feed.read(cursor, limit: settings.batch, clientBuffer: settings.clientBuffer) {
            case .cutOff(let reason):
                feed.clientCutOff(reason: reason)
                return nil
            case .reset(let next):
                cursor = next
                try await writer.write(ByteBuffer(string: ServerSentEventText.reset))
                wrote = true
            case .events(let events, let next):
                let advanced = next.next != cursor.next
                cursor = next
                let text = events.filter(filter.matches).map(ServerSentEventText.block).joined()
                if !text.isEmpty {
                    try await writer.write(ByteBuffer(string: text))
                    wrote = true
                }
                if !advanced { return wrote }
            }
        }
    }
}
