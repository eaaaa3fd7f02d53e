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

        /// The defaults, or the given values (checked by the validator, not here).
        public init(window: Int = Defaults.eventWindow, buffer: Int = Defaults.eventBuffer,
                    heartbeatSeconds: Int = Defaults.eventHeartbeatSeconds) {
            self.window = window
            self.buffer = buffer
            self.heartbeatSeconds = heartbeatSeconds
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
}

extension ClusterConfig.Defaults {
    /// 100,000 events.
    public static let eventWindow = 100_000
    /// 10,000 events.
    public static let eventBuffer = 10_000
    /// 15 seconds.
    public static let eventHeartbeatSeconds = 15
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
        return nil
    }
}
