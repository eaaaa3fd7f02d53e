import BinaryCoding
/// The versioned binary encoding of log entry payloads.
///
/// Layout: a format version byte (``CommandCodec/version``), the stamped time (zigzag varint
/// milliseconds), then the command: a tag byte and its fields (see ``BinaryWriter``). A batch
/// is a count followed by its commands (tag + fields, no nested batches).
///
/// The commands that create DAG runs have two tags each, one per ``TaskRunIDStyle``: the old
/// tags (2 submit DAG, 3 cron fire, 11 trigger) mean `/` task run ids, the new ones (16, 17, 18,
/// same fields) mean `.` ids. So an old entry re-encodes to its own bytes and replays to its
/// old ids, and an old build meeting a new entry fails to decode it ("unknown command tag")
/// rather than derive different ids than its peers.
///
/// Tag 19 wraps a job or DAG submit (tags 1, 2, 16) whose specs use the
/// ``SpecFormat/lostAttemptCaps`` layout (retry policies with `max_lost_attempts`); only
/// commands that carry a lost cap are written this way, so entries without one keep their old
/// bytes and an older build refuses a capped one ("unknown command tag 19") instead of
/// applying it under the old retry rule.
///
/// Tag 20 wraps a job submit (tag 1) whose spec uses the ``SpecFormat/historyLimits`` layout (lost
/// caps as under tag 19, and the spec's `history_limit`); only submits with a history limit are
/// written this way, for the same reason.
///
/// Tag 21 is a job edit (``EditJob``; its spec always in the newest layout,
/// ``SpecFormat/historyLimits``). Tag 22 wraps a trigger (tag 11 or 18) or a requeue (tag 12)
/// with the client's idempotency stamp. Both need command format 6 (``CommandCodec/jobEdits``):
/// an older build stops at "unknown command tag" rather than apply something else.
///
/// Tag 23 wraps a job submit (tag 1), a DAG submit (tag 2 or 16) or a job edit (tag 21) whose
/// specs use the ``SpecFormat/placement`` layout (each job and DAG task spec ends with its
/// ``Placement``); only commands that carry a placement (and no `notify` rules) are written this
/// way. It needs command format 9 (``CommandCodec/placement``).
///
/// Tag 24 wraps a job submit (tag 1) whose spec uses the ``SpecFormat/notifyRules`` layout (the
/// placement layout, then the spec's `notify` rules); tag 25 is a job edit whose spec has rules,
/// in that layout. Only specs with rules are written so; both need command format 10
/// (``CommandCodec/notifyRules``). Tag 26 is the leader's notification settings, tag 27 its
/// delivery outcomes (``NotificationCoding.swift``); both need ``CommandCodec/notifications``.
///
/// Tag 28 is a one-off DAG submit whose run has `notify` rules: the DAG submit (tag 2 or 16) in
/// the ``SpecFormat/placement`` layout, then the rules. It needs ``CommandCodec/dagNotifyRules``.
/// Tag 29 is the leader's record of members' formats (``MemberFormat``); it needs
/// ``CommandCodec/memberFormatRecords``.
///
/// Tag 30 is an assignment that names its executor's data directory incarnation (tag 4's
/// fields, then the incarnation, never 0); it needs ``CommandCodec/assignmentIncarnations``, and
/// below it the leader writes tag 4 (``Command/compatible(withFormat:)``).
///
/// Tag 31 is a cron fire that carries the due times a late leader folded into it (tag 3's or
/// 17's bytes, then the first and last folded time); it needs ``CommandCodec/missedFireNotices``,
/// and below it the leader writes the fire without them.
public enum CommandCodec {
    /// The current format version.
    public static let version: UInt8 = 1

    /// Encodes a stamped command.
    public static func encode(_ stamped: StampedCommand) -> [UInt8] {
        var w = BinaryWriter(capacity: 96)
        w.write(version)
        w.write(stamped.at)
        encode(stamped.command, into: &w)
        return w.bytes
    }

    /// Encodes `command` stamped at `at`.
    public static func encode(_ command: Command, at: Timestamp) -> [UInt8] {
        encode(StampedCommand(at: at, command: command))
    }

