import BinaryCoding
import DeterministicRandom
@testable import NodeCore
import RaftCore
import SchedulerCore
import SchedulerPlanning
import Testing

/// Issue #11: the leader stamps every time field once. A follower forwards what the user asked
/// with relative times; the leader resolves them with its own bounded stamp.
@Suite("The leader stamps every time field: unstamped forwards, the format gate, echo versions")
struct LeaderStampTests {
    let t0 = MonotonicTime(.seconds(100))
    /// The true time of these tests (and the leader's clock): 2027-01-15T08:00:00Z.
    let trueTime = Timestamp(1_800_000_000_000)
    let members: Set<Raft.NodeID> = ["n1", "n2", "n3"]

    func leader() -> NodeCore {
        var core = NodeCore(id: "n1", settings: NodeCore.Settings(lease: .seconds(5), leaseMargin: .seconds(7), voters: members,
                                                                  slots: [:]),
                            started: t0, startedWall: trueTime)
        core.leadership(since: t0)
        return core
    }

    /// What a follower's API makes of `{"name":"a","delay_seconds":30}` (or a cron job), sent over the wire.
    func forwarded(_ unstamped: UnstampedCommand) throws -> UnstampedCommand {
        try UnstampedCommand(decoding: unstamped.encoded())
    }

    @Test("a delayed job forwarded by a follower whose clock is 1 h off runs at the leader's stamp + the delay", arguments: [
        Int64(3_600_000), -3_600_000,
    ])
    func delayFromTheLeadersStamp(skew: Int64) throws {
        let followerClock = trueTime.adding(milliseconds: skew)
        // The follower validates and previews with its own clock, but forwards the delay itself.
        let submit = SubmitJob(jobID: "j1", spec: JobSpec(name: "a", runAt: followerClock.adding(milliseconds: 30_000)), runID: "r1")
        let unstamped = try forwarded(.submit(submit, .afterStamp(milliseconds: 30_000)))
        var core = leader()
        let stamped = try core.resolve(unstamped, followerClock: followerClock, members: members, at: t0 + .seconds(1),
                                       wallClock: trueTime.adding(milliseconds: 1_000))
        #expect(stamped.at == trueTime.adding(milliseconds: 1_000))
        guard case .submitJob(let resolved) = stamped.command else {
            Issue.record("expected a submit, got \(stamped.command)")
            return
        }
        #expect(resolved.spec.runAt == stamped.at.adding(milliseconds: 30_000))
        #expect(resolved.jobID == "j1" && resolved.runID == "r1")  // ids come from the follower
        // Before issue #11 the follower planned with its own clock (still its fallback towards an
        // older leader, which only re-stamps the entry): the job ran `skew` off.
        guard case .submitJob(let old) = try unstamped.resolved(at: followerClock) else { return }
        #expect(old.spec.runAt?.milliseconds(since: resolved.spec.runAt ?? .zero) == skew - 1_000)
    }

    @Test("an explicit run_at is kept as given whichever clock stamps")
    func explicitRunAt() throws {
        let at = Timestamp(1_900_000_000_000)
        let unstamped = try forwarded(.submit(SubmitJob(jobID: "j", spec: JobSpec(name: "a"), runID: "r"), .at(at)))
        var core = leader()
        let stamped = try core.resolve(unstamped, members: members, at: t0, wallClock: trueTime)
        guard case .submitJob(let resolved) = stamped.command else {
            Issue.record("not a submit")
            return
        }
        #expect(resolved.spec.runAt == at)
    }

    @Test("a cron job submitted through a follower whose clock is 1 h ahead first fires after the leader's time")
    func cronFirstFireFromTheLeader() throws {
        // 08:00:00Z at the leader; the follower thinks it is 09:00:00Z and would say 09:15.
        let spec = JobSpec(name: "c", schedule: CronSchedule(expression: "15 * * * *", timezone: "Europe/Berlin"))
        let unstamped = try forwarded(.submit(SubmitJob(jobID: "c1", spec: spec, runID: "unused",
                                                        firstFireAt: trueTime.adding(milliseconds: 4_500_000)),
                                              .firstFireAfterStamp))
        var core = leader()
        let stamped = try core.resolve(unstamped, followerClock: trueTime.adding(milliseconds: 3_600_000), members: members,
                                       at: t0, wallClock: trueTime)
        guard case .submitJob(let resolved) = stamped.command else {
            Issue.record("not a submit")
            return
        }
        #expect(resolved.firstFireAt == trueTime.adding(milliseconds: 900_000))  // 08:15Z
    }

