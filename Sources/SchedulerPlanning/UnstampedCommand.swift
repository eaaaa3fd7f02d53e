import SchedulerCore

/// When a submitted job first becomes due, as the user said it: an absolute time, or a time
/// relative to the leader's stamp that only the leader resolves.
public enum SubmissionTime: Hashable, Sendable {
    /// An explicit `run_at`: due at this instant whichever clock stamps the command.
    case at(Timestamp)
    /// `delay_seconds` (or no time at all, 0): due this long after the leader's stamp.
    case afterStamp(milliseconds: Int64)
    /// A cron job: its first fire is the first one strictly after the leader's stamp, in the
    /// schedule's zone (``CronPlanner``).
    case firstFireAfterStamp

    /// The longest `delay_seconds` the API accepts (100 years), in milliseconds; a longer delay
    /// arriving from a peer is refused when decoded.
    public static let maxDelayMilliseconds: Int64 = 3_153_600_000_000
}

/// A command as a node received it from a client, before any clock has touched it: every time
/// field that depends on "now" (a once job's `run_at` from `delay_seconds`, a cron job's first
/// fire) is still relative. Only the leader resolves it, with its bounded stamp
/// (``resolved(at:)``), into the ordinary replicated ``SchedulerCore/Command`` — so a follower
/// whose clock is off cannot move a job's time. Ids are already in it: the receiving node's
/// `NodeIDGenerator` ids are unique per node and process, so no clock and no leader is needed
/// for them.
///
/// The replicated log format does not change: the resolved command has absolute times.
public struct UnstampedCommand: Hashable, Sendable {
    /// The command with every leader-resolved time left empty: each ``SchedulerCore/SubmitJob``
    /// in it (alone or in a batch) has no `runAt` and no `firstFireAt`.
    public let template: Command
    /// One per submit in ``template``, in order: how to resolve its time.
    public let times: [SubmissionTime]

    /// Why a command cannot be resolved at the stamp: the 422 a user gets, or a malformed forward.
    public struct ResolveError: Error, Hashable, Sendable, CustomStringConvertible {
        /// The submit's index within a batch (`nil` for a single command).
        public var batchIndex: Int?
        /// The request field at fault (`schedule`, `run_at`).
        public var field: String
        /// What is wrong and what to do.
        public var message: String

        /// An error about `field` (of batch item `batchIndex`, if any).
        public init(batchIndex: Int?, field: String, message: String) {
            self.batchIndex = batchIndex
            self.field = field
            self.message = message
        }

        /// `field: message`, with the batch index when there is one.
        public var description: String {
            (batchIndex.map { "jobs[\($0)]." } ?? "") + "\(field): \(message)"
        }
    }

    /// A command with no time to resolve (a DAG run, a cancel, a report …): it resolves to itself.
    /// A submit passed here keeps whatever times it has (use ``submit(_:_:)`` to make them relative).
    public init(_ command: Command) {
        template = command
        times = []
    }

    /// This command as a build of format `version` decodes it
    /// (``SchedulerCore/Command/compatible(withFormat:)`` on the template; the times are kept:
    /// the downgrade never adds or removes a submit).
    public func compatible(withFormat version: UInt32) -> UnstampedCommand {
        UnstampedCommand(template: template.compatible(withFormat: version), times: times)
    }

    /// `template` and `times` as they are; ``resolved(at:)`` checks that they fit.
    init(template: Command, times: [SubmissionTime]) {
        self.template = template
        self.times = times
    }

    /// A job edit whose cron job's next fire the leader computes from the edit's (new) schedule,
    /// strictly after its stamp. An edit that keeps the schedule needs no time: pass it to
    /// ``init(_:)``, and the job keeps its next fire.
    public static func editRescheduling(_ edit: EditJob) -> UnstampedCommand {
        var untimed = edit
        untimed.nextFireAt = nil
        return UnstampedCommand(template: .editJob(untimed), times: [.firstFireAfterStamp])
    }

    /// One job submit due at `time`; the submit's own `runAt` and `firstFireAt` are dropped.
    public static func submit(_ submit: SubmitJob, _ time: SubmissionTime) -> UnstampedCommand {
        UnstampedCommand(template: .submitJob(untimed(submit)), times: [time])
    }

    /// Submits as one batch entry, each due at its time; their own times are dropped.
    public static func batch(_ submits: [(submit: SubmitJob, time: SubmissionTime)]) -> UnstampedCommand {
        UnstampedCommand(template: .batch(submits.map { .submitJob(untimed($0.submit)) }), times: submits.map(\.time))
    }

    /// Reassembles a forward from a peer: `times` must match the submits of `template` in number.
    ///
    /// - Throws: ``ResolveError`` when they do not (a malformed forward, not a user error).
    public static func received(template: Command, times: [SubmissionTime]) throws(ResolveError) -> UnstampedCommand {
        let submits = submitCount(template)
        guard submits == times.count || times.isEmpty else {
            throw ResolveError(batchIndex: nil, field: "command",
                               message: "a forwarded command with \(submits) submits carries \(times.count) times")
        }
        return UnstampedCommand(template: template, times: times)
    }

    /// The replicated command, with every relative time resolved against the leader's `stamp`
    /// and every value the client left to the cluster (``SchedulerCore/JobSpec/clusterDefaultRetentionMs``)
    /// replaced by the leader's `defaults`.
    ///
    /// - Throws: ``ResolveError`` for what depends on the time: a cron schedule with no fire
    ///   after `stamp` (422 `schedule`), or a time that does not fit its job's kind.
    public func resolved(at stamp: Timestamp, defaults: SubmissionDefaults = .builtIn) throws(ResolveError) -> Command {
        try resolvedTimes(at: stamp).withDefaults(defaults)
    }

