import BinaryCoding
import HashTreeCollections
/// The versioned snapshot format: the whole scheduler state as bytes.
///
/// Layout: magic `QSCH`, a format version byte, then config, clock, counters, sequence, and the
/// job, run and DAG-run tables *in slab order* (their order is a deterministic function of the
/// command history, so two replicas produce identical bytes), then idempotency records sorted by
/// key. Heaps and counts are not stored: they are rebuilt on restore, and because every heap
/// entry is totally ordered, a rebuilt heap pops in the same order as the original.
///
/// Version 2 adds each DAG run's ``TaskRunIDStyle`` byte; a version 1 snapshot (written before
/// URL-safe task run ids) still restores, its DAG runs keeping `/` ids.
///
/// Version 3 writes specs in the ``SpecFormat/lostAttemptCaps`` layout and each run's
/// ``Run/lostAttempts``. A state with no lost cap anywhere (every state built from commands
/// before format 4) is still written as version 2, byte for byte as before: its digest does not
/// change, and a member on an older build can still install it during a rolling upgrade.
///
/// Version 4 writes specs in the ``SpecFormat/historyLimits`` layout (each job spec's
/// ``JobSpec/historyLimit``); only a state holding a job with a history limit (admitted once every
/// member runs command format 5) is written so, the others as version 3 or 2 as before.
///
/// Version 5 is version 4 plus each job's ``Job/version`` (after its DLQ count). It is written
/// only once some job was edited (a version above 1, admitted once every member runs command
/// format 6), for the same reason: until then the bytes stay those of version 2, 3 or 4. Older
/// snapshots restore with every job at version 1.
///
/// Version 7 is version 5 in the ``SpecFormat/placement`` layout (each job and DAG task spec
/// ends with its ``Placement``). It is written only once some job or DAG run carries a placement
/// (admitted once every member runs command format 9). Version 8 is version 7 in the
/// ``SpecFormat/notifyRules`` layout (each job spec then ends with its `notify` rules) and, after
/// the idempotency records, the notification settings and table (``NotificationCoding.swift``),
/// written only once some job has rules or the notification part is not a fresh state's
/// (command format 10, ``CommandCodec/notifications``). Version 6 was never written by a
/// released build (notifications were developed as 6 beside placement's 7) and is not read.
///
/// Version 9 is version 8 plus, at the end of each DAG run, its own `notify` rules
/// (``DAGRun/notify``), and at the very end the members' recorded formats
/// (``SchedulerState/memberFormats``, sorted by member). It is written only once some one-off DAG
/// run carries rules or a member's format is recorded (both admitted once every member runs
/// command format 11, ``CommandCodec/dagNotifyRules``).
///
/// Version 10 is version 9 plus, at the end of each notification record, its folded missed fires
/// (``NotificationRecord/missedFires``, optional). It is written only once some record has them
/// (derived from entry tag 31, admitted once every member runs command format 13,
/// ``CommandCodec/missedFireNotices``); until then the bytes stay those of version 9 or older.
public enum SchedulerSnapshot {
    /// The newest format version (what a state with a notification of folded fires is written as).
    public static let version: UInt8 = versionWithMissedFires
    /// The version a state with a notification of folded missed fires is written as.
    public static let versionWithMissedFires: UInt8 = 10
    /// The version a state with a one-off DAG run that carries `notify` rules is written as.
    public static let versionWithDAGNotifyRules: UInt8 = 9
    /// The version a state with notification rules or records is written as (with placements).
    public static let versionWithNotifications: UInt8 = 8
    /// The version a state with a placement (and no notifications) is written as.
    public static let versionWithPlacement: UInt8 = 7
    /// The version a state with an edited job but no placement or notifications is written as.
    public static let versionWithEdits: UInt8 = 5
    /// Never written by a released build: not a layout this build reads.
    static let reservedVersion: UInt8 = 6
    /// The version a state with history limits but no edited job is written as.
    static let versionWithHistoryLimits: UInt8 = 4
    /// The version a state with lost caps but no history limit is written as.
    static let versionWithLostCaps: UInt8 = 3
    /// The version a state without lost caps is written as.
    static let versionWithoutLostCaps: UInt8 = 2
    /// The oldest format version this build restores.
    public static let oldestReadableVersion: UInt8 = 1
    static let magic: [UInt8] = Array("QSCH".utf8)

