import HTTPAPI
import SchedulerCore
import SchedulerPlanning
import Synchronization
import Testing

/// A replica on a node whose clock differs from its leader's: it plans with `nodeClock` (its
/// `now()`), and "the leader" (a ``LocalReplica`` on `leaderClock`) resolves and applies what
/// it proposes — as a Raft follower forwarding unstamped commands does. Records what it was sent.
final class SkewedFollower: SchedulerReplica {
    let leader: LocalReplica
    let nodeClock: @Sendable () -> Timestamp
    let sent = Mutex<[UnstampedCommand]>([])

    init(nodeClock: @escaping @Sendable () -> Timestamp, leaderClock: @escaping @Sendable () -> Timestamp) {
        self.nodeClock = nodeClock
        leader = LocalReplica(clock: leaderClock)
    }

    func now() -> Timestamp { nodeClock() }

    func propose(_ command: Command) async throws(APIError) -> [SchedulerEvent] { await leader.propose(command) }

    func propose(_ unstamped: UnstampedCommand) async throws(APIError) -> [SchedulerEvent] {
        sent.withLock { $0.append(unstamped) }
        return try await leader.propose(unstamped)  // resolves with the leader's clock
    }

    func read<T: Sendable>(_ consistency: ReadConsistency,
                           _ body: @Sendable (SchedulerState) throws(APIError) -> T) async throws(APIError) -> T {
        try await leader.read(consistency, body)
    }

    func cluster() async throws(APIError) -> ClusterResource { await leader.cluster() }
    func checkReady() async throws(APIError) {}
}

@Suite("The API forwards relative times; the leader's clock resolves them")
struct LeaderResolvesTimesTests {
    /// 09:00Z at the leader; the receiving node is an hour ahead.
    let leaderTime = startOfTest
    var nodeTime: Timestamp { leaderTime.adding(milliseconds: 3_600_000) }

    func service() -> (ReplicatedSchedulerService<SkewedFollower>, SkewedFollower) {
        let (leaderTime, nodeTime) = (leaderTime, nodeTime)
        let replica = SkewedFollower(nodeClock: { nodeTime }, leaderClock: { leaderTime })
        return (ReplicatedSchedulerService(replica: replica, ids: SequentialIDGenerator()), replica)
    }

    @Test("delay_seconds on a node 1 h ahead: run_at is the leader's time + the delay")
    func delay() async throws {
        let (service, replica) = service()
        let job = try await service.submitJob(JobSubmission(name: "later", delaySeconds: .integer(30)), idempotency: nil).value
        let stored = try #require(await replica.leader.snapshot().job(JobID(job.id)))
        #expect(stored.spec.runAt == leaderTime.adding(milliseconds: 30_000))
        #expect(replica.sent.withLock { $0.last?.times } == [.afterStamp(milliseconds: 30_000)])
    }

    @Test("a cron job (and a batch's) first fire on a node 1 h ahead comes from the leader's time")
    func cron() async throws {
        let (service, replica) = service()
        // 09:00Z at the leader: "30 * * * *" first fires at 09:30Z (the node would say 10:30Z).
        let job = try await service.submitJob(JobSubmission(name: "c", type: "cron", schedule: "30 * * * *"), idempotency: nil).value
        let state = await replica.leader.snapshot()
        #expect(state.job(JobID(job.id))?.nextFireAt == leaderTime.adding(milliseconds: 1_800_000))
        let ids = try await service.submitBatch([JobSubmission(name: "a", delaySeconds: .integer(5)),
                                                 JobSubmission(name: "b", schedule: "30 * * * *")], idempotency: nil).value
        let after = await replica.leader.snapshot()
        #expect(after.job(JobID(ids[0]))?.spec.runAt == leaderTime.adding(milliseconds: 5_000))
        #expect(after.job(JobID(ids[1]))?.nextFireAt == leaderTime.adding(milliseconds: 1_800_000))
        #expect(replica.sent.withLock { $0.last?.times } == [.afterStamp(milliseconds: 5_000), .firstFireAfterStamp])
    }
}