    private func resolvedTimes(at stamp: Timestamp) throws(ResolveError) -> Command {
        guard !times.isEmpty else { return template }
        switch template {
        case .submitJob(let submit):
            guard times.count == 1 else { throw Self.mismatch(1, times.count) }
            return .submitJob(try Self.resolve(submit, times[0], at: stamp, batchIndex: nil))
        case .editJob(let edit):
            guard times == [.firstFireAfterStamp] else { throw Self.mismatch(1, times.count) }
            return .editJob(try Self.reschedule(edit, at: stamp))
        case .batch(let commands):
            var resolved: [Command] = []
            resolved.reserveCapacity(commands.count)
            var next = 0
            for command in commands {
                guard case .submitJob(let submit) = command else {
                    resolved.append(command)
                    continue
                }
                guard next < times.count else { throw Self.mismatch(Self.submitCount(template), times.count) }
                resolved.append(.submitJob(try Self.resolve(submit, times[next], at: stamp, batchIndex: next)))
                next += 1
            }
            guard next == times.count else { throw Self.mismatch(next, times.count) }
            return .batch(resolved)
        default:
            throw Self.mismatch(0, times.count)
        }
    }

    // MARK: Helpers

    static func resolve(_ submit: SubmitJob, _ time: SubmissionTime, at stamp: Timestamp,
                        batchIndex: Int?) throws(ResolveError) -> SubmitJob {
        var resolved = submit
        switch time {
        case .at(let instant):
            guard submit.spec.schedule == nil else { throw kindMismatch(batchIndex, "run_at") }
            resolved.spec = submit.spec.replacingRunAt(instant)
            resolved.firstFireAt = nil
        case .afterStamp(let delay):
            guard submit.spec.schedule == nil else { throw kindMismatch(batchIndex, "delay_seconds") }
            guard delay >= 0, delay <= SubmissionTime.maxDelayMilliseconds else {
                throw ResolveError(batchIndex: batchIndex, field: "delay_seconds",
                                   message: "must be a number of seconds between 0 and 100 years")
            }
            resolved.spec = submit.spec.replacingRunAt(stamp.adding(milliseconds: delay))
            resolved.firstFireAt = nil
        case .firstFireAfterStamp:
            guard let stored = submit.spec.schedule else {
                throw ResolveError(batchIndex: batchIndex, field: "schedule", message: "a once job has no cron schedule to fire")
            }
            let schedule: CronPlanner.Schedule
            do {
                schedule = try CronPlanner.schedule(expression: stored.expression, timezone: stored.timezone)
            } catch {
                throw ResolveError(batchIndex: batchIndex, field: error.field.rawValue, message: error.message)
            }
            guard let first = CronPlanner.nextFire(of: schedule, after: stamp) else {
                throw ResolveError(batchIndex: batchIndex, field: "schedule",
                                   message: "'\(CronPlanner.shortened(stored.expression))' never fires after now")
            }
            resolved.firstFireAt = first
        }
        return resolved
    }

    /// `edit` with its cron job's next fire: the first one of the new schedule after `stamp`.
    static func reschedule(_ edit: EditJob, at stamp: Timestamp) throws(ResolveError) -> EditJob {
        guard let stored = edit.spec.schedule else {
            throw ResolveError(batchIndex: nil, field: "schedule", message: "a once job has no cron schedule to fire")
        }
        let schedule: CronPlanner.Schedule
        do {
            schedule = try CronPlanner.schedule(expression: stored.expression, timezone: stored.timezone)
        } catch {
            throw ResolveError(batchIndex: nil, field: error.field.rawValue, message: error.message)
        }
        guard let next = CronPlanner.nextFire(of: schedule, after: stamp) else {
            throw ResolveError(batchIndex: nil, field: "schedule",
                               message: "'\(CronPlanner.shortened(stored.expression))' never fires after now")
        }
        var resolved = edit
        resolved.nextFireAt = next
        return resolved
    }

    static func untimed(_ submit: SubmitJob) -> SubmitJob {
        var untimed = submit
        if submit.spec.runAt != nil { untimed.spec = submit.spec.replacingRunAt(nil) }
        untimed.firstFireAt = nil
        return untimed
    }

    static func submitCount(_ command: Command) -> Int {
        switch command {
        case .submitJob, .editJob: 1
        case .batch(let commands): commands.count { if case .submitJob = $0 { true } else { false } }
        default: 0
        }
    }

    static func mismatch(_ submits: Int, _ times: Int) -> ResolveError {
        ResolveError(batchIndex: nil, field: "command", message: "a command with \(submits) submits carries \(times) times")
    }

    static func kindMismatch(_ batchIndex: Int?, _ field: String) -> ResolveError {
        ResolveError(batchIndex: batchIndex, field: field, message: "\(field) is for once jobs; a cron job runs on its schedule")
    }
}

extension JobSpec {
    /// This spec with `runAt` replaced (a spec is immutable and shared by reference).
    public func replacingRunAt(_ runAt: Timestamp?) -> JobSpec {
        JobSpec(name: name, schedule: schedule, runAt: runAt, priority: priority, task: task, dag: dag, retry: retry,
                timeoutMs: timeoutMs, concurrency: concurrency, misfire: misfire, startingDeadlineMs: startingDeadlineMs,
                labels: labels, retentionMs: retentionMs, historyLimit: historyLimit, placement: placement, notify: notify)
    }
}
