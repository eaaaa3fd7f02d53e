import ClusterConfig
import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Puts the node's threads under Linux's `SCHED_BATCH` policy (`[cluster] cpu_scheduling =
/// "batch"`, the default; see `ClusterConfig.CPUScheduling` for why).
///
/// The policy is a thread's, and a new thread inherits its creator's. So switching every thread
/// that exists when the node starts — before the event loops, the task pool's workers and the log
/// writer's queue have been created — puts every later thread under it too, including those
/// Dispatch and NIO create on demand. Programs the executor starts inherit it as well
/// (docs/configuration.md says so). Only threads under the normal policy (`SCHED_OTHER`) are
/// switched: a policy the operator chose (`chrt`, systemd's `CPUSchedulingPolicy=`) is kept.
enum ThreadSchedulingPolicy {
    /// `SCHED_BATCH` from `<linux/sched.h>` (a Linux ABI constant; Glibc's Swift module does not
    /// export it).
    static let batch: Int32 = 3
    /// `SCHED_OTHER`, the normal time-sharing policy.
    static let normal: Int32 = 0
    /// `SCHED_RESET_ON_FORK`, which `sched_getscheduler` ORs into a policy; kept when switching.
    static let resetOnFork: Int32 = 0x4000_0000

    /// What ``useBatch()`` did.
    struct Outcome {
        /// Threads switched from the normal policy to `SCHED_BATCH`.
        var switched = 0
        /// Threads already under `SCHED_BATCH` before the first pass.
        var alreadyBatch = 0
        /// Threads left under another policy the process was started with (seen by the first
        /// pass): how many, by policy.
        var keptPolicies: [Int32: Int] = [:]
        /// Threads that could not be read or switched, with the reason (a seccomp filter that
        /// refuses `sched_setscheduler`, a thread that exited meanwhile is not one).
        var failures: [String] = []
    }

    /// Applies `[cluster] cpu_scheduling` to this process and logs what was done. Call it before
    /// the node starts any thread of its own.
    static func apply(_ setting: ClusterConfig.CPUScheduling, logger: Logger) {
        guard setting == .batch else {
            logger.info("cpu scheduling left as started (cpu_scheduling = \"inherit\")")
            return
        }
        let outcome = useBatch()
        var metadata: Logger.Metadata = ["switched": "\(outcome.switched)", "already_batch": "\(outcome.alreadyBatch)"]
        if !outcome.keptPolicies.isEmpty {
            metadata["kept"] = "\(outcome.keptPolicies.sorted { $0.key < $1.key }.map { "\($0.value) threads under policy \($0.key)" })"
        }
        if !outcome.failures.isEmpty {
            metadata["failures"] = "\(outcome.failures)"
            logger.warning("""
                could not put every thread under SCHED_BATCH; the node runs on, those threads keep their policy \
                (set [cluster] cpu_scheduling = "inherit" to skip this)
                """, metadata: metadata)
        } else if outcome.switched + outcome.alreadyBatch == 0 {
            logger.info("""
                threads keep the policy the process was started with: cpu_scheduling = "batch" switches only threads under \
                the normal policy
                """, metadata: metadata)
        } else {
            logger.info("threads run under SCHED_BATCH (cpu_scheduling = \"batch\")", metadata: metadata)
        }
    }

    /// Switches every thread of this process that runs under the normal policy to `SCHED_BATCH`.
    /// Repeats until a pass over `/proc/self/task` finds nothing left to switch (at most 4
    /// passes), so a thread created during a pass by a thread not yet switched is caught by the
    /// next. On a system without `/proc` or `SCHED_BATCH` it reports a failure and changes nothing.
    static func useBatch() -> Outcome {
        let tasksDirectory = "/proc/self/task"
        var outcome = Outcome()
        #if os(Linux)
        for pass in 0..<4 {
            guard let threads = threadIDs(in: tasksDirectory) else {
                outcome.failures.append("\(tasksDirectory) cannot be listed (errno \(errno))")
                return outcome
            }
            var switchedThisPass = 0
            for thread in threads {
                let current = sched_getscheduler(thread)
                guard current >= 0 else { continue }  // the thread exited
                let policy = current & ~resetOnFork
                if policy == batch {
                    if pass == 0 { outcome.alreadyBatch += 1 }
                    continue
                }
                guard policy == normal else {
                    if pass == 0 { outcome.keptPolicies[policy, default: 0] += 1 }
                    continue
                }
                var parameters = sched_param()
                parameters.sched_priority = 0
                if sched_setscheduler(thread, batch | (current & resetOnFork), &parameters) == 0 {
                    switchedThisPass += 1
                } else if errno != ESRCH {
                    outcome.failures.append("thread \(thread): sched_setscheduler(SCHED_BATCH) failed with errno \(errno)")
                }
            }
            outcome.switched += switchedThisPass
            if switchedThisPass == 0 || !outcome.failures.isEmpty { break }
        }
        #else
        outcome.failures.append("SCHED_BATCH is a Linux policy; threads keep the policy they were started with")
        #endif
        return outcome
    }

    /// The thread ids listed in `directory` (`/proc/self/task`), or `nil` when it cannot be read.
    private static func threadIDs(in directory: String) -> [Int32]? {
        guard let stream = opendir(directory) else { return nil }
        defer { closedir(stream) }
        var threads: [Int32] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { bytes in
                String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
            }
            if let thread = Int32(name) { threads.append(thread) }
        }
        return threads
    }
}
