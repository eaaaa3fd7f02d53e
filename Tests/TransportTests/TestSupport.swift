import Foundation
import Logging
import RaftCore
import Synchronization
import Testing

@testable import Transport

/// A swift-log handler that keeps every record in memory, passed to the code under test as a
/// `Logger` (the global logging system is never bootstrapped). A value, like every log handler,
/// so metadata set on one logger copy does not leak into others.
struct RecordingLogHandler: LogHandler {
    struct Record: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: [String: String]
    }

    final class Box: Sendable {
        let records = Mutex<[Record]>([])
    }

    private let box: Box
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .debug

    init(box: Box) {
        self.box = box
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        merged.merge(event.metadata ?? [:]) { $1 }
        let record = Record(
            level: event.level, message: event.message.description,
            metadata: merged.mapValues { "\($0)" })
        box.records.withLock { $0.append(record) }
    }
}

/// Logs kept in memory for one test.
struct CapturedLogs: Sendable {
    let box = RecordingLogHandler.Box()

    func logger(_ label: String) -> Logger {
        let box = self.box
        return Logger(label: label) { _ in RecordingLogHandler(box: box) }
    }

    var records: [RecordingLogHandler.Record] { box.records.withLock { $0 } }

    func rejections() -> [String] {
        records.filter { $0.message == "peer connection rejected" }.compactMap { $0.metadata["reason"] }
    }
}

/// Waits until `condition` holds, polling, or fails the test after `timeout`.
func eventually(
    _ what: String, timeout: Duration = .seconds(30), sourceLocation: SourceLocation = #_sourceLocation,
    _ condition: () async throws -> Bool
) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: timeout)
    while clock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(10))
    }
    Issue.record("timed out after \(timeout) waiting for: \(what)", sourceLocation: sourceLocation)
    throw CancellationError()
}

extension Transport.CertificateValidity {
    static func current() throws -> Self { try .days(30, from: Date()) }
}
