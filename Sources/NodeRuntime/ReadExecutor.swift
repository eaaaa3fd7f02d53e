import Dispatch

/// Where readers' closures run (issue #12): one serial Dispatch queue, outside the Swift
/// concurrency pool. A page scan is synchronous CPU work; on the cooperative pool (one thread per
/// core, 2 on the benchmark machine) four readers' scans would take every thread and the applier,
/// the Raft driver and the HTTP handlers would wait for one as if the scans still ran on the
/// applying actor. On their own thread they share the CPU with those through the OS scheduler, and
/// one read scans at a time.
final class ReadExecutor: TaskExecutor {
    /// The node's one reader queue.
    static let shared = ReadExecutor()

    private let queue = DispatchQueue(label: "quorum.scheduler-reads", qos: .userInitiated)

    /// Runs `job` on the reader queue.
    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