    /// A 64-bit FNV-1a digest of snapshot bytes (for determinism checks and logs).
    public static func digest(_ bytes: [UInt8]) -> UInt64 {
        var digester = SnapshotDigester()
        digester.update(bytes)
        return digester.value
    }
}

/// A running FNV-1a hash over bytes given in pieces: the same value as
/// ``SchedulerSnapshot/digest(_:)`` over their concatenation.
public struct SnapshotDigester: Sendable {
    /// The hash so far (FNV-1a's offset basis before any byte).
    public private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325
    /// A digester that has seen no byte.
    public init() {}
    /// Continues the hash over `bytes`.
    public mutating func update(_ bytes: [UInt8]) {
        var hash = value
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01B3
        }
        value = hash
    }
}

extension SchedulerState {
    /// The size of the pieces ``snapshot(chunkBytes:into:)`` hands out by default (1 MiB).
    public static let snapshotChunkBytes = 1 << 20

    /// Encodes the whole state (see ``SchedulerSnapshot``) into one array.
    public func snapshot() -> [UInt8] {
        var w = BinaryWriter(capacity: 64 + jobs.count * 96 + runs.count * 64)
        encodeSnapshot(into: &w) { _ in }
        return w.bytes
    }

    /// Encodes the whole state and hands the bytes to `sink` in pieces of about `chunkBytes`
    /// (one record more at most), in order; their concatenation is ``snapshot()``'s bytes.
    ///
    /// Why: the image of 1M pending jobs is ~150 MiB. Encoding it into one array held that much
    /// beside the state (and, for a digest, only to hash it once); a caller that writes or hashes
    /// the pieces as they come holds one piece at a time (issue #18, "Memory").
    public func snapshot(chunkBytes: Int = SchedulerState.snapshotChunkBytes, into sink: ([UInt8]) -> Void) {
        let limit = max(1, chunkBytes)
        var w = BinaryWriter(capacity: limit + limit / 4)
        encodeSnapshot(into: &w) { w in
            guard w.bytes.count >= limit else { return }
            sink(w.bytes)
            w.removeAll()
        }
        if !w.bytes.isEmpty { sink(w.bytes) }
    }

    /// The FNV-1a digest of ``snapshot()``'s bytes (``SchedulerSnapshot/digest(_:)``), computed
    /// over pieces so the image is never held whole.
    public func snapshotDigest() -> UInt64 {
        var digester = SnapshotDigester()
        snapshot { digester.update($0) }
        return digester.value
    }