    /// Decodes a stamped command. Never traps: bad input is a ``DecodeError``.
    public static func decode(_ bytes: [UInt8]) throws(DecodeError) -> StampedCommand {
        var r = BinaryReader(bytes)
        let v = try r.readByte()
        guard v == version else {
            throw DecodeError("unsupported command format version \(v) (this build reads \(version))", offset: 0)
        }
        let at = try r.readTimestamp()
        let command = try decodeCommand(&r, allowBatch: true)
        guard r.isAtEnd else { throw DecodeError("\(r.remaining) trailing bytes after the command", offset: r.offset) }
        return StampedCommand(at: at, command: command)
    }

    /// The tag that marks a submit whose specs carry lost caps (``SpecFormat/lostAttemptCaps``).
    static let lostAttemptCapsTag: UInt8 = 19
    /// The tag that marks a job submit whose spec carries a history limit (``SpecFormat/historyLimits``).
    static let historyLimitsTag: UInt8 = 20
    /// The tag of ``Command/editJob(_:)``.
    static let editJobTag: UInt8 = 21
    /// The tag of ``Command/idempotent(_:_:)``.
    static let idempotentTag: UInt8 = 22
    /// The tag that marks a submit or edit whose specs carry a placement (``SpecFormat/placement``).
    static let placementTag: UInt8 = 23
    /// The tag that marks a job submit whose spec carries `notify` rules (``SpecFormat/notifyRules``).
    static let notifyRulesTag: UInt8 = 24
    /// The tag of a ``Command/editJob(_:)`` whose spec carries `notify` rules.
    static let editJobWithNotifyTag: UInt8 = 25
    /// The tag of ``Command/notificationSettings(_:)``.
    static let notificationSettingsTag: UInt8 = 26
    /// The tag of ``Command/notificationOutcomes(_:)``.
    static let notificationOutcomesTag: UInt8 = 27
    /// The tag of a ``Command/submitDAG(_:)`` whose run carries `notify` rules (``SubmitDAG/notify``).
    static let dagNotifyRulesTag: UInt8 = 28
    /// The tag of ``Command/recordMemberFormats(_:)``.
    static let memberFormatsTag: UInt8 = 29
    /// The tag of an ``AssignAttempt`` that names its executor's incarnation (tag 4's fields, then
    /// the incarnation; ``CommandCodec/assignmentIncarnations``). One naming none keeps tag 4.
    static let assignToIncarnationTag: UInt8 = 30
    /// The tag of a ``FireCron`` that carries its folded due times (``FireCron/missedRange``): the
    /// fire as tag 3 or 17 writes it, then the first and last folded due time
    /// (``CommandCodec/missedFireNotices``). A fire without a range (or with `missedBefore` 0)
    /// keeps tag 3 or 17.
    static let fireWithMissedRangeTag: UInt8 = 31

