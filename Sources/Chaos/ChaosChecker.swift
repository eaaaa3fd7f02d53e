/// The checker: a pure function of the history and the final observations. It trusts nothing
/// the cluster says about itself beyond what a client can see: acknowledgements in the history,
/// final linearizable reads, the ledger that shell tasks append to, and per-node digests.
///
/// Status reads are checked per job by a bounded Wing–Gong search (``LinearizabilitySearch``)
/// against ``JobModel``: the job's states form a partial order (``StatusOrder``), submits and
/// cancels are the clients' writes, and the cluster's own transitions are unobserved writes.
public enum ChaosChecker {
    /// The verdict with the numbers the verdict line needs.
    public struct Result: Hashable, Sendable {
        /// The counts and findings.
        public var verdict: ChaosVerdict
        /// Distinct jobs whose submit was acknowledged.
        public var ackedJobs: Int
        /// Distinct DAG runs whose submit was acknowledged.
        public var ackedDAGs: Int
    }

    /// Checks `operations` (paired history, nemesis lines excluded) against `observations`;
    /// `processEnds` (``Operation/processEnds(_:)``) splits each node's stale reads into sessions.
    public static func check(_ operations: [Operation], _ observations: FinalObservations,
                             processEnds: [String: [Double]] = [:]) -> Result {
        var verdict = ChaosVerdict()
        let jobs = acknowledged(operations.filter { $0.kind == .submitJob }, &verdict)
        let dags = acknowledged(operations.filter { $0.kind == .submitDAG }, &verdict)
        checkUnresolvedKeys(observations, &verdict)
        checkJobs(jobs, observations, &verdict)
        checkDAGs(dags, observations, &verdict)
        checkReads(operations, jobs, &verdict)
        checkStaleReads(operations, processEnds, &verdict)
        checkDigests(observations.digests, &verdict)
        checkForbid(observations.forbidRuns, &verdict)
        checkCancels(operations, observations, &verdict)
        return Result(verdict: verdict, ackedJobs: jobs.count, ackedDAGs: dags.count)
    }

    /// Acknowledged ids by id, each with the op that acknowledged it first. Two ids for one
    /// idempotency key are a duplicate.
    private static func acknowledged(_ submits: [Operation], _ verdict: inout ChaosVerdict) -> [String: Operation] {
        var byKey: [String: [Operation]] = [:]
        var keyless: [Operation] = []
        for submit in submits where submit.completion == .ok && submit.id != nil {
            if let key = submit.key { byKey[key, default: []].append(submit) } else { keyless.append(submit) }
        }
        var acked: [String: Operation] = [:]
        for (key, oks) in byKey.sorted(by: { $0.key < $1.key }) {
            let ids = Set(oks.compactMap(\.id))
            if ids.count > 1 {
                verdict.duplicates += ids.count - 1
                verdict.findings.append("duplicate: idempotency key \(key) created \(ids.sorted()) (ops \(oks.map(\.op)))")
            }
            for ok in oks where acked[ok.id ?? ""] == nil { acked[ok.id ?? ""] = ok }
        }
        for ok in keyless where acked[ok.id ?? ""] == nil { acked[ok.id ?? ""] = ok }
        return acked
    }

    /// An unresolved submit (outcome never known) may have created a job, but never two; a key
    /// whose jobs could not be listed is undecided.
    private static func checkUnresolvedKeys(_ observations: FinalObservations, _ verdict: inout ChaosVerdict) {
        for (key, found) in observations.jobsByUnresolvedKey.sorted(by: { $0.key < $1.key }) {
            guard let found else {
                verdict.unknown += 1
                verdict.findings.append("unknown: the jobs of unresolved idempotency key \(key) could not be listed")
                continue
            }
            guard found.count > 1 else { continue }
            verdict.duplicates += found.count - 1
            verdict.findings.append("duplicate: unresolved idempotency key \(key) created \(found.sorted())")
        }
    }

    private static func ledgerCounts(_ ledger: [String]) -> [String: Int] {
        var counts: [String: Int] = [:]
        for line in ledger { counts[LedgerLine(line).tag, default: 0] += 1 }
        return counts
    }