    /// Writes the snapshot into `w`, calling `flush` after each record of the large tables (jobs,
    /// runs, DAG runs, idempotency records) so a streaming caller can take the bytes so far.
    private func encodeSnapshot(into w: inout BinaryWriter, flush: (inout BinaryWriter) -> Void) {
        for b in SchedulerSnapshot.magic { w.write(b) }
        // Version 9: DAG runs' own rules or recorded member formats.
        // Version 10: a notification of folded missed fires (implies version 9's parts).
        let missedFires = notifications.hasMissedFires
        let dagRules = hasDAGNotifyRules || !memberFormats.isEmpty || missedFires
        let hasNotifyRules = self.hasNotifyRules || hasNotificationState || dagRules
        let placed = hasPlacement
        let hasEdits = hasNotifyRules || placed || jobs.contains { $0.version != 1 }
        let format: SpecFormat = hasNotifyRules ? .notifyRules : placed ? .placement
            : hasEdits || hasHistoryLimits ? .historyLimits : hasLostAttemptCaps ? .lostAttemptCaps : .v1
        switch format {
        case .notifyRules:
            w.write(missedFires ? SchedulerSnapshot.versionWithMissedFires
                : dagRules ? SchedulerSnapshot.versionWithDAGNotifyRules : SchedulerSnapshot.versionWithNotifications)
        case .placement: w.write(SchedulerSnapshot.versionWithPlacement)
        case .historyLimits: w.write(hasEdits ? SchedulerSnapshot.versionWithEdits : SchedulerSnapshot.versionWithHistoryLimits)
        case .lostAttemptCaps: w.write(SchedulerSnapshot.versionWithLostCaps)
        case .v1: w.write(SchedulerSnapshot.versionWithoutLostCaps)
        }
        w.write(config.attemptHistoryLimit)
        w.write(config.idempotencyWindowMs)
        w.write(now)
        w.write(counters.staleReports)
        w.write(counters.rejectedCommands)
        w.write(counters.duplicateSubmits)
        w.write(counters.duplicateFires)
        w.write(counters.jobsSubmitted)
        w.write(counters.commandsApplied)
        w.write(sequence)
        // Each table as `writeArray` writes it (a count, then the elements), flushing between
        // elements.
        w.write(UInt64(jobs.count))
        for job in jobs {
            w.write(job, format: format, withVersion: hasEdits)
            flush(&w)
        }
        w.write(UInt64(runs.count))
        for run in runs {
            w.write(run, format: format)
            flush(&w)
        }
        w.write(UInt64(dags.count))
        for dag in dags {
            w.write(dag, format: format, withRules: dagRules)
            flush(&w)
        }
        let keys = idempotency.keys.sorted()
        w.write(UInt64(keys.count))
        for key in keys {
            guard let record = idempotency[key] else { continue }
            w.write(key)
            w.write(record.targetID)
            w.write(record.bodyDigest)
            w.write(record.expiresAt)
            flush(&w)
        }
        if format == .notifyRules {
            w.write(notificationSettings)
            w.write(notifications, withMissedFires: missedFires)
        }
        if dagRules { w.write(memberFormats: memberFormats) }
    }

    /// Restores a state from ``snapshot()`` bytes. Bad input is a ``DecodeError``, never a trap.
    public init(snapshot bytes: [UInt8]) throws(DecodeError) {
        var r = BinaryReader(bytes)
        try self.init(reading: &r)
    }

    /// Restores a state from ``snapshot()`` bytes read from `source` in windows of about
    /// `windowBytes` (a snapshot file, read by the storage shell): the same state and the same
    /// errors as ``init(snapshot:)-([UInt8])`` over the whole array, without ever holding the
    /// image whole (~150 MiB at 1M pending jobs, issue #18).
    public init(snapshot source: any BinaryByteSource, windowBytes: Int = SchedulerState.snapshotChunkBytes) throws(DecodeError) {
        var r = BinaryReader(source: source, windowBytes: windowBytes)
        try self.init(reading: &r)
    }

