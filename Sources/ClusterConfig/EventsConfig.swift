extension ClusterConfig {
    /// `[events]`: how `GET /api/events` keeps and paces its events on each node (docs/api.md,
    /// "Events"). Per node, not replicated: nodes may differ.
    public struct Events: Sendable, Equatable {
        /// `window`: how many events a node holds for `Last-Event-ID` resumes
        /// (``Limits/eventWindow``). A resume from before the window gets a `reset`; each held
        /// event costs a few hundred bytes of memory.
        public var window: Int
        /// `buffer`: how many events a client that has caught up may fall behind the newest
        /// before it is cut off (``Limits/eventBuffer``, at most `window`).
        public var buffer: Int
        /// `heartbeat_seconds`: a comment line after this long without an event, so proxies and
        /// clients see a live connection (``Limits/eventHeartbeatSeconds``).
        public var heartbeatSeconds: Int
        /// `max_streams`: event streams the node holds open at once (``Limits/eventStreams``).
        /// Each holds a connection, so it must stay below `[api.limits] max_connections`, or
        /// streams alone could take every connection the node accepts.
        public var maxStreams: Int
        /// `max_streams_per_token`: event streams one token may hold open on the node at once
        /// (``Limits/eventStreams``, at most `max_streams`; only with `[api] tokens_file`).
        public var maxStreamsPerToken: Int

        /// The defaults, or the given values (checked by the validator, not here).
        public init(window: Int = Defaults.eventWindow, buffer: Int = Defaults.eventBuffer,
                    heartbeatSeconds: Int = Defaults.eventHeartbeatSeconds,
                    maxStreams: Int = Defaults.eventMaxStreams, maxStreamsPerToken: Int = Defaults.eventMaxStreamsPerToken) {
            self.window = window
            self.buffer = buffer
            self.heartbeatSeconds = heartbeatSeconds
            self.maxStreams = maxStreams
            self.maxStreamsPerToken = maxStreamsPerToken
        }
    }
}

extension ClusterConfig.Limits {
    /// `[events] window`: at least the 100,000 events the contract promises; at most 5,000,000
    /// (about a gigabyte of held events).
    public static let eventWindow: ClosedRange<Int> = 100_000...5_000_000
    /// `[events] buffer`: at least 100 (a burst of one batch submit); at most the window (a
    /// client further behind than the window has lost events anyway).
    public static let eventBuffer: ClosedRange<Int> = 100...5_000_000
    /// `[events] heartbeat_seconds`: 1 s to 5 minutes (proxies commonly close a connection
    /// silent for 60 s or more).
    public static let eventHeartbeatSeconds: ClosedRange<Int> = 1...300
    /// `[events] max_streams` and `max_streams_per_token`: 1 to 100,000 open streams.
    public static let eventStreams: ClosedRange<Int> = 1...100_000
}

extension ClusterConfig.Defaults {
    /// 100,000 events.
    public static let eventWindow = 100_000
    /// 10,000 events.
    public static let eventBuffer = 10_000
    /// 15 seconds.
    public static let eventHeartbeatSeconds = 15
    /// 256 streams: a quarter of `[api.limits] max_connections`' default, so streams never
    /// crowd out submissions and reads.
    public static let eventMaxStreams = 256
    /// 32 streams per token.
    public static let eventMaxStreamsPerToken = 32
}

/// Checks `[events]`.
enum EventsValidator {
    /// The first problem of `events`, as (key, reason).
    static func problem(_ events: ClusterConfig.Events) -> (key: String, reason: String)? {
        let window = ClusterConfig.Limits.eventWindow
        guard window.contains(events.window) else {
            return ("events.window", "\(events.window) is out of range \(window.lowerBound)-\(window.upperBound) events")
        }
        let buffer = ClusterConfig.Limits.eventBuffer
        guard buffer.contains(events.buffer), events.buffer <= events.window else {
            return ("events.buffer", "\(events.buffer) is out of range \(buffer.lowerBound)-\(events.window) events "
                + "(at most events.window)")
        }
        let heartbeat = ClusterConfig.Limits.eventHeartbeatSeconds
        guard heartbeat.contains(events.heartbeatSeconds) else {
            return ("events.heartbeat_seconds", "\(events.heartbeatSeconds) is out of range "
                + "\(heartbeat.lowerBound)-\(heartbeat.upperBound) seconds")
        }
        let streams = ClusterConfig.Limits.eventStreams
        guard streams.contains(events.maxStreams) else {
            return ("events.max_streams", "\(events.maxStreams) is out of range \(streams.lowerBound)-\(streams.upperBound) streams")
        }
        guard streams.contains(events.maxStreamsPerToken), events.maxStreamsPerToken <= events.maxStreams else {
            return ("events.max_streams_per_token", "\(events.maxStreamsPerToken) is out of range "
                + "\(streams.lowerBound)-\(events.maxStreams) streams (at most events.max_streams)")
        }
        return nil
    }
}