    private static func checkJobs(_ jobs: [String: Operation], _ observations: FinalObservations, _ verdict: inout ChaosVerdict) {
        let executions = ledgerCounts(observations.ledger)
        for (id, submit) in jobs.sorted(by: { $0.key < $1.key }) {
            guard let seen = observations.jobs[id], let job = seen else {
                verdict.unknown += 1
                verdict.findings.append("unknown: job \(id) (op \(submit.op)) could not be read after healing")
                continue
            }
            if job.state == "missing" {
                verdict.lost += 1
                verdict.findings.append("lost: job \(id) acknowledged by op \(submit.op) on \(submit.node) at \(submit.completedAt ?? 0)s is gone")
                continue
            }
            if !StatusOrder.terminal.contains(job.state) {
                verdict.stuck += 1
                verdict.findings.append("stuck: job \(id) (op \(submit.op)) is still \(job.state) after healing")
            }
            let successes = job.attempts.filter { $0 == "succeeded" }.count
            if successes > 1 {
                verdict.duplicates += 1
                verdict.findings.append("duplicate: job \(id) (op \(submit.op)) completed \(successes) times: \(job.attempts)")
            }
            if let tag = observations.tags[id], let count = executions[tag], count > job.attempts.count {
                verdict.duplicates += 1
                verdict.findings.append(
                    "duplicate: job \(id) (op \(submit.op)) ran \(count) times (ledger \(tag)) but has \(job.attempts.count) attempts \(job.attempts)")
            }
        }
    }