    /// Decodes a whole snapshot from `r`, which must end where the snapshot ends.
    private init(reading r: inout BinaryReader) throws(DecodeError) {
        for expected in SchedulerSnapshot.magic {
            guard try r.readByte() == expected else { throw DecodeError("not a scheduler snapshot (bad magic)", offset: 0) }
        }
        let v = try r.readByte()
        guard (SchedulerSnapshot.oldestReadableVersion...SchedulerSnapshot.version).contains(v), v != SchedulerSnapshot.reservedVersion else {
            throw DecodeError("unsupported snapshot version \(v) (this build reads \(SchedulerSnapshot.oldestReadableVersion) to \(SchedulerSnapshot.version))", offset: 4)
        }
        self.init(config: SchedulerConfig(attemptHistoryLimit: try r.readInt(), idempotencyWindowMs: try r.readInt64()))
        now = try r.readTimestamp()
        counters.staleReports = try r.readUInt64()
        counters.rejectedCommands = try r.readUInt64()
        counters.duplicateSubmits = try r.readUInt64()
        counters.duplicateFires = try r.readUInt64()
        counters.jobsSubmitted = try r.readUInt64()
        counters.commandsApplied = try r.readUInt64()
        sequence = try r.readUInt64()
        let format: SpecFormat = v >= SchedulerSnapshot.versionWithNotifications ? .notifyRules
            : v >= SchedulerSnapshot.versionWithPlacement ? .placement
            : v >= 4 ? .historyLimits : v == 3 ? .lostAttemptCaps : .v1
        // Jobs with equal settings share them again, as they did when applied (issue #18).
        var recent: [JobSpec] = []
        jobs = try r.readChunkedArray { (r: inout BinaryReader) throws(DecodeError) in
            var job = try r.readJob(format: format, withVersion: v >= 5)
            for other in recent.reversed() {
                if let shared = job.spec.sharingSettings(with: other) {
                    job.spec = shared
                    break
                }
            }
            if recent.count == JobSpec.settingsSharingWindow { recent.removeFirst() }
            recent.append(job.spec)
            return job
        }
        // A run shares its id and its job's id with the job's strings, as applies left them
        // (issue #18). Runs and jobs are both in slab order, so the job of the next run is
        // usually the one after the last matched: a cursor finds it without an index.
        let decodedJobs = jobs
        var cursor = decodedJobs.startIndex
        runs = try r.readChunkedArray { (r: inout BinaryReader) throws(DecodeError) in
            let job = cursor < decodedJobs.endIndex ? decodedJobs[cursor] : nil
            let run = try r.readRun(format: format, sharingWith: job)
            if let jobID = run.jobID, jobID != job?.id {
                // Resynchronise: a job without runs (or runs of a job out of order) moved it.
                let ahead = decodedJobs[cursor..<min(decodedJobs.endIndex, cursor + 8)]
                if let found = ahead.firstIndex(where: { $0.id == jobID }) { cursor = found }
            }
            if cursor < decodedJobs.endIndex, run.jobID == decodedJobs[cursor].id { cursor += 1 }
            return run
        }
        dags = try r.readChunkedArray { (r: inout BinaryReader) throws(DecodeError) in
            try r.readDAGRun(snapshotVersion: v, format: format)
        }
        let keyCount = try r.readCount()
        for _ in 0..<keyCount {
            let key = try r.readString()
            let record = IdempotencyRecord(targetID: try r.readString(), bodyDigest: try r.readUInt64(),
                                           expiresAt: try r.readTimestamp())
            guard idempotency.updateValue(record, forKey: key) == nil else {
                throw DecodeError("duplicate idempotency key '\(key)'", offset: r.offset)
            }
        }
        if format == .notifyRules {
            notificationSettings = try r.readNotificationSettings()
            notifications = try r.readNotificationTable(withMissedFires: v >= SchedulerSnapshot.versionWithMissedFires)
        }
        if v >= SchedulerSnapshot.versionWithDAGNotifyRules { memberFormats = try r.readMemberFormats() }
        guard r.isAtEnd else { throw DecodeError("\(r.remaining) trailing bytes after the snapshot", offset: r.offset) }
        try rebuildIndexes()
        shareDAGSpecs()
    }

    /// Points each DAG run of a cron job at its job's ``DAGSpec`` object when they are equal.
    ///
    /// Why: a cron job's runs share its spec object (``DAGSpec`` is a class) as long as the state
    /// is built by applies, but the image stores the spec once per run, so a restored state held
    /// one copy per run — a DAG of 1,000 tasks fired every minute and kept for a day meant 1,440
    /// copies (issue #18, "Memory"). The bytes of the image do not change. A run whose job was
    /// edited since it fired keeps its own spec.
    mutating func shareDAGSpecs() {
        for d in dags.indices {
            guard let jobID = dags[d].jobID, let j = jobIndex[jobID], let shared = jobs[j].spec.dag,
                  shared !== dags[d].spec, shared == dags[d].spec else { continue }
            dags[d].spec = shared
        }
    }

