import Foundation
import RaftCore
import RaftStorage

/// Checks one node's data directory on this machine: free space, how fast it syncs, and
/// whether its WAL would open.
enum DataDirectoryCheck {
    /// Free space below this fraction of the disk, or below ``lowBytes``, is a warning…
    static let lowFraction = 0.10
    static let lowBytes: UInt64 = 1 << 30
    /// …and below this fraction, or below ``criticalBytes``, a failure: the WAL and snapshots
    /// need room to grow, and a node that cannot write stops.
    static let criticalFraction = 0.02
    static let criticalBytes: UInt64 = 256 << 20
    /// A median sync slower than this is a warning, slower than ``slowSync`` a failure: every
    /// write waits for one sync on a majority, and heartbeats are 50 ms apart.
    static let sluggishSync: Duration = .milliseconds(10)
    static let slowSync: Duration = .milliseconds(50)

    /// Free space as a finding (pure).
    static func space(free: UInt64, total: UInt64, directory: String, area: String) -> DoctorFinding {
        let fraction = total == 0 ? 0 : Double(free) / Double(total)
        let text = "\(directory): \(Self.size(free)) free of \(Self.size(total)) (\(Int((fraction * 100).rounded())) %)"
        let advice = "free space on that disk, or move the data directory ([cluster] data_dir) to a larger one; "
            + "a node that cannot write its WAL stops"
        if free < criticalBytes || fraction < criticalFraction { return .failure(area, text, advice: advice) }
        if free < lowBytes || fraction < lowFraction { return .warning(area, text, advice: advice) }
        return .ok(area, text)
    }

    /// Sync latency as a finding (pure): `samples` are the durations of write+fsync rounds.
    static func syncLatency(_ samples: [Duration], directory: String, area: String) -> DoctorFinding {
        let sorted = samples.sorted()
        guard let slowest = sorted.last else { return .warning(area, "\(directory): no sync measured", advice: "run doctor again") }
        let median = sorted[sorted.count / 2]
        let text = "\(directory): 4 KiB write + fsync median \(Self.milliseconds(median)), slowest \(Self.milliseconds(slowest)) "
            + "(\(samples.count) rounds)"
        let advice = "put the data directory on a local SSD; a network or throttled disk slows every write and can cost "
            + "leadership (docs/storage.md)"
        if median > slowSync { return .failure(area, text, advice: advice) }
        if median > sluggishSync { return .warning(area, text, advice: advice) }
        return .ok(area, text)
    }

    /// Measures `rounds` write+fsync of 4 KiB in a temporary file inside `directory` (removed after).
    static func measureSync(in directory: String, rounds: Int = 10) throws -> [Duration] {
        let path = directory + "/.quorum-doctor-\(getpid())"
        let fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0o600)
        guard fd >= 0 else { throw DoctorError("cannot create \(path): \(String(cString: strerror(errno)))") }
        defer {
            close(fd)
            unlink(path)
        }
        let block = [UInt8](repeating: 0x51, count: 4096)
        let clock = ContinuousClock()
        var samples: [Duration] = []
        for _ in 0..<rounds {
            let started = clock.now
            let written = block.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard written == block.count, fsync(fd) == 0 else {
                throw DoctorError("cannot write and sync \(path): \(String(cString: strerror(errno)))")
            }
            samples.append(clock.now - started)
        }
        return samples
    }

    /// Free and total bytes of the file system holding `directory`.
    static func freeSpace(of directory: String) throws -> (free: UInt64, total: UInt64) {
        var stats = statvfs()
        guard statvfs(directory, &stats) == 0 else {
            throw DoctorError("cannot read the file system of \(directory): \(String(cString: strerror(errno)))")
        }
        let unit = UInt64(stats.f_frsize)
        return (UInt64(stats.f_bavail) * unit, UInt64(stats.f_blocks) * unit)
    }

    /// The WAL as the node would see it: damage is a failure, a torn tail a warning.
    static func wal(_ report: WALInspectionReport, area: String) -> DoctorFinding {
        if let damage = report.damage {
            return .failure(area, "\(report.directory): damaged: \(damage)",
                            advice: "the node refuses to start from it; `quorum wal inspect \(report.directory)` shows where, "
                                + "docs/storage.md says how to rebuild the node from its peers")
        }
        let range = report.logIndexes.map { Self.logRange(first: $0.first, last: $0.last) } ?? "no entries"
        let text = "\(report.directory): \(report.segments.count) segments, \(range), \(report.snapshots.count) snapshots"
        if let torn = report.tornTail {
            return .warning(area, text + "; torn tail: \(torn.length) bytes at \(torn.segment) offset \(torn.offset) (\(torn.reason))",
                            advice: "left by a crash mid-write; the node cuts it off when it opens the WAL (nothing acknowledged is lost)")
        }
        return .ok(area, text)
    }

    /// A compacted or fresh log has `last == first - 1` (nothing after the snapshot): say so
    /// instead of printing a backwards range.
    static func logRange(first: Raft.LogIndex, last: Raft.LogIndex) -> String {
        last < first ? "no entries after the snapshot (next index \(first.rawValue))"
            : "entries \(first.rawValue)–\(last.rawValue)"
    }

    private static func size(_ bytes: UInt64) -> String {
        bytes >= 1 << 30 ? String(format: "%.1f GiB", Double(bytes) / Double(1 << 30)) : "\(bytes >> 20) MiB"
    }

    private static func milliseconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        return String(format: "%.2f ms", Double(seconds) * 1_000 + Double(attoseconds) / 1e15)
    }
}

/// A check that could not be run (the path, the system call and why).
struct DoctorError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