    @Test("the leader re-validates what depends on its time: a schedule with no fire after the stamp is 422 schedule")
    func noFireAfterTheStamp() throws {
        // Cron has no year field: only a stamp past the last instant the Cron module supports has no next fire.
        let spec = JobSpec(name: "c", schedule: CronSchedule(expression: "0 0 1 1 *"))
        let unstamped = UnstampedCommand.submit(SubmitJob(jobID: "c", spec: spec, runID: "u"), .firstFireAfterStamp)
        let far = Timestamp(Int64.max / 2)
        #expect(throws: UnstampedCommand.ResolveError.self) { try unstamped.resolved(at: far) }
        let batch = UnstampedCommand.batch([(SubmitJob(jobID: "a", spec: JobSpec(name: "a"), runID: "ra"), .afterStamp(milliseconds: 0)),
                                            (SubmitJob(jobID: "c", spec: spec, runID: "u"), .firstFireAfterStamp)])
        do {
            _ = try batch.resolved(at: far)
            Issue.record("expected a refusal")
        } catch {
            #expect(error.batchIndex == 1)
            #expect(error.field == "schedule")
        }
    }

    @Test("a time that does not fit its job's kind is refused, not applied")
    func kindMismatch() {
        let cron = JobSpec(name: "c", schedule: CronSchedule(expression: "* * * * *"))
        let once = JobSpec(name: "o")
        #expect(throws: UnstampedCommand.ResolveError.self) {
            try UnstampedCommand.submit(SubmitJob(jobID: "c", spec: cron, runID: "u"), .afterStamp(milliseconds: 5)).resolved(at: trueTime)
        }
        #expect(throws: UnstampedCommand.ResolveError.self) {
            try UnstampedCommand.submit(SubmitJob(jobID: "o", spec: once, runID: "u"), .firstFireAfterStamp).resolved(at: trueTime)
        }
    }

    @Test("the format gate refuses a command that needs a newer build than a member reported, naming the members")
    func gateRefuses() throws {
        var builds = MemberBuilds(probeFreshness: .milliseconds(2_500))
        builds.probe(from: "n2", formatVersion: 2, at: t0)
        // n3 was never heard from: it counts as the baseline.
        let command = Command.tick
        #expect(builds.refusal(for: command, members: members, self: "n1") == nil)  // every kind needs 1 today
        let beyond = CommandCodec.buildFormatVersion + 1
        let refusal = try #require(builds.refusal(for: command, required: beyond, members: members, self: "n1"))
        #expect(refusal.required == beyond)
        #expect(refusal.lagging.map(\.id) == ["n1", "n2", "n3"])  // this build is too old as well
        #expect(refusal.message.contains("n3 (not heard from yet, counted as format 1)"))
        #expect(refusal.message.contains("n2 (format 2)"))
        let needsTwo = try #require(builds.refusal(for: command, required: 2, members: members, self: "n1"))
        #expect(needsTwo.lagging.map(\.id) == ["n3"])
        builds.probe(from: "n3", formatVersion: 2, at: t0)
        #expect(builds.refusal(for: command, required: 2, members: members, self: "n1") == nil)
        // A learner is a member too.
        #expect(builds.refusal(for: command, required: 2, members: members.union(["l4"]), self: "n1")?.lagging.map(\.id) == ["l4"])
    }

    @Test("a DAG submit goes out with legacy task run ids while a member runs a build before format 3, URL-safe ones after")
    func downgradesForOlderMembers() throws {
        let spec = try DAGSpec.validated(name: "etl", tasks: [DAGTaskSpec(id: "a"), DAGTaskSpec(id: "b", dependsOn: ["a"])])
        let submit = Command.submitDAG(SubmitDAG(dagRunID: "d1", spec: spec))
        #expect(submit.minimumFormatVersion == CommandCodec.urlSafeTaskRunIDs)
        var builds = MemberBuilds(probeFreshness: .milliseconds(2_500))
        builds.probe(from: "n2", formatVersion: CommandCodec.buildFormatVersion, at: t0)
        builds.probe(from: "n3", formatVersion: 2, at: t0)
        #expect(builds.commonFormat(members: members, self: "n1") == 2)
        let older = try LeaderRefusal.resolve(UnstampedCommand(submit), at: trueTime, builds: builds, members: members, self: "n1")
        guard case .submitDAG(let downgraded) = older.command else { Issue.record("not a DAG submit: \(older.command)"); return }
        #expect(downgraded.taskRunIDStyle == .slash)  // not refused: spelled the way n3 decodes
        #expect(older.command.minimumFormatVersion == CommandCodec.baselineFormatVersion)
        #expect(Command.batch([submit, .tick]).compatible(withFormat: 2).minimumFormatVersion == CommandCodec.baselineFormatVersion)

        builds.probe(from: "n3", formatVersion: CommandCodec.buildFormatVersion, at: t0)
        let current = try LeaderRefusal.resolve(UnstampedCommand(submit), at: trueTime, builds: builds, members: members, self: "n1")
        guard case .submitDAG(let kept) = current.command else { Issue.record("not a DAG submit"); return }
        #expect(kept.taskRunIDStyle == .dot)
    }

    @Test("a submit with retry.max_lost_attempts goes out without it while a member runs format 3 (the old rule), with it after")
    func stripsLostCapsForOlderMembers() throws {
        let spec = JobSpec(name: "j", retry: RetryPolicy(maxAttempts: 2, maxLostAttempts: 5))
        let dag = try DAGSpec.validated(name: "etl", tasks: [DAGTaskSpec(id: "a", retry: RetryPolicy(maxLostAttempts: 5))])
        let submits: [Command] = [.submitJob(SubmitJob(jobID: "j", spec: spec, runID: "r")),
                                  .submitDAG(SubmitDAG(dagRunID: "d1", spec: dag))]
        var builds = MemberBuilds(probeFreshness: .milliseconds(2_500))
        builds.probe(from: "n2", formatVersion: CommandCodec.buildFormatVersion, at: t0)
        builds.probe(from: "n3", formatVersion: CommandCodec.urlSafeTaskRunIDs, at: t0)
        for submit in submits {
            #expect(submit.minimumFormatVersion == CommandCodec.lostAttemptCaps)
            let older = try LeaderRefusal.resolve(UnstampedCommand(submit), at: trueTime, builds: builds, members: members, self: "n1")
            #expect(!older.command.carriesLostAttemptCaps)  // not refused: the job keeps the old rule
            #expect(older.command.minimumFormatVersion <= CommandCodec.urlSafeTaskRunIDs)
            #expect(try CommandCodec.decode(CommandCodec.encode(older)) == older)
            if case .submitDAG(let kept) = older.command { #expect(kept.taskRunIDStyle == .dot) }
        }
        builds.probe(from: "n3", formatVersion: CommandCodec.buildFormatVersion, at: t0)
        for submit in submits {
            let current = try LeaderRefusal.resolve(UnstampedCommand(submit), at: trueTime, builds: builds, members: members, self: "n1")
            #expect(current.command == submit)
        }
    }

    @Test("while a member runs format 4 an edit is refused (503 upgrade) and a keyed trigger goes out without its key; the leader stamps an edit's next fire")
    func gatesJobEdits() throws {
        var builds = MemberBuilds(probeFreshness: .milliseconds(2_500))
        builds.probe(from: "n2", formatVersion: CommandCodec.buildFormatVersion, at: t0)
        builds.probe(from: "n3", formatVersion: CommandCodec.lostAttemptCaps, at: t0)
        let spec = JobSpec(name: "c", schedule: CronSchedule(expression: "0 * * * *"))
        let edit = UnstampedCommand.editRescheduling(EditJob(jobID: "c", spec: spec, expectedVersion: 1))
        #expect(throws: LeaderRefusal.self) {
            try LeaderRefusal.resolve(edit, at: trueTime, builds: builds, members: members, self: "n1")
        }
        let trigger = Command.trigger(TriggerJob(jobID: "c", runID: "r1"))
        let keyed = Command.idempotent(IdempotencyStamp(key: "k", bodyDigest: 1), trigger)
        let older = try LeaderRefusal.resolve(UnstampedCommand(keyed), at: trueTime, builds: builds, members: members, self: "n1")
        #expect(older.command == trigger)
        builds.probe(from: "n3", formatVersion: CommandCodec.buildFormatVersion, at: t0)
        #expect(try LeaderRefusal.resolve(UnstampedCommand(keyed), at: trueTime, builds: builds, members: members, self: "n1").command == keyed)
        let stamped = try LeaderRefusal.resolve(edit, at: trueTime, builds: builds, members: members, self: "n1")
        guard case .editJob(let resolved) = stamped.command else { Issue.record("not an edit: \(stamped.command)"); return }
        let next = try #require(resolved.nextFireAt)
        #expect(next > trueTime && next.milliseconds(since: trueTime) <= 3_600_000, "the first fire of the new schedule after the stamp")
    }

    @Test("a follower forwards lost caps only to a leader whose echo advertised them")
    func forwardsCapsOnlyToLeadersThatDecodeThem() throws {
        let submit = Command.submitJob(SubmitJob(jobID: "j", spec: JobSpec(name: "j", retry: RetryPolicy(maxLostAttempts: 5)), runID: "r"))
        let dag = Command.submitDAG(SubmitDAG(dagRunID: "d1", spec: try DAGSpec.validated(name: "d", tasks: [DAGTaskSpec(id: "a")])))
        var follower = NodeCore(id: "n2", settings: leader().settings, started: t0, startedWall: trueTime)
        #expect(!follower.forwardable(submit, to: "n1").carriesLostAttemptCaps)  // not heard from: assume an older build
        let probe = LeaseProbe(sequence: 1, lastEcho: 0, appliedIndex: 0, wallClockMilliseconds: trueTime.milliseconds,
                               commandFormatVersion: CommandCodec.buildFormatVersion)
        let older = LeaseEcho.answering(probe, echoID: 1, features: [.unstampedForwarding])  // a format-2 or -3 leader
        follower.echoReceived(try LeaseEcho(decoding: older.encoded()), from: "n1", at: t0)
        #expect(!follower.forwardable(submit, to: "n1").carriesLostAttemptCaps)
        // It may be format 2, which cannot decode URL-safe task run ids: they go in the old
        // spelling (every later build decodes it; the running node always did this).
        #expect(follower.forwardable(dag, to: "n1") == dag.compatible(withFormat: 2))
        #expect(follower.forwardable(dag, to: "n1") != dag)
        let current = LeaseEcho.answering(probe, echoID: 2, features: .thisBuild)
        follower.echoReceived(try LeaseEcho(decoding: current.encoded()), from: "n1", at: t0)
        #expect(follower.forwardable(submit, to: "n1") == submit)
        #expect(follower.forwardable(dag, to: "n1") == dag)
    }

    @Test("legacy pings count as format 1 unless the member probed recently; taking office forgets every report")
    func legacyPingsAndNewTerms() {
        var builds = MemberBuilds(probeFreshness: .milliseconds(2_500))
        builds.probe(from: "n2", formatVersion: 2, at: t0)
        builds.legacyPing(from: "n2", at: t0 + .seconds(1))  // this build pings next to its probes
        #expect(builds.version(of: "n2") == 2)
        builds.legacyPing(from: "n2", at: t0 + .seconds(10))  // restarted on a build before probes
        #expect(builds.version(of: "n2") == 1)
        #expect(builds.hasReported("n2"))
        var core = leader()
        _ = core.probeReceived(LeaseProbe(sequence: 1, lastEcho: 0, appliedIndex: 0, wallClockMilliseconds: trueTime.milliseconds,
                                          commandFormatVersion: 2), from: "n2", at: t0)
        #expect(core.memberBuilds.version(of: "n2") == 2)
        core.leadership(since: nil)
        core.leadership(since: t0 + .seconds(1))
        #expect(!core.memberBuilds.hasReported("n2"))
    }

    @Test("the leader answers a probe from format 2 on with a version-2 echo carrying its features, an older one with version 1")
    func echoVersions() throws {
        var core = leader()
        let newProbe = LeaseProbe(sequence: 1, lastEcho: 0, appliedIndex: 0, wallClockMilliseconds: trueTime.milliseconds,
                                  commandFormatVersion: 2)
        let oldProbe = LeaseProbe(sequence: 2, lastEcho: 0, appliedIndex: 0, wallClockMilliseconds: trueTime.milliseconds,
                                  commandFormatVersion: 1)
        guard case .sendEcho(_, let newEcho)? = core.probeReceived(newProbe, from: "n2", at: t0).first,
              case .sendEcho(_, let oldEcho)? = core.probeReceived(oldProbe, from: "n3", at: t0).first else {
            Issue.record("expected echoes")
            return
        }
        #expect(newEcho.features == .thisBuild)
        #expect(newEcho.encoded().first == 2)
        #expect(oldEcho.features == nil)
        #expect(oldEcho.encoded().first == 1)
        #expect(oldEcho.encoded().count == 1 + 1 + 1)  // version, two one-byte varints: what older builds decode
        var follower = NodeCore(id: "n2", settings: core.settings, started: t0, startedWall: trueTime)
        #expect(!follower.takesUnstampedForwards("n1"))
        follower.echoReceived(try LeaseEcho(decoding: newEcho.encoded()), from: "n1", at: t0)
        #expect(follower.takesUnstampedForwards("n1"))
        follower.echoReceived(try LeaseEcho(decoding: oldEcho.encoded()), from: "n1", at: t0)  // the leader was downgraded
        #expect(!follower.takesUnstampedForwards("n1"))
    }

    @Test("echoes and unstamped commands round-trip; truncated, extended and random bytes are errors, never traps",
          arguments: [UInt64(1), 2, 3])
    func encodings(seed: UInt64) throws {
        for echo in [LeaseEcho(sequence: 5, echoID: 6), LeaseEcho(sequence: .max, echoID: 0, features: .thisBuild),
                     LeaseEcho(sequence: 1, echoID: 2, features: PeerFeatures(rawValue: 0xff00)),
                     LeaseEcho(sequence: 3, echoID: 4, features: .thisBuild, leaderStamp: Timestamp(1_800_000_000_000))] {
            #expect(try LeaseEcho(decoding: echo.encoded()) == echo)
        }
        let spec = JobSpec(name: "c", schedule: CronSchedule(expression: "*/5 * * * *", timezone: "Asia/Tokyo"))
        let commands: [UnstampedCommand] = [
            .submit(SubmitJob(jobID: "a", spec: JobSpec(name: "a"), runID: "r"), .afterStamp(milliseconds: 30_000)),
            .submit(SubmitJob(jobID: "b", spec: JobSpec(name: "b"), runID: "r"), .at(Timestamp(-5))),
            .submit(SubmitJob(jobID: "c", spec: spec, runID: "u"), .firstFireAfterStamp),
            .batch([(SubmitJob(jobID: "a", spec: JobSpec(name: "a"), runID: "r"), .afterStamp(milliseconds: 0)),
                    (SubmitJob(jobID: "c", spec: spec, runID: "u"), .firstFireAfterStamp)]),
            UnstampedCommand(.cancelJob("j")), UnstampedCommand(.tick),
        ]
        for command in commands {
            let bytes = command.encoded()
            #expect(try UnstampedCommand(decoding: bytes) == command)
            for cut in 0..<bytes.count {
                #expect(throws: DecodeError.self) { try UnstampedCommand(decoding: Array(bytes[..<cut])) }
            }
            #expect(throws: DecodeError.self) { try UnstampedCommand(decoding: bytes + [0]) }
        }
        // Times that do not match the template's submits, and delays outside 0…100 years.
        var w = BinaryWriter()
        w.write(UnstampedCommand.wireVersion)
        w.write(CommandCodec.encode(.tick, at: .zero))
        w.writeArray([Int64(5)]) { w, delay in
            w.write(UInt8(2))
            w.write(delay)
        }
        #expect(throws: DecodeError.self) { try UnstampedCommand(decoding: w.bytes) }
        let submit = UnstampedCommand.submit(SubmitJob(jobID: "a", spec: JobSpec(name: "a"), runID: "r"), .afterStamp(milliseconds: 1))
        var negative = submit.encoded()
        negative[negative.count - 1] = 1  // zigzag 1 = -1 ms
        #expect(throws: DecodeError.self) { try UnstampedCommand(decoding: negative) }
        var random = SplitMix64(seed: seed)
        for _ in 0..<2_000 {
            let bytes = (0..<Int(random.below(40))).map { _ in UInt8(random.below(256)) }
            _ = try? UnstampedCommand(decoding: bytes)
            _ = try? LeaseEcho(decoding: bytes)
        }
    }
}
