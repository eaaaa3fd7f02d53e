import Testing

@testable import ClusterConfig

@Suite("Config: [events]")
struct EventsConfigTests {
    @Test("window 100,000, buffer 10,000 and heartbeat 15 s by default; each key takes a value in range")
    func defaultsAndValues() throws {
        let defaults = try ConfigLoader.parse(validConfig, file: "c.toml").events
        #expect(defaults == ClusterConfig.Events(window: 100_000, buffer: 10_000, heartbeatSeconds: 15,
                                                 maxStreams: 256, maxStreamsPerToken: 32))
        let text = validConfig + "\n[events]\nwindow = 200000\nbuffer = 500\nheartbeat_seconds = 2\n"
        #expect(try ConfigLoader.parse(text, file: "c.toml").events == ClusterConfig.Events(window: 200_000, buffer: 500, heartbeatSeconds: 2))
        #expect(configError(text) == nil)
    }

    @Test("out of range: an error naming the key and the range", arguments: [
        ("window = 99999", "events.window", "100000-5000000"),
        ("window = 5000001", "events.window", "100000-5000000"),
        ("buffer = 99", "events.buffer", "100-100000"),
        ("buffer = 100001", "events.buffer", "at most events.window"),
        ("heartbeat_seconds = 0", "events.heartbeat_seconds", "1-300"),
        ("heartbeat_seconds = 301", "events.heartbeat_seconds", "1-300"),
        ("max_streams = 0", "events.max_streams", "1-100000"),
        ("max_streams = 100001", "events.max_streams", "1-100000"),
        ("max_streams_per_token = 0", "events.max_streams_per_token", "1-256"),
        ("max_streams_per_token = 257", "events.max_streams_per_token", "at most events.max_streams"),
        ("max_streams = 1024", "events.max_streams", "below api.limits.max_connections (1024)"),
    ])
    func outOfRange(_ line: String, _ key: String, _ range: String) {
        let error = configError(validConfig + "\n[events]\n\(line)\n")
        #expect(error?.key == key)
        #expect(error?.reason.contains(range) == true, "\(String(describing: error?.reason))")
    }

    @Test("a buffer larger than a larger window is fine")
    func bufferUpToWindow() {
        #expect(configError(validConfig + "\n[events]\nwindow = 300000\nbuffer = 250000\n") == nil)
    }

    @Test("stream caps: set, and max_streams may rise with max_connections")
    func streamCaps() throws {
        let text = validConfig + "\n[events]\nmax_streams = 2000\nmax_streams_per_token = 2000\n[api.limits]\nmax_connections = 4096\n"
        #expect(configError(text) == nil)
        let events = try ConfigLoader.parse(text, file: "c.toml").events
        #expect(events.maxStreams == 2000 && events.maxStreamsPerToken == 2000)
    }

    @Test("an unknown key in [events] is refused")
    func unknownKey() {
        #expect(configError(validConfig + "\n[events]\nheartbeat = 5\n")?.key == "events.heartbeat")
    }
}
