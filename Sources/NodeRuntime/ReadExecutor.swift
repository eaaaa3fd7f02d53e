import Dispatch
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Where list reads run (issue #12): one thread of their own, outside the Swift concurrency
/// pool, at the lowest CPU priority the OS gives without privileges.
///
/// Outside the pool: a page scan is synchronous CPU work, and the cooperative pool has one thread
/// per core (2 on the benchmark machine); four readers' scans there would take every thread the
/// applier, the Raft driver and the HTTP handlers need. On one thread of its own, one read runs at
/// a time.
///
/// Low priority: on Linux the thread sets its own nice value to ``niceValue`` (19) when it starts
/// (`setpriority(PRIO_PROCESS, 0, 19)`: Linux keeps the nice value per thread, and who 0 is the
/// calling thread). When the node's other threads want the CPU — applying, replicating,
/// answering writes — the scheduler gives them about 98 % of it against this thread (CFS
/// weights 1024 against 15), and reads use what is idle (within their CPU budget, `[api]
/// max_read_cpu_percent`, which the HTTP API's gate charges with ``cpuTime()``). Not `SCHED_IDLE` (weight 3): on a machine that is never idle a read would then
/// wait for seconds and clients would time out; nice 19 still guarantees reads a trickle. Not a
/// Dispatch queue (as before): its worker threads are shared with other queues, and an
/// unprivileged thread can lower its priority but never raise it back.
///
/// A task pinned here with `withTaskExecutorPreference` runs its synchronous stretches on this
/// thread; the actors it calls still run on their own executors.
///
/// A second instance, ``encodings``, runs whole-state encodings (`/api/cluster/digest`, backups)
/// on a thread of its own at the default priority: they are rare, take up to seconds, and their
/// callers have deadlines (the chaos checker samples digests with a 2 s timeout).
public final class ReadExecutor: TaskExecutor, Sendable {
    /// The list reads' thread, at nice ``niceValue``: the HTTP API's read admission gate runs
    /// every admitted list read here.
    public static let lists = ReadExecutor(name: "quorum.lists", nice: niceValue)

    /// Whole-state encodings of a published view (state digests, backups), at the default priority.
    public static let encodings = ReadExecutor(name: "quorum.encode", nice: nil)

    /// The nice value the list reads' thread runs at (Linux; elsewhere the default).
    public static let niceValue: Int32 = 19

    /// Jobs waiting for the thread, oldest first (a handful: one per read in flight).
    private let jobs = Mutex<[UnownedJob]>([])
    /// The thread's CPU clock, once the thread has started (Linux).
    private let cpuClock = Mutex<ThreadCPUClock?>(nil)
    /// Signalled once per enqueued job.
    private let wake = DispatchSemaphore(value: 0)

    /// Starts the thread named `name` (at most 15 bytes: Linux's limit), at nice `nice` where the OS allows (`nil`: the default).
    /// The thread lives as long as the process (there are two, ``lists`` and ``encodings``).
    private init(name: String, nice: Int32?) {
        let thread = Thread { [self] in
            // Named from inside: on Linux a name set before start is not given to the OS thread,
            // which would keep its creator's (a Dispatch worker's) name in `top -H` and perf.
            Thread.current.name = name
            if let nice { Self.lowerOwnPriority(to: nice) }
            cpuClock.withLock { $0 = ThreadCPUClock.current() }
            while true {
                wake.wait()
                guard let job = jobs.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) else { continue }
                job.runSynchronously(on: asUnownedTaskExecutor())
            }
        }
        thread.start()
    }

    /// Runs `job` on the reader thread, after the jobs enqueued before it.
    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        jobs.withLock { $0.append(job) }
        wake.signal()
    }

    /// The CPU time the thread has used since it started (`.zero` before it starts, or where the
    /// OS has no per-thread CPU clock): what list reads cost, for their budget
    /// (`[api] max_read_cpu_percent`; ReadCPUBudget in HTTPAPI).
    public func cpuTime() -> Duration {
        cpuClock.withLock { $0 }?.elapsed() ?? .zero
    }

    /// The nice value of the thread running the caller, as the OS reports it (Linux only; `nil`
    /// elsewhere). Tests read it on the reader thread to check the priority is really set.
    public static func currentThreadNice() -> Int32? {
        #if os(Linux)
        errno = 0
        let value = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
        return errno == 0 ? value : nil
        #else
        return nil
        #endif
    }

    /// Sets the calling thread's nice value (raising a nice value needs no privilege). If the OS
    /// refuses, reads run at the default priority: slower writes under read load, nothing worse.
    private static func lowerOwnPriority(to nice: Int32) {
        #if os(Linux)
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, nice)
        #endif
    }
}