    /// Rebuilds id indexes, live counts and heaps from the tables, validating references.
    mutating func rebuildIndexes() throws(DecodeError) {
        for (i, job) in jobs.enumerated() {
            guard jobIndex.updateValue(i, forKey: job.id) == nil else { throw DecodeError("duplicate job id \(job.id)", offset: 0) }
        }
        for (i, dag) in dags.enumerated() {
            guard dagIndex.updateValue(i, forKey: dag.id) == nil else { throw DecodeError("duplicate DAG run id \(dag.id)", offset: 0) }
        }
        var queue: [QueueEntry] = []
        var due: [DueEntry] = []
        var deadlines: [DeadlineEntry] = []
        for (i, run) in runs.enumerated() {
            guard runIndex.updateValue(i, forKey: run.id) == nil else { throw DecodeError("duplicate run id \(run.id)", offset: 0) }
            if let ref = run.dagTask {
                guard let d = dagIndex[ref.dagRunID], ref.taskIndex >= 0, ref.taskIndex < dags[d].spec.tasks.count else {
                    throw DecodeError("run \(run.id) refers to a missing DAG task", offset: 0)
                }
            }
            switch run.state {
            case .queued:
                queuedCount += 1
                noteQueued(priority: run.priority, delta: 1)
                queue.append(QueueEntry(priority: run.priority, seq: run.stateSeq, slot: i))
            case .pending:
                pendingCount += 1
                if let dueAt = run.dueAt { due.append(DueEntry(dueAt: dueAt, seq: run.stateSeq, slot: i)) }
            case .running:
                runningCount += 1
                runningRunIDs.insert(run.id)
                if let deadline = run.deadline { deadlines.append(DeadlineEntry(deadline: deadline, seq: run.stateSeq, slot: i)) }
            case .dead:
                if !run.purged { dlqCount += 1 }
            case .succeeded, .cancelled, .skipped:
                break
            }
        }
        readyQueue = BinaryHeap(queue)
        dueHeap = BinaryHeap(due)
        deadlineHeap = BinaryHeap(deadlines)
        var fires: [FireEntry] = []
        var retention: [RetentionEntry] = []
        for j in jobs.indices {
            if jobs[j].cronState == .scheduled, jobs[j].spec.kind == .cron, let next = jobs[j].nextFireAt {
                fires.append(FireEntry(fireAt: next, jobSeq: jobs[j].createdSeq, jobID: jobs[j].id))
            }
            if let expiry = retentionExpiry(job: j) {
                retention.append(RetentionEntry(expiresAt: expiry, kind: .job, seq: jobs[j].createdSeq, id: jobs[j].id.rawValue))
            }
        }
        for d in dags.indices {
            if let expiry = retentionExpiry(dag: d) {
                retention.append(RetentionEntry(expiresAt: expiry, kind: .dag, seq: dags[d].createdSeq, id: dags[d].id.rawValue))
            }
            noteFinishedDAGRun(d)
        }
        historyToTrim = []  // a restored state is already within its limits
        fireHeap = BinaryHeap(fires)
        retentionHeap = BinaryHeap(retention)
        idempotencyHeap = BinaryHeap(idempotency.map { IdempotencyEntry(expiresAt: $0.value.expiresAt, key: $0.key) })
        rebuildListIndexes()
    }
}

extension BinaryWriter {
    mutating func write(_ r: AttemptRecord) {
        write(r.runID.rawValue)
        write(r.attempt)
        write(r.executor.rawValue)
        write(r.scheduledAt)
        write(r.startedAt)
        writeOptional(r.finishedAt) { $0.write($1) }
        writeOptional(r.outcome) { $0.write($1.rawValue) }
        writeOptional(r.exitCode) { $0.write($1) }
        writeOptional(r.httpStatus) { $0.write($1) }
        write(r.outputTail)
        writeOptional(r.error) { $0.write($1) }
        writeOptional(r.dagRunID) { $0.write($1.rawValue) }
    }

    mutating func write(_ job: Job, format: SpecFormat, withVersion: Bool) {
        write(job.id.rawValue)
        write(job.spec, format: format)
        write(job.createdAt)
        write(job.createdSeq)
        write(job.updatedAt)
        writeOptional(job.runID) { $0.write($1.rawValue) }
        write(job.cronState.rawValue)
        writeOptional(job.nextFireAt) { $0.write($1) }
        writeOptional(job.lastFireScheduledAt) { $0.write($1) }
        writeOptional(job.lastRun) {
            $0.write($1.runID.rawValue)
            $0.write($1.scheduledAt)
            $0.write($1.state.rawValue)
        }
        writeArray(job.activeRuns) { $0.write($1.rawValue) }
        write(job.missedFires)
        write(job.forbiddenFires)
        writeArray(job.history) { $0.write($1) }
        writeOptional(job.finishedAt) { $0.write($1) }
        write(job.dlqEntries)
        if withVersion { write(job.version) }
    }

