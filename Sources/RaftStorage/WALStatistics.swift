import Synchronization

/// Counters of a `FileLogStore` since it was opened: how well group commit batches, and where
/// the time of a commit goes.
public struct WALStatistics: Hashable, Sendable {
    /// `persist` calls that completed successfully.
    public var operations: Int = 0
    /// Group commits: batch frames written (each covered by one sync).
    public var commits: Int = 0
    /// Bytes written in batch frames.
    public var bytesWritten: Int = 0
    /// Time spent encoding batch frames (CPU, including CRC32C).
    public var encodeTime: Duration = .zero
    /// Time spent in `write`.
    public var writeTime: Duration = .zero
    /// Time spent in `fdatasync`.
    public var syncTime: Duration = .zero

    /// Creates zero counters.
    public init() {}
}

/// Thread-safe accumulator behind `FileLogStore.statistics`.
final class WALStatisticsRecorder: Sendable {
    private let counters = Mutex(WALStatistics())

    var snapshot: WALStatistics { counters.withLock { $0 } }

    func record(bytes: Int, encode: Duration, write: Duration, sync: Duration) {
        counters.withLock {
            $0.commits += 1
            $0.bytesWritten += bytes
            $0.encodeTime += encode
            $0.writeTime += write
            $0.syncTime += sync
        }
    }

    func recordOperations(_ count: Int) {
        counters.withLock { $0.operations += count }
    }
}
