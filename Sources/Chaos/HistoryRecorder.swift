import Foundation
import Synchronization

/// Appends history lines to `history.jsonl` as they happen and keeps them for the checker.
/// Times come from one monotonic clock started with the run.
final class HistoryRecorder: Sendable {
    private let started = ContinuousClock.now
    private let state: Mutex<(entries: [HistoryEntry], nextOp: Int)>
    private let file: FileHandle?
    private let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    init(path: String) {
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        file = FileHandle(forWritingAtPath: path)
        state = Mutex(([], 1))
    }

    /// Seconds since the run started.
    func now() -> Double {
        let elapsed = ContinuousClock.now - started
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    /// Records an invocation and returns its op number.
    func invoke(process: Int, _ f: String, node: String, key: String? = nil, id: String? = nil, detail: String? = nil) -> Int {
        let op = state.withLock { recorded -> Int in
            defer { recorded.nextOp += 1 }
            return recorded.nextOp
        }
        append(HistoryEntry(type: "invoke", op: op, process: process, f: f, node: node, time: now(), key: key, id: id, detail: detail))
        return op
    }

    /// Records how op `op` ended.
    func complete(_ op: Int, _ completion: Completion, process: Int, _ f: String, node: String, id: String? = nil,
                  state readState: String? = nil, attempt: Int? = nil, detail: String? = nil, run: String? = nil, wallMs: Int64? = nil) {
        append(HistoryEntry(type: completion.rawValue, op: op, process: process, f: f, node: node, time: now(), id: id,
                            state: readState, attempt: attempt, detail: detail, run: run, wallMs: wallMs))
    }

    /// The boot-time clock (`/proc/uptime`, seconds) at the run's start, the origin of the
    /// history's times on the clock the timed ledger lines use (``LedgerLine``); `nil` if unreadable.
    /// Both readings have 10 ms resolution.
    func uptimeOrigin() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/uptime", encoding: .utf8),
              let first = text.split(separator: " ").first, let uptime = Double(first) else { return nil }
        return uptime - now()
    }

    /// Every entry so far.
    var entries: [HistoryEntry] { state.withLock { $0.entries } }

    private func append(_ entry: HistoryEntry) {
        let line = (try? encoder.encode(entry)).map { $0 + Data("\n".utf8) }
        state.withLock { recorded in
            recorded.entries.append(entry)
            if let line { file?.write(line) }
        }
    }

    /// Closes the file.
    func close() { try? file?.close() }
}