    mutating func write(_ run: Run, format: SpecFormat) {
        write(run.id.rawValue)
        writeOptional(run.jobID) { $0.write($1.rawValue) }
        writeOptional(run.dagTask) {
            $0.write($1.dagRunID.rawValue)
            $0.write($1.taskIndex)
        }
        write(run.state.rawValue)
        write(run.priority)
        write(run.scheduledAt)
        writeOptional(run.dueAt) { $0.write($1) }
        write(run.attempt)
        write(run.budgetBase)
        write(run.stateSeq)
        writeOptional(run.executor) { $0.write($1.rawValue) }
        writeOptional(run.deadline) { $0.write($1) }
        writeOptional(run.startedAt) { $0.write($1) }
        writeOptional(run.finishedAt) { $0.write($1) }
        writeOptional(run.lastOutcome) { $0.write($1.rawValue) }
        writeOptional(run.lastError) { $0.write($1) }
        writeOptional(run.deadAt) { $0.write($1) }
        write(run.purged)
        write(run.createdSeq)
        if format.hasLostCaps { write(run.lostAttempts) }
    }

    mutating func write(_ dag: DAGRun, format: SpecFormat, withRules: Bool) {
        write(dag.id.rawValue)
        write(dag.spec, format: format)
        writeOptional(dag.jobID) { $0.write($1.rawValue) }
        write(dag.state.rawValue)
        write(dag.createdAt)
        writeOptional(dag.finishedAt) { $0.write($1) }
        write(dag.retentionMs)
        write(dag.createdSeq)
        write(dag.dlqEntries)
        write(dag.taskRunIDStyle.rawValue)
        if withRules { writeArray(dag.notify) { $0.write($1) } }
    }
}

extension BinaryReader {
    mutating func readTimestampOptional() throws(DecodeError) -> Timestamp? {
        try readOptional { (r: inout BinaryReader) throws(DecodeError) in try r.readTimestamp() }
    }
    mutating func readStringOptional() throws(DecodeError) -> String? {
        try readOptional { (r: inout BinaryReader) throws(DecodeError) in try r.readString() }
    }

    mutating func readAttemptRecord() throws(DecodeError) -> AttemptRecord {
        AttemptRecord(
            runID: RunID(try readString()), attempt: try readInt(), executor: ExecutorID(try readString()),
            scheduledAt: try readTimestamp(), startedAt: try readTimestamp(), finishedAt: try readTimestampOptional(),
            outcome: try readOptional { (r: inout BinaryReader) throws(DecodeError) in try r.readEnum(AttemptOutcome.self) },
            exitCode: try readOptional { (r: inout BinaryReader) throws(DecodeError) in try r.readInt32() },
            httpStatus: try readOptional { (r: inout BinaryReader) throws(DecodeError) in try r.readInt32() },
            outputTail: try readString(), error: try readStringOptional(),
            dagRunID: try readStringOptional().map(DAGRunID.init(rawValue:)))
    }