    static func encode(_ command: Command, into w: inout BinaryWriter) {
        if case .submitDAG(let s) = command, !s.notify.isEmpty {
            w.write(dagNotifyRulesTag)
            encodeSubmitDAG(s, format: .placement, into: &w)
            w.writeArray(s.notify) { $0.write($1) }
            return
        }
        // An edit with rules has its own tag (25) in the rules layout, never the placement wrapper.
        let format: SpecFormat = command.carriesNotifyRulesInSubmit ? .notifyRules
            : command.carriesPlacement && !command.isEditWithNotifyRules ? .placement
            : command.carriesHistoryLimit ? .historyLimits : command.carriesLostAttemptCaps ? .lostAttemptCaps : .v1
        switch format {
        case .notifyRules: w.write(notifyRulesTag)
        case .placement: w.write(placementTag)
        case .historyLimits: w.write(historyLimitsTag)
        case .lostAttemptCaps: w.write(lostAttemptCapsTag)
        case .v1: break
        }
        switch command {
        case .submitJob(let s):
            w.write(UInt8(1))
            w.write(s.jobID.rawValue)
            w.write(s.spec, format: format)
            w.write(s.runID.rawValue)
            w.writeOptional(s.firstFireAt) { $0.write($1) }
            w.writeOptional(s.idempotency) { $0.write($1) }
        case .submitDAG(let s):
            encodeSubmitDAG(s, format: format, into: &w)
        case .fireCron(var f):
            if let range = f.missedRange, f.missedBefore > 0 {
                w.write(fireWithMissedRangeTag)
                f.missedRange = nil
                encode(.fireCron(f), into: &w)
                w.write(range.first)
                w.write(range.last)
                return
            }
            w.write(f.taskRunIDStyle == .slash ? UInt8(3) : UInt8(17))
            w.write(f.jobID.rawValue)
            w.write(f.scheduledAt)
            w.writeOptional(f.nextFireAt) { $0.write($1) }
            w.write(f.runID.rawValue)
            w.write(f.missedBefore)
        case .assignAttempt(let a):
            w.write(a.executorIncarnation == 0 ? UInt8(4) : assignToIncarnationTag)
            w.write(a.runID.rawValue)
            w.write(a.executor.rawValue)
            w.write(a.attempt)
            w.write(a.deadline)
            if a.executorIncarnation != 0 { w.write(a.executorIncarnation) }
        case .finishAttempt(let f):
            w.write(UInt8(5))
            w.write(f.runID.rawValue)
            w.write(f.attempt)
            w.write(f.report.outcome.rawValue)
            w.writeOptional(f.report.exitCode) { $0.write($1) }
            w.writeOptional(f.report.httpStatus) { $0.write($1) }
            w.write(f.report.outputTail)
            w.writeOptional(f.report.error) { $0.write($1) }
        case .expireAttempt(let e):
            w.write(UInt8(6))
            w.write(e.runID.rawValue)
            w.write(e.attempt)
            w.write(e.reason.rawValue)
        case .cancelJob(let id):
            w.write(UInt8(7))
            w.write(id.rawValue)
        case .cancelDAG(let id):
            w.write(UInt8(8))
            w.write(id.rawValue)
        case .pause(let id):
            w.write(UInt8(9))
            w.write(id.rawValue)
        case .resume(let id):
            w.write(UInt8(10))
            w.write(id.rawValue)
        case .trigger(let t):
            w.write(t.taskRunIDStyle == .slash ? UInt8(11) : UInt8(18))
            w.write(t.jobID.rawValue)
            w.write(t.runID.rawValue)
        case .requeue(let id):
            w.write(UInt8(12))
            w.write(id.rawValue)
        case .purge(let id):
            w.write(UInt8(13))
            w.write(id.rawValue)
        case .tick:
            w.write(UInt8(14))
        case .batch(let commands):
            w.write(UInt8(15))
            w.writeArray(commands) { w, c in encode(c, into: &w) }
        case .editJob(let e):
            let withRules = !e.spec.notify.isEmpty
            w.write(withRules ? editJobWithNotifyTag : editJobTag)
            w.write(e.jobID.rawValue)
            w.write(e.spec, format: withRules ? .notifyRules : format == .placement ? .placement : .historyLimits)
            w.write(e.expectedVersion)
            w.writeOptional(e.nextFireAt) { $0.write($1) }
        case .idempotent(let stamp, let inner):
            w.write(idempotentTag)
            w.write(stamp)
            encode(inner, into: &w)
        case .notificationSettings(let settings):
            w.write(notificationSettingsTag)
            w.write(settings)
        case .notificationOutcomes(let outcomes):
            w.write(notificationOutcomesTag)
            w.writeArray(outcomes) { $0.write($1) }
        case .recordMemberFormats(let records):
            w.write(memberFormatsTag)
            w.writeArray(records) { $0.write($1) }
        }
    }

    /// A DAG submit's tag (2 or 16) and fields, its spec in `format`.
    private static func encodeSubmitDAG(_ s: SubmitDAG, format: SpecFormat, into w: inout BinaryWriter) {
        w.write(s.taskRunIDStyle == .slash ? UInt8(2) : UInt8(16))
        w.write(s.dagRunID.rawValue)
        w.write(s.spec, format: format)
        w.write(s.retentionMs)
        w.writeOptional(s.idempotency) { $0.write($1) }
    }

