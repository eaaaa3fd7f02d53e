import RaftCore
import RaftStorage
import SchedulerCore

extension QuorumNode {
    /// A consistent backup of the cluster (`GET /api/cluster/snapshot`, docs/operations.md):
    /// after a ReadIndex round through the leader, this node's state as of one applied index
    /// that holds every write acknowledged before the call — the same guarantee a linearizable
    /// read has, so a follower's backup is as good as the leader's. The image is encoded off the
    /// applier (``ReadExecutor/encodings``); applies go on meanwhile and are not in it.
    ///
    /// Throws ``ReplicaUnavailable`` without a leader or while this (joining) node has no cluster id.
    public func backup() async throws(ReplicaUnavailable) -> ClusterBackup {
        guard let clusterID = clusterIdentity.current else {
            throw ReplicaUnavailable("this node has no cluster id yet (a joining node before its first peer); ask another node")
        }
        try await replica.awaitLinearizable()
        let view = await stateMachine.view()
        let image = await withTaskExecutorPreference(ReadExecutor.encodings) { view.state.snapshot() }
        let status = await driver.status
        let term = store.term(at: view.index) ?? store.snapshot.flatMap { $0.index == view.index ? $0.term : nil } ?? status.term
        let header = ClusterBackup.Header(
            index: view.index.rawValue, term: term.rawValue, clusterID: clusterID,
            takenAtMilliseconds: settings.clock.wall().milliseconds, nodeID: config.node.id, membership: await driver.membership)
        logger.info("backup taken", metadata: ["index": "\(view.index.rawValue)", "image_bytes": "\(image.count)"])
        return ClusterBackup(header: header, image: image)
    }
}
