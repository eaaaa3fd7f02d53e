import Foundation
import SchedulerCore
import Synchronization

/// The full output tails (up to 64 KiB each) of the attempts this node ran, one file per attempt
/// under the data directory (`data/<id>/outputs/`), bounded by count and bytes, oldest evicted
/// first.
///
/// Why: only a short tail (``ReplicatedOutputTail/limit``) goes into the replicated state, so a
/// job's history does not cost megabytes on every node; the full tail stays here, where the
/// attempt ran, and the API fetches it from this node (`GET /api/jobs/{id}/runs/{run_id}/output`).
///
/// - Each file is named `<sequence>_<attempt>_<run id, percent-escaped>`: the sequence orders
///   eviction across restarts (modification times are too coarse), the escaping keeps a DAG
///   task's run id (`…/task`) one file name.
/// - A write goes to a temporary file renamed into place, so a crash leaves the old set or the
///   new file, never a torn one. It is not fsynced: after a power loss an output may be gone,
///   and the API then answers with the replicated short tail.
/// - Reads and writes are serialized by a lock; files are at most 64 KiB, so the lock is held
///   for one small read or write.
public final class AttemptOutputStore: Sendable {
    /// How much the store keeps.
    public struct Bounds: Sendable, Hashable {
        /// The most outputs kept.
        public var maxFiles: Int
        /// The most bytes kept, all files together.
        public var maxBytes: Int

        /// Bounds of at most `maxFiles` outputs and `maxBytes` bytes (each at least 1).
        public init(maxFiles: Int, maxBytes: Int) {
            self.maxFiles = max(1, maxFiles)
            self.maxBytes = max(1, maxBytes)
        }

        /// 1,000 outputs and 64 MiB: the last thousand attempts of this node at full size.
        public static let standard = Bounds(maxFiles: 1_000, maxBytes: 64 * 1024 * 1024)
    }

    /// Why an output could not be written (the attempt's finish is still reported).
    public struct WriteFailure: Error, CustomStringConvertible {
        /// What failed, naming the file.
        public let description: String
    }

    /// One attempt: its run and attempt number.
    public struct Key: Hashable, Sendable, CustomStringConvertible {
        /// The run.
        public var runID: RunID
        /// The attempt number (≥ 1).
        public var attempt: Int
        /// A key.
        public init(runID: RunID, attempt: Int) {
            self.runID = runID
            self.attempt = attempt
        }
        /// `run#attempt`.
        public var description: String { "\(runID)#\(attempt)" }
    }

    private struct Entry {
        var sequence: UInt64
        var key: Key
        var name: String
        var bytes: Int
    }

    private struct Index {
        /// Oldest first (ascending sequence).
        var entries: [Entry] = []
        var bytes = 0
        var nextSequence: UInt64 = 1
    }

    /// The directory holding one file per output.
    public let directory: String
    /// The bounds.
    public let bounds: Bounds
    private let index: Mutex<Index>

    /// Opens (creating if missing) the store in `directory`, indexing the outputs a previous run
    /// of this node left and deleting unfinished temporary files. Files that are not outputs
    /// are left alone and not counted.
    public init(directory: String, bounds: Bounds = .standard) throws {
        self.directory = directory
        self.bounds = bounds
        let files = FileManager.default
        try files.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        var index = Index()
        for name in try files.contentsOfDirectory(atPath: directory) {
            if name.hasPrefix(".tmp-") {
                try? files.removeItem(atPath: directory + "/" + name)
                continue
            }
            guard let (sequence, key) = Self.parse(name) else { continue }
            let size = (try? files.attributesOfItem(atPath: directory + "/" + name)[.size] as? NSNumber)?.intValue ?? 0
            index.entries.append(Entry(sequence: sequence, key: key, name: name, bytes: size))
            index.bytes += size
            index.nextSequence = max(index.nextSequence, sequence &+ 1)
        }
        index.entries.sort { $0.sequence < $1.sequence }
        self.index = Mutex(index)
        // Bounds may have shrunk since the files were written.
        self.index.withLock { evict(&$0, toFit: 0) }
    }