    static func decodeCommand(_ r: inout BinaryReader, allowBatch: Bool,
                              format: SpecFormat = .v1) throws(DecodeError) -> Command {
        let tagOffset = r.offset
        let tag = try r.readByte()
        if format == .lostAttemptCaps, ![1, 2, 16].contains(tag) {
            throw DecodeError("tag \(lostAttemptCapsTag) must wrap a job or DAG submit (tag 1, 2 or 16), not tag \(tag)",
                              offset: tagOffset)
        }
        if format == .placement, ![1, 2, 16, editJobTag].contains(tag) {
            throw DecodeError("tag \(placementTag) must wrap a job or DAG submit (tag 1, 2 or 16) or a job edit (tag \(editJobTag)), "
                + "not tag \(tag)", offset: tagOffset)
        }
        if format == .historyLimits, tag != 1 {
            throw DecodeError("tag \(historyLimitsTag) must wrap a job submit (tag 1), not tag \(tag)", offset: tagOffset)
        }
        if format == .notifyRules, tag != 1 {
            throw DecodeError("tag \(notifyRulesTag) must wrap a job submit (tag 1), not tag \(tag)", offset: tagOffset)
        }
        switch tag {
        case 1:
            let job = JobID(try r.readString())
            let spec = try r.readJobSpec(format: format)
            let run = RunID(try r.readString())
            let first = try r.readOptional { (r: inout BinaryReader) throws(DecodeError) in try r.readTimestamp() }
            let idem = try r.readOptional { (r: inout BinaryReader) throws(DecodeError) in try r.readIdempotencyStamp() }
            return .submitJob(SubmitJob(jobID: job, spec: spec, runID: run, firstFireAt: first, idempotency: idem))
        case 2, 16:
            let id = DAGRunID(try r.readString())
            let spec = try r.readDAGSpec(format: format)
            let retention = try r.readInt64()
            let idem = try r.readOptional { (r: inout BinaryReader) throws(DecodeError) in try r.readIdempotencyStamp() }
            return .submitDAG(SubmitDAG(dagRunID: id, spec: spec, retentionMs: retention, idempotency: idem,
                                        taskRunIDStyle: tag == 2 ? .slash : .dot))
        case 3, 17:
            let job = JobID(try r.readString())
            let scheduled = try r.readTimestamp()
            let next = try r.readOptional { (r: inout BinaryReader) throws(DecodeError) in try r.readTimestamp() }
            let run = RunID(try r.readString())
            let missed = try r.readInt()
            return .fireCron(FireCron(jobID: job, scheduledAt: scheduled, nextFireAt: next, runID: run, missedBefore: missed,
                                      taskRunIDStyle: tag == 3 ? .slash : .dot))
        case 4, assignToIncarnationTag:
            let run = RunID(try r.readString())
            let exec = ExecutorID(try r.readString())
            let attempt = try r.readInt()
            let deadline = try r.readTimestamp()
            var incarnation: UInt64 = 0
            if tag == assignToIncarnationTag {
                let incarnationOffset = r.offset
                incarnation = try r.readUInt64()
                guard incarnation != 0 else {
                    throw DecodeError("tag \(assignToIncarnationTag) names incarnation 0 (unknown is written as tag 4)",
                                      offset: incarnationOffset)
                }
            }
            return .assignAttempt(AssignAttempt(runID: run, executor: exec, attempt: attempt, deadline: deadline,
                                                executorIncarnation: incarnation))
        case 5:
            let run = RunID(try r.readString())
            let attempt = try r.readInt()
            let outcome = try r.readEnum(AttemptOutcome.self)
            let exit = try r.readOptional { (r: inout BinaryReader) throws(DecodeError) in try r.readInt32() }
            let http = try r.readOptional { (r: inout BinaryReader) throws(DecodeError) in try r.readInt32() }
            let tail = try r.readString()
            let error = try r.readOptional { (r: inout BinaryReader) throws(DecodeError) in try r.readString() }
            return .finishAttempt(FinishAttempt(runID: run, attempt: attempt, report: AttemptReport(
                outcome: outcome, exitCode: exit, httpStatus: http, outputTail: tail, error: error)))
        case 6:
            let run = RunID(try r.readString())
            let attempt = try r.readInt()
            let reason = try r.readEnum(ExpiryReason.self)
            return .expireAttempt(ExpireAttempt(runID: run, attempt: attempt, reason: reason))
        case 7: return .cancelJob(JobID(try r.readString()))
        case 8: return .cancelDAG(DAGRunID(try r.readString()))
        case 9: return .pause(JobID(try r.readString()))
        case 10: return .resume(JobID(try r.readString()))
        case 11, 18:
            let job = JobID(try r.readString())
            return .trigger(TriggerJob(jobID: job, runID: RunID(try r.readString()), taskRunIDStyle: tag == 11 ? .slash : .dot))
        case 12: return .requeue(RunID(try r.readString()))
        case 13: return .purge(RunID(try r.readString()))
        case 14: return .tick
        case 15:
            guard allowBatch else { throw DecodeError("a batch may not contain a batch", offset: tagOffset) }
            let commands = try r.readArray { (r: inout BinaryReader) throws(DecodeError) in
                try decodeCommand(&r, allowBatch: false)
            }
            return .batch(commands)
        case lostAttemptCapsTag where format == .v1:
            return try decodeCommand(&r, allowBatch: false, format: .lostAttemptCaps)
        case historyLimitsTag where format == .v1:
            return try decodeCommand(&r, allowBatch: false, format: .historyLimits)
        case placementTag where format == .v1:
            return try decodeCommand(&r, allowBatch: false, format: .placement)
        case notifyRulesTag where format == .v1:
            return try decodeCommand(&r, allowBatch: false, format: .notifyRules)
        case dagNotifyRulesTag where format == .v1:
            let innerOffset = r.offset
            guard case .submitDAG(var submit) = try decodeCommand(&r, allowBatch: false, format: .placement) else {
                throw DecodeError("tag \(dagNotifyRulesTag) must wrap a DAG submit (tag 2 or 16)", offset: innerOffset)
            }
            let rulesOffset = r.offset
            submit.notify = try r.readArray { (r: inout BinaryReader) throws(DecodeError) in try r.readNotificationRule() }
            guard !submit.notify.isEmpty else {
                throw DecodeError("tag \(dagNotifyRulesTag) needs at least one notify rule", offset: rulesOffset)
            }
            return .submitDAG(submit)
        case editJobTag, editJobWithNotifyTag:
            let job = JobID(try r.readString())
            let spec = try r.readJobSpec(format: tag == editJobWithNotifyTag ? .notifyRules
                                            : format == .placement ? .placement : .historyLimits)
            let expected = try r.readInt()
            let next = try r.readOptional { (r: inout BinaryReader) throws(DecodeError) in try r.readTimestamp() }
            return .editJob(EditJob(jobID: job, spec: spec, expectedVersion: expected, nextFireAt: next))
        case idempotentTag:
            let stamp = try r.readIdempotencyStamp()
            let innerOffset = r.offset
            let inner = try decodeCommand(&r, allowBatch: false)
            switch inner {
            case .trigger, .requeue: return .idempotent(stamp, inner)
            default:
                throw DecodeError("tag \(idempotentTag) must wrap a trigger (tag 11 or 18) or a requeue (tag 12)", offset: innerOffset)
            }
        case fireWithMissedRangeTag:
            let innerOffset = r.offset
            guard case .fireCron(var fire) = try decodeCommand(&r, allowBatch: false), fire.missedBefore > 0 else {
                throw DecodeError("tag \(fireWithMissedRangeTag) must wrap a cron fire (tag 3 or 17) with missed fires before it",
                                  offset: innerOffset)
            }
            let rangeOffset = r.offset
            let range = MissedFireRange(first: try r.readTimestamp(), last: try r.readTimestamp())
            guard range.first <= range.last, range.last < fire.scheduledAt else {
                throw DecodeError("missed fire range \(range.first)...\(range.last) must be ordered and before the fire's "
                    + "scheduled time \(fire.scheduledAt)", offset: rangeOffset)
            }
            fire.missedRange = range
            return .fireCron(fire)
        case notificationSettingsTag:
            return .notificationSettings(try r.readNotificationSettings())
        case memberFormatsTag:
            return .recordMemberFormats(try r.readArray { (r: inout BinaryReader) throws(DecodeError) in try r.readMemberFormat() })
        case notificationOutcomesTag:
            return .notificationOutcomes(try r.readArray { (r: inout BinaryReader) throws(DecodeError) in try r.readNotificationOutcome() })
        default:
            throw DecodeError("unknown command tag \(tag)", offset: tagOffset)
        }
    }
}
