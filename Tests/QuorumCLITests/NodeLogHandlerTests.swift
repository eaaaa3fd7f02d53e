import Foundation
import Logging
import Synchronization
import Testing

@testable import quorum

/// The node's log handler writes `StreamLogHandler`'s lines, and renders metadata only for a
/// line it writes.
@Suite("Node log handler")
struct NodeLogHandlerTests {
    /// Collects lines; `StreamLogHandler` writes into it too, for the comparison.
    final class Lines: TextOutputStream, @unchecked Sendable {
        private let lines = Mutex<[String]>([])
        var all: [String] { lines.withLock { $0 } }
        func write(_ string: String) { lines.withLock { $0.append(string) } }
        func append(_ bytes: UnsafeRawBufferPointer) { write(String(decoding: bytes, as: UTF8.self)) }
    }

    /// A metadata value that counts how often it was rendered.
    final class CountedValue: CustomStringConvertible, @unchecked Sendable {
        private let count = Mutex(0)
        var renders: Int { count.withLock { $0 } }
        var description: String {
            count.withLock { $0 += 1 }
            return "req-1"
        }
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String { "disk full" }
    }

    private func handler(_ lines: Lines, label: String = "quorum.test", second: time_t = 1_800_000_000) -> NodeLogHandler {
        NodeLogHandler(label: label, level: .trace, output: LogLineOutput(clock: { second }) { lines.append($0) },
                       metadataProvider: nil)
    }

    /// Drops the leading timestamp (the two handlers read the clock at different instants).
    private func withoutTime(_ line: String) -> Substring {
        line.drop { $0 != " " }
    }

    @Test("lines read as StreamLogHandler's: level, label, sorted metadata, explicit metadata winning, error, source, message")
    func sameLines() {
        let ours = Lines(), theirs = Lines()
        let loggers = [
            Logger(label: "quorum.test") { _ in handler(ours) },
            Logger(label: "quorum.test") { StreamLogHandler(label: $0, stream: theirs, metadataProvider: nil) },
        ]
        for var logger in loggers {
            logger.logLevel = .trace
            logger.info("no metadata at all")
            logger[metadataKey: "zeta"] = "last"
            logger[metadataKey: "alpha"] = .stringConvertible(42)
            logger.notice("plain line")
            logger.warning("with explicit", metadata: ["zeta": "overridden", "mid": ["a", "b"]])
            logger.error("failed", error: Failure())
        }
        #expect(ours.all.count == 4)
        #expect(ours.all.map(withoutTime) == theirs.all.map(withoutTime))
        #expect(ours.all.first?.hasSuffix(" info quorum.test: [QuorumCLITests] no metadata at all\n") == true)
        #expect(ours.all.dropFirst().first?.hasSuffix(" notice quorum.test: alpha=42 zeta=last [QuorumCLITests] plain line\n") == true)
    }

    @Test("setting metadata renders nothing; only a written line renders it (a request's id cost every request before)")
    func metadataRenderedOnlyWhenWritten() {
        let lines = Lines()
        let value = CountedValue()
        var logger = Logger(label: "quorum.test") { _ in handler(lines) }
        logger.logLevel = .info
        logger[metadataKey: "hb.request.id"] = .stringConvertible(value)
        logger.debug("below the level")
        #expect(value.renders == 0)
        logger.info("written")
        #expect(value.renders == 1)
        #expect(lines.all.count == 1)
        #expect(lines.all.first?.contains("hb.request.id=req-1") == true)
    }

    @Test("the time is formatted once per second and is the local time StreamLogHandler writes")
    func timestampPerSecond() {
        let second = Mutex<time_t>(1_800_000_000)
        let output = LogLineOutput(clock: { second.withLock { $0 } }) { _ in }
        let first = output.timestamp()
        #expect(first == LogLineOutput.format(1_800_000_000))
        #expect(output.timestamp() == first)
        second.withLock { $0 += 1 }
        #expect(output.timestamp() == LogLineOutput.format(1_800_000_001))
        #expect(output.timestamp() != first)
        // The shape StreamLogHandler writes: 2027-01-15T08:00:00+0000.
        #expect(first.count == 24)
        #expect(first.dropFirst(10).first == "T")
    }
}