    /// How many outputs are kept.
    public var count: Int { index.withLock { $0.entries.count } }
    /// How many bytes the kept outputs take.
    public var totalBytes: Int { index.withLock { $0.bytes } }

    /// Keeps `text` as the output of `key`, replacing an earlier one for the same attempt and
    /// evicting the oldest outputs until the bounds hold. An output larger than
    /// ``Bounds/maxBytes`` by itself is not kept.
    public func write(_ text: String, for key: Key) throws(WriteFailure) {
        let data = Data(text.utf8)
        guard data.count <= bounds.maxBytes else {
            throw WriteFailure(description: "the output of \(key) is \(data.count) bytes, more than the store's \(bounds.maxBytes)")
        }
        let escaped = Self.escape(key.runID.rawValue)
        try index.withLock { (index: inout Index) throws(WriteFailure) in
            let name = "\(String(index.nextSequence))_\(key.attempt)_\(escaped)"
            // NAME_MAX is 255 on Linux and macOS.
            guard name.utf8.count <= 255 else {
                throw WriteFailure(description: "run id \(key.runID) is too long for a file name in \(directory)")
            }
            let temporary = directory + "/.tmp-" + name
            let path = directory + "/" + name
            do {
                try data.write(to: URL(fileURLWithPath: temporary))
                try FileManager.default.moveItem(atPath: temporary, toPath: path)
            } catch {
                try? FileManager.default.removeItem(atPath: temporary)
                throw WriteFailure(description: "could not write \(path): \(error)")
            }
            index.nextSequence &+= 1
            if let old = index.entries.firstIndex(where: { $0.key == key }) { remove(at: old, from: &index) }
            evict(&index, toFit: data.count)
            index.entries.append(Entry(sequence: index.nextSequence &- 1, key: key, name: name, bytes: data.count))
            index.bytes += data.count
        }
    }

    /// The kept output of `key`, or `nil` when this node has none (never ran it, evicted, or
    /// the file is unreadable).
    public func output(of key: Key) -> String? {
        index.withLock { index in
            guard let entry = index.entries.last(where: { $0.key == key }) else { return nil }
            guard let data = FileManager.default.contents(atPath: directory + "/" + entry.name) else { return nil }
            return String(decoding: data, as: UTF8.self)
        }
    }

    /// Removes the oldest entries until one more output of `incoming` bytes fits the bounds.
    private func evict(_ index: inout Index, toFit incoming: Int) {
        let slots = incoming > 0 ? 1 : 0
        while !index.entries.isEmpty,
              index.entries.count + slots > bounds.maxFiles || index.bytes + incoming > bounds.maxBytes {
            remove(at: 0, from: &index)
        }
    }

    private func remove(at position: Int, from index: inout Index) {
        let entry = index.entries.remove(at: position)
        index.bytes -= entry.bytes
        try? FileManager.default.removeItem(atPath: directory + "/" + entry.name)
    }

    /// The bytes a run id keeps unescaped in a file name.
    private static func keepsPlain(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."):
            true
        default: false
        }
    }

    static func escape(_ text: String) -> String {
        var escaped = ""
        for byte in text.utf8 {
            if keepsPlain(byte) {
                escaped.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                escaped += "%" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
            }
        }
        return escaped
    }

    static func unescape(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        var rest = text.utf8[...]
        while let byte = rest.first {
            rest = rest.dropFirst()
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard rest.count >= 2, let value = UInt8(String(decoding: rest.prefix(2), as: UTF8.self), radix: 16) else { return nil }
            bytes.append(value)
            rest = rest.dropFirst(2)
        }
        return String(validating: bytes, as: UTF8.self)
    }

    /// `<sequence>_<attempt>_<escaped run id>` → its parts, or `nil` for another file.
    static func parse(_ name: String) -> (UInt64, Key)? {
        let parts = name.split(separator: "_", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, let sequence = UInt64(parts[0]), let attempt = Int(parts[1]), attempt >= 0, !parts[2].isEmpty,
              let run = unescape(parts[2]) else { return nil }
        return (sequence, Key(runID: RunID(run), attempt: attempt))
    }
}
