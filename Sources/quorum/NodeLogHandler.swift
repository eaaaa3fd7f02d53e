#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Musl)
@preconcurrency import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import Synchronization

/// The node's log handler: the line format of swift-log's `StreamLogHandler`
/// (`TIME LEVEL LABEL: key=value … [SOURCE] MESSAGE`, on standard error), without its costs on
/// paths that log nothing.
///
/// `StreamLogHandler` renders its metadata again (sorts the keys and formats every value) each
/// time the metadata changes. Hummingbird gives every request a logger with its own
/// `hb.request.id` (`Logger.with(metadataKey:value:)`), so every API request paid for that
/// rendering though almost none logs a line. This handler renders metadata only when it writes
/// a line, and formats the time once per second (`StreamLogHandler` calls `localtime` and
/// `strftime` on every line; the audit log writes a line per API write). docs/benchmarks.md,
/// "The log handler".
struct NodeLogHandler: LogHandler {
    /// Where lines go: standard error for a node; a test passes its own.
    let output: LogLineOutput
    let label: String
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    init(label: String, level: Logger.Level, output: LogLineOutput = .standardError,
         metadataProvider: Logger.MetadataProvider? = LoggingSystem.metadataProvider) {
        self.label = label
        self.logLevel = level
        self.output = output
        self.metadataProvider = metadataProvider
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var line = output.timestamp()
        line += " \(event.level)"
        if !label.isEmpty { line += " " }
        line += label
        line += ":"
        if let rendered = Self.render(effectiveMetadata(for: event)) {
            line += " "
            line += rendered
        }
        line += " [\(event.source)] \(event.message)\n"
        output.write(line)
    }

    /// The handler's metadata, then the provider's, then the event's own (later keys win), then
    /// the error — as `StreamLogHandler` merges them.
    private func effectiveMetadata(for event: LogEvent) -> Logger.Metadata {
        var merged = metadata
        if let provided = metadataProvider?.get(), !provided.isEmpty {
            merged.merge(provided) { _, provided in provided }
        }
        if let explicit = event.metadata, !explicit.isEmpty {
            merged.merge(explicit) { _, explicit in explicit }
        }
        if let error = event.error {
            merged["error.message"] = "\(error)"
            merged["error.type"] = "\(String(reflecting: type(of: error)))"
        }
        return merged
    }

    /// `key=value` pairs sorted by key, or nil when there are none.
    static func render(_ metadata: Logger.Metadata) -> String? {
        guard !metadata.isEmpty else { return nil }
        return metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
    }
}

/// The lines of every `NodeLogHandler` of a process, and the local time they are stamped with.
///
/// One write per line, under the stream's lock, so lines from different threads never
/// interleave. The timestamp (`%Y-%m-%dT%H:%M:%S%z`, local time, as `StreamLogHandler` writes
/// it) is formatted once per wall-clock second and reused within it.
final class LogLineOutput: Sendable {
    /// Standard error, flushed after every line (a node's log must not lose its last lines to a
    /// crash or a `kill -9`).
    static let standardError = LogLineOutput { bytes in
        guard let stream = stderr else { return }
        flockfile(stream)
        defer { funlockfile(stream) }
        _ = fwrite(bytes.baseAddress, 1, bytes.count, stream)
        fflush(stream)
    }

    private let sink: @Sendable (UnsafeRawBufferPointer) -> Void
    private let clock: @Sendable () -> time_t
    private let lastStamp = Mutex<(second: time_t, text: String)?>(nil)

    /// - Parameters:
    ///   - clock: the wall clock in whole seconds (a test passes its own).
    ///   - sink: receives each line's UTF-8 bytes, newline included.
    init(clock: @escaping @Sendable () -> time_t = { time(nil) },
         sink: @escaping @Sendable (UnsafeRawBufferPointer) -> Void) {
        self.clock = clock
        self.sink = sink
    }

    func write(_ line: String) {
        var line = line
        line.withUTF8 { sink(UnsafeRawBufferPointer($0)) }
    }

    /// This second's local time, formatted as `StreamLogHandler` formats it.
    func timestamp() -> String {
        let now = clock()
        if let cached = lastStamp.withLock({ $0 }), cached.second == now { return cached.text }
        let text = Self.format(now)
        lastStamp.withLock { $0 = (now, text) }
        return text
    }

    static func format(_ second: time_t) -> String {
        var seconds = second
        var local = tm()
        guard localtime_r(&seconds, &local) != nil else { return "<unknown>" }
        var buffer = [CChar](repeating: 0, count: 64)
        let count = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &local)
        return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