    private static func checkDAGs(_ dags: [String: Operation], _ observations: FinalObservations, _ verdict: inout ChaosVerdict) {
        let executions = ledgerCounts(observations.ledger)
        var firstLine: [String: Int] = [:]
        for (index, line) in observations.ledger.enumerated() {
            let tag = LedgerLine(line).tag
            if firstLine[tag] == nil { firstLine[tag] = index }
        }
        for (id, submit) in dags.sorted(by: { $0.key < $1.key }) {
            guard let seen = observations.dags[id], let dag = seen else {
                verdict.unknown += 1
                verdict.findings.append("unknown: DAG run \(id) (op \(submit.op)) could not be read after healing")
                continue
            }
            if dag.state == "missing" {
                verdict.lost += 1
                verdict.findings.append("lost: DAG run \(id) acknowledged by op \(submit.op) is gone")
                continue
            }
            if !["succeeded", "failed", "cancelled"].contains(dag.state) {
                verdict.stuck += 1
                verdict.findings.append("stuck: DAG run \(id) (op \(submit.op)) is still \(dag.state) after healing")
            }
            let byID = Dictionary(dag.tasks.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
            for task in dag.tasks {
                if let reason = orderViolation(task, byID, dagID: id, observations.tags, firstLine) {
                    verdict.orderViolations += 1
                    verdict.findings.append("order: DAG run \(id) (op \(submit.op)) task \(task.id): \(reason)")
                }
                if let tag = observations.tags["\(id)/\(task.id)"], let count = executions[tag], count > task.attempt {
                    verdict.duplicates += 1
                    verdict.findings.append(
                        "duplicate: DAG run \(id) task \(task.id) ran \(count) times (ledger \(tag)) but has \(task.attempt) attempts")
                }
            }
        }
    }

    /// Why `task` ran out of order, if it did: it started before a dependency finished, it
    /// succeeded while a dependency did not, or its ledger line precedes every line of a dependency.
    private static func orderViolation(_ task: DAGTaskObservation, _ tasks: [String: DAGTaskObservation], dagID: String,
                                       _ tags: [String: String], _ firstLine: [String: Int]) -> String? {
        for name in task.dependsOn {
            guard let dependency = tasks[name] else { continue }
            if let started = task.startedAt {
                guard let finished = dependency.finishedAt else { return "started at \(started) but \(name) never finished" }
                if started < finished { return "started at \(started) before \(name) finished at \(finished)" }
            }
            if task.state == "succeeded", dependency.state != "succeeded" {
                return "succeeded while \(name) is \(dependency.state)"
            }
            if let mine = tags["\(dagID)/\(task.id)"], let theirs = tags["\(dagID)/\(name)"], let ran = firstLine[mine] {
                guard let before = firstLine[theirs], before < ran else {
                    return "ledger line \(ran) precedes any execution of \(name)"
                }
            }
        }
        return nil
    }

    /// Each job's submits, cancels and reads go through ``LinearizabilitySearch`` (one count per
    /// job without a linearization, one unknown per job whose search ran out of its bound). The
    /// finding names the reads that a pairwise check (``readViolation``) can already blame, if any.
    private static func checkReads(_ operations: [Operation], _ jobs: [String: Operation], _ verdict: inout ChaosVerdict) {
        var reads: [String: [Operation]] = [:]
        var cancels: [String: [Operation]] = [:]
        var submitsByKey: [String: [Operation]] = [:]
        for operation in operations {
            switch operation.kind {
            case .read where operation.completion == .ok && operation.state != nil:
                if let id = operation.id { reads[id, default: []].append(operation) }
            case .cancel where operation.completion == .ok || operation.completion == .info:
                if let id = operation.id { cancels[id, default: []].append(operation) }
            case .submitJob where operation.completion == .ok || operation.completion == .info:
                if let key = operation.key { submitsByKey[key, default: []].append(operation) }
            default: break
            }
        }
        for (id, jobReads) in reads.sorted(by: { $0.key < $1.key }) {
            let submits = jobs[id].map { submit in submit.key.map { submitsByKey[$0] ?? [] } ?? [submit] } ?? []
            let entries = searchEntries(id: id, submits: submits, cancels: cancels[id] ?? [], reads: jobReads)
            switch LinearizabilitySearch.check(entries) {
            case .linearizable: continue
            case .unknown:
                verdict.unknown += 1
                verdict.findings.append("unknown: the linearizability search over the \(entries.count) operations of job \(id) ran out of its bound")
            case .notLinearizable:
                verdict.nonLinearizable += 1
                let blamed = jobReads.compactMap { read in
                    readViolation(read, jobReads, submit: jobs[id], cancels: (cancels[id] ?? []).filter { $0.completion == .ok })
                        .map { "read op \(read.op) on \(read.node) at \(read.invokedAt)s: \($0)" }
                }
                let why = blamed.isEmpty ? "no order of its operations explains every read" : blamed.joined(separator: "; ")
                verdict.findings.append("non-linearizable: job \(id) (ops \(entries.map(\.op).sorted())): \(why)")
            }
        }
    }

    /// A stale read answers from the asked node's own state, which only moves forward while the
    /// node's process lives: on one node, a stale read invoked after another completed must not show
    /// an earlier point of the job's life (nor 404 after the job was seen), unless the node's process
    /// was ended (killed, wiped) in between. Nothing is asked across nodes or sessions. Each
    /// such read counts as non-linearizable.
    private static func checkStaleReads(_ operations: [Operation], _ processEnds: [String: [Double]], _ verdict: inout ChaosVerdict) {
        var byNodeAndJob: [String: [Operation]] = [:]
        for read in operations where read.kind == .staleRead && read.completion == .ok && read.state != nil {
            guard let id = read.id else { continue }
            byNodeAndJob["\(read.node) \(id)", default: []].append(read)
        }
        for (_, reads) in byNodeAndJob.sorted(by: { $0.key < $1.key }) {
            for read in reads {
                let ends = processEnds[read.node] ?? []
                let sameSession = reads.filter { earlier in
                    guard let done = earlier.completedAt, done < read.invokedAt else { return false }
                    return !ends.contains { $0 >= earlier.invokedAt && $0 <= (read.completedAt ?? .infinity) }
                }
                guard let reason = staleViolation(read, after: sameSession) else { continue }
                verdict.nonLinearizable += 1
                verdict.findings.append("non-monotonic stale read: op \(read.op) of \(read.id ?? "?") on \(read.node) at \(read.invokedAt)s: \(reason)")
            }
        }
    }

    private static func staleViolation(_ read: Operation, after earlier: [Operation]) -> String? {
        let state = read.state ?? "missing"
        for seen in earlier {
            guard let shown = seen.state, shown != "missing" else { continue }
            if state == "missing" { return "not found, but op \(seen.op) on the same node saw \(shown)" }
            if !StatusOrder.mayFollow((state, read.attempt ?? 0), (shown, seen.attempt ?? 0)) {
                return "shows \(state) (attempt \(read.attempt ?? 0)) after op \(seen.op) on the same node saw \(shown) (attempt \(seen.attempt ?? 0))"
            }
        }
        return nil
    }

    /// The search's input for one job: acknowledged operations must take effect between their
    /// invocation and completion; unknown ones (submits under the job's key, cancels) may take effect
    /// at any time after their invocation or never. A submit acknowledged with another id is not this job's.
    private static func searchEntries(id: String, submits: [Operation], cancels: [Operation], reads: [Operation]) -> [LinearizabilitySearch.Entry] {
        var entries: [LinearizabilitySearch.Entry] = []
        for submit in submits where submit.completion == .info || submit.id == id {
            entries.append(.init(op: submit.op, step: .submit, invokedAt: submit.invokedAt,
                                 completedAt: submit.completion == .ok ? submit.completedAt : nil))
        }
        for cancel in cancels {
            entries.append(.init(op: cancel.op, step: .cancel, invokedAt: cancel.invokedAt,
                                 completedAt: cancel.completion == .ok ? cancel.completedAt : nil))
        }
        for read in reads {
            let seen: JobModel.State = read.state == "missing" ? .missing : .at(state: read.state ?? "", attempt: read.attempt ?? 0)
            entries.append(.init(op: read.op, step: .read(seen), invokedAt: read.invokedAt, completedAt: read.completedAt))
        }
        return entries
    }

    private static func readViolation(_ read: Operation, _ all: [Operation], submit: Operation?, cancels: [Operation]) -> String? {
        let state = read.state ?? "missing"
        let attempt = read.attempt ?? 0
        if state == "missing" {
            if let submit, let acked = submit.completedAt, acked < read.invokedAt {
                return "job not found, but op \(submit.op) acknowledged it at \(acked)s"
            }
            return nil
        }
        for cancel in cancels {
            if let done = cancel.completedAt, done < read.invokedAt, !StatusOrder.terminal.contains(state) {
                return "shows \(state) after cancel op \(cancel.op) was acknowledged at \(done)s"
            }
        }
        for earlier in all {
            guard let done = earlier.completedAt, done < read.invokedAt, let seen = earlier.state, seen != "missing" else { continue }
            if !StatusOrder.mayFollow((state, attempt), (seen, earlier.attempt ?? 0)) {
                return "shows \(state) (attempt \(attempt)) after op \(earlier.op) saw \(seen) (attempt \(earlier.attempt ?? 0)) at \(done)s"
            }
        }
        return nil
    }

    /// A `concurrency: forbid` job never has two attempts running at once: by start time, each
    /// attempt starts no earlier than the one before finished. An attempt the cluster gave up as
    /// `lost` is excused (its executor may still be running it: at-least-once, not a scheduling
    /// error). Each overlap counts as an order violation.
    private static func checkForbid(_ runs: [String: [RunObservation]?], _ verdict: inout ChaosVerdict) {
        for (id, seen) in runs.sorted(by: { $0.key < $1.key }) {
            guard let seen else {
                verdict.unknown += 1
                verdict.findings.append("unknown: the runs of forbid job \(id) could not be read")
                continue
            }
            // Ties on the start stamp are ordered by finish (unfinished last): stamps are
            // milliseconds of scheduler time, which stands still while a leader whose wall clock
            // jumped ahead stamps the majority's time (docs/guarantees.md), so an attempt can
            // start and end within one stamp, just before the next starts at that same stamp.
            let started = seen.filter { $0.startedAt != nil }.sorted {
                ($0.startedAt ?? 0, $0.finishedAt ?? Int64.max) < ($1.startedAt ?? 0, $1.finishedAt ?? Int64.max)
            }
            for (earlier, later) in zip(started, started.dropFirst()) where earlier.outcome != "lost" {
                guard let start = later.startedAt else { continue }
                if let end = earlier.finishedAt, end <= start { continue }
                verdict.orderViolations += 1
                let end = earlier.finishedAt.map { "finished at \($0)" } ?? "never finished"
                verdict.findings.append("forbid: job \(id) run \(later.runID) attempt \(later.attempt) started at \(start) "
                    + "while run \(earlier.runID) attempt \(earlier.attempt) (started \(earlier.startedAt ?? 0)) \(end) "
                    + "(outcomes \(earlier.outcome ?? "none") then \(later.outcome ?? "none"), "
                    + "the later finished at \(later.finishedAt.map(String.init) ?? "never"))")
            }
        }
    }

    private static func checkDigests(_ digests: [String: [UInt64: String]], _ verdict: inout ChaosVerdict) {
        guard digests.count > 1 else { return }
        var compared: Set<String> = []
        var disagreeing: Set<String> = []
        let indexes = Set(digests.values.flatMap(\.keys)).sorted()
        for index in indexes {
            let atIndex = digests.compactMap { node, byIndex in byIndex[index].map { (node, $0) } }
            guard atIndex.count > 1 else { continue }
            compared.formUnion(atIndex.map(\.0))
            var votes: [String: Int] = [:]
            for (_, digest) in atIndex { votes[digest, default: 0] += 1 }
            guard votes.count > 1, let common = votes.max(by: { ($0.value, $1.key) < ($1.value, $0.key) })?.key else { continue }
            let odd = atIndex.filter { $0.1 != common }.map(\.0).sorted()
            if odd.contains(where: { !disagreeing.contains($0) }) {
                verdict.findings.append("disagreement: at applied index \(index) \(odd) report another digest than the rest (\(common))")
            }
            disagreeing.formUnion(odd)
        }
        verdict.disagreements += disagreeing.count
        for node in digests.keys.sorted() where !compared.contains(node) {
            verdict.unknown += 1
            verdict.findings.append("unknown: \(node) never reported a digest at an applied index another node reported")
        }
    }

    /// How much later than the acknowledgement a ledger start may be read and still count as
    /// before it: both clocks are `/proc/uptime`, read with 10 ms resolution.
    static let cancelClockSlack = 0.05

    /// The at-most-once side of cancels: no execution starts after its job's cancel was
    /// acknowledged. A timed ledger line (``LedgerLine``) of a job whose cancel completed `ok`
    /// earlier (on the history's clock, through `ledgerClockOrigin`) is an order violation
    /// (finding `order: cancelled job …`). An attempt already running when the cancel commits may
    /// still write its line before it is stopped: only a start after the acknowledgement counts.
    private static func checkCancels(_ operations: [Operation], _ observations: FinalObservations, _ verdict: inout ChaosVerdict) {
        guard let origin = observations.ledgerClockOrigin else { return }
        var acknowledged: [String: Operation] = [:]
        for cancel in operations where cancel.kind == .cancel && cancel.completion == .ok {
            guard let id = cancel.id, let at = cancel.completedAt else { continue }
            if let earlier = acknowledged[id], let earlierAt = earlier.completedAt, earlierAt <= at { continue }
            acknowledged[id] = cancel
        }
        var idByTag: [String: String] = [:]
        for (id, tag) in observations.tags where acknowledged[id] != nil { idByTag[tag] = id }
        for line in observations.ledger {
            let entry = LedgerLine(line)
            guard let started = entry.startedAt, let id = idByTag[entry.tag], let cancel = acknowledged[id],
                  let cancelledAt = cancel.completedAt else { continue }
            let startedAt = started - origin
            guard startedAt > cancelledAt + cancelClockSlack else { continue }
            // An attempt assigned before the cancel applied (a cancelled run gets no assignment)
            // may start on an executor that applies the assignment before the cancel; the cancel
            // then stops it (`cancelled`). That is the contract (docs/guarantees.md): noted, not
            // a violation. An execution the cancel did not stop is one.
            if observations.jobs[id]??.attempts.contains("cancelled") == true {
                verdict.findings.append(
                    "note: cancelled job \(id) started an attempt assigned before its cancel (ledger \(entry.tag)) at \(format(startedAt))s, "
                        + "\(format(startedAt - cancelledAt))s after cancel op \(cancel.op) was acknowledged; the cancel stopped it")
                continue
            }
            verdict.orderViolations += 1
            verdict.findings.append(
                "order: cancelled job \(id) started an execution (ledger \(entry.tag)) at \(format(startedAt))s, "
                    + "\(format(startedAt - cancelledAt))s after its cancel op \(cancel.op) on \(cancel.node) was acknowledged at \(format(cancelledAt))s")
        }
    }

    /// Seconds rounded to hundredths, for findings.
    static func format(_ seconds: Double) -> String { "\((seconds * 100).rounded() / 100)" }
}