    mutating func readJob(format: SpecFormat, withVersion: Bool) throws(DecodeError) -> Job {
        let id = JobID(try readString())
        let spec = try readJobSpec(format: format)
        let createdAt = try readTimestamp()
        let createdSeq = try readUInt64()
        let updatedAt = try readTimestamp()
        let runID = try readStringOptional().map(RunID.init(rawValue:))
        let cronState = try readEnum(CronState.self)
        let nextFireAt = try readTimestampOptional()
        let lastFire = try readTimestampOptional()
        // The current run's id, its summary's and its entry among the active runs share one
        // string, as applies left them (``readString(sharing:)``).
        let lastRun = try readOptional { (r: inout BinaryReader) throws(DecodeError) in
            RunSummary(runID: RunID(try r.readString(sharing: runID?.rawValue)), scheduledAt: try r.readTimestamp(),
                       state: try r.readEnum(RunState.self))
        }
        let active = try readArray { (r: inout BinaryReader) throws(DecodeError) in
            RunID(try r.readString(sharing: runID?.rawValue))
        }
        let missed = try readInt()
        let forbidden = try readInt()
        let history = try readArray { (r: inout BinaryReader) throws(DecodeError) in try r.readAttemptRecord() }
        let finishedAt = try readTimestampOptional()
        let dlq = try readInt()
        var job = Job(id: id, spec: spec, createdAt: createdAt, createdSeq: createdSeq, updatedAt: updatedAt, runID: runID,
                      cronState: cronState, nextFireAt: nextFireAt, lastFireScheduledAt: lastFire, lastRun: lastRun,
                      activeRuns: active, missedFires: missed, forbiddenFires: forbidden, history: history,
                      finishedAt: finishedAt, dlqEntries: dlq)
        if withVersion {
            let start = offset
            job.version = try readInt()
            guard job.version >= 1 else {
                throw DecodeError("job \(id) has version \(job.version); versions start at 1", offset: start)
            }
        }
        return job
    }

    /// A run; its id and job id share `job`'s strings when equal (``readString(sharing:)``).
    mutating func readRun(format: SpecFormat, sharingWith job: Job?) throws(DecodeError) -> Run {
        let id = RunID(try readString(sharing: job?.runID?.rawValue))
        let jobID = try readOptional { (r: inout BinaryReader) throws(DecodeError) in
            JobID(try r.readString(sharing: job?.id.rawValue))
        }
        let dagTask = try readOptional { (r: inout BinaryReader) throws(DecodeError) in
            DAGTaskRef(dagRunID: DAGRunID(try r.readString()), taskIndex: try r.readInt())
        }
        var run = Run(id: id, jobID: jobID, dagTask: dagTask, state: try readEnum(RunState.self), priority: try readInt(),
                   scheduledAt: try readTimestamp(), dueAt: try readTimestampOptional(), attempt: try readInt(),
                   budgetBase: try readInt(), stateSeq: try readUInt64(),
                   executor: try readStringOptional().map(ExecutorID.init(rawValue:)),
                   deadline: try readTimestampOptional(), startedAt: try readTimestampOptional(),
                   finishedAt: try readTimestampOptional(),
                   lastOutcome: try readOptional { (r: inout BinaryReader) throws(DecodeError) in try r.readEnum(AttemptOutcome.self) },
                   lastError: try readStringOptional(), deadAt: try readTimestampOptional(), purged: try readBool(),
                   createdSeq: try readUInt64())
        if format.hasLostCaps {
            let start = offset
            run.lostAttempts = try readInt()
            guard run.lostAttempts >= 0, run.lostAttempts <= run.attempt else {
                throw DecodeError("run \(run.id) has \(run.lostAttempts) lost attempts but only \(run.attempt) attempts",
                                  offset: start)
            }
        }
        return run
    }

    mutating func readDAGRun(snapshotVersion: UInt8, format: SpecFormat) throws(DecodeError) -> DAGRun {
        var dag = DAGRun(id: DAGRunID(try readString()), spec: try readDAGSpec(format: format),
                         jobID: try readStringOptional().map(JobID.init(rawValue:)), state: try readEnum(DAGState.self),
                         createdAt: try readTimestamp(), finishedAt: try readTimestampOptional(), retentionMs: try readInt64(),
                         createdSeq: try readUInt64(), dlqEntries: try readInt(), taskRunIDStyle: .slash)
        if snapshotVersion >= 2 { dag.taskRunIDStyle = try readEnum(TaskRunIDStyle.self) }
        if snapshotVersion >= SchedulerSnapshot.versionWithDAGNotifyRules {
            dag.notify = try readArray { (r: inout BinaryReader) throws(DecodeError) in try r.readNotificationRule() }
        }
        return dag
    }
}
