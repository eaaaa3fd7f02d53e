import Foundation
import HTTPAPI

/// What doctor saw of one node over its API.
struct NodeObservation: Sendable {
    /// The node id from the config, or the URL when only `--server` named it.
    var id: String
    /// Its API base URL.
    var url: String
    /// Why `/healthz` did not answer 200; `nil` when it did.
    var unreachable: String?
    /// Whether `/readyz` answered 200 (a leader known and applied up to it).
    var ready = false
    /// Its `GET /api/cluster`, when it answered.
    var cluster: ClusterResource?
    /// Why `/api/cluster` did not answer (a 401 without a token, say), or answered with
    /// something that is not a cluster view.
    var clusterProblem: String?
    /// The status `/api/cluster` answered with, when it answered at all.
    var clusterStatus: Int?
    /// Its `GET /api/cluster/digest`: the applied index and the state digest there.
    var digest: (appliedIndex: UInt64, digest: String)?
    /// Its clock minus ours, from the response's `Date` header (1-second resolution) against
    /// the middle of the request.
    var clockOffsetSeconds: Double?
}

/// Judges a set of observations (pure): reachability, leader agreement, replication, clocks and
/// replica digests.
enum ClusterCheck {
    /// A follower further behind the leader's commit index than this is a warning.
    static let lagWarningEntries: UInt64 = 1_000
    /// Clocks further apart than this are a warning: the leader bounds the times it stamps by its
    /// peers' clocks, and cron fires and retries follow the leader's (docs/guarantees.md). The
    /// `Date` header has 1-second resolution, so smaller offsets cannot be told apart.
    static let clockWarningSeconds = 2.0

    static func findings(_ observations: [NodeObservation]) -> [DoctorFinding] {
        var findings: [DoctorFinding] = []
        let answering = observations.filter { $0.unreachable == nil }
        for node in observations {
            if let why = node.unreachable {
                findings.append(.failure("node \(node.id)", "\(node.url) does not answer: \(why)",
                                         advice: "check that the process runs and its logs; a majority keeps the cluster working meanwhile"))
            } else if !node.ready {
                findings.append(.warning("node \(node.id)", "\(node.url) is up but not ready (no leader, or still applying the log)",
                                         advice: "wait a few seconds; if it stays so, look at its log and the leader's"))
            } else {
                findings.append(.ok("node \(node.id)", "\(node.url) up and ready"))
            }
            if let problem = node.clusterProblem {
                findings.append(.warning("node \(node.id)", "GET /api/cluster: \(problem)", advice: clusterAdvice(status: node.clusterStatus)))
            }
        }
        findings += clusterIdentity(answering)
        findings += leadership(answering, unreachable: Set(observations.filter { $0.unreachable != nil }.map(\.id)))
        findings += clocks(answering)
        findings += digests(answering)
        findings += replicaChecks(answering)
        return findings
    }

    /// Every answering node must hold the same cluster id (`cluster_id` of its `/api/cluster`):
    /// nodes of two clusters refuse each other's frames, so a node showing another id never
    /// replicates this cluster's log — typically an old node started on its pre-restore (or
    /// pre-`--force-new-cluster`) data directory, or one restored from another backup or config.
    /// The odd ones out are the nodes outside the largest group (on a tie none is named). Nodes
    /// that show no id (a build before the field, or a node started with `--join` that has not
    /// heard from the cluster yet) are left out; nothing when no node shows one.
    static func clusterIdentity(_ nodes: [NodeObservation]) -> [DoctorFinding] {
        let views = nodes.compactMap { node in node.cluster.map { (id: node.id, view: $0) } }
        var byCluster: [String: [String]] = [:]
        for (id, view) in views {
            // Absent: a build before the field, or a joining node that has no id yet.
            guard let shown = view.clusterID else { continue }
            byCluster[shown, default: []].append(id)
        }
        var findings: [DoctorFinding] = []
        guard !byCluster.isEmpty else { return findings }
        if byCluster.count == 1, let only = byCluster.first {
            findings.append(.ok("cluster id", "\(only.value.count) nodes hold cluster id \(only.key)"))
            return findings
        }
        let largest = byCluster.values.map(\.count).max() ?? 0
        let groups = byCluster.sorted { ($0.value.count, $1.key) > ($1.value.count, $0.key) }
        let listed = groups.map { "\($0.key): \($0.value.sorted().joined(separator: ", "))" }.joined(separator: "; ")
        let odd = groups.filter { $0.value.count < largest }.flatMap(\.value).sorted()
        let named = odd.isEmpty ? "the nodes of the group that is not the cluster you mean" : odd.joined(separator: ", ")
        findings.append(.failure("cluster id", "nodes hold different cluster ids (\(listed)); nodes of different clusters refuse "
                                    + "each other's frames, so the odd ones take no part in this cluster",
                                 advice: "stop \(named): usually an old node started on its data directory from before a restore or "
                                    + "a --force-new-cluster; wipe its data directory and bring it back with `quorum cluster add` "
                                    + "and `quorum node --join` (docs/operations.md, \"Cluster identity\")"))
        return findings
    }

    /// The leader's replica check and the members' builds as the answering nodes' cluster views
    /// show them (the leader's view carries both): a member held back as diverged fails, mixed
    /// build formats warn (an upgrade in progress: new command kinds wait). Nothing when all is well.
    static func replicaChecks(_ nodes: [NodeObservation]) -> [DoctorFinding] {
        var findings: [DoctorFinding] = []
        var diverged: [String: ReplicaCheckResource] = [:]
        var formats: [String: UInt32] = [:]
        for view in nodes.compactMap(\.cluster) {
            for member in view.nodes {
                if let check = member.replicaCheck, check.state == "diverged" { diverged[member.id] = check }
                if let format = member.formatVersion { formats[member.id] = formats[member.id].map { max($0, format) } ?? format }
            }
        }
        for (id, check) in diverged.sorted(by: { $0.key < $1.key }) {
            findings.append(.failure("replica check", "\(id) diverged at applied index \(check.mismatchIndex.map(String.init) ?? "?"): "
                                        + "the leader's digest \(check.leaderDigest ?? "?"), \(id)'s \(check.memberDigest ?? "?"); "
                                        + "no work is dispatched to it",
                                     advice: "stop \(id), move its data directory aside for a report, start it empty so it installs "
                                        + "the leader's snapshot, then `quorum cluster clear-divergence \(id)` (docs/guarantees.md)"))
        }
        if Set(formats.values).count > 1 {
            let listed = formats.sorted { $0.key < $1.key }.map { "\($0.key) format \($0.value)" }.joined(separator: ", ")
            findings.append(.warning("upgrade", "members run different builds: \(listed)",
                                     advice: "finish the rolling upgrade one node at a time (docs/upgrades.md); writes needing "
                                        + "the newer format are refused with 503 until then"))
        }
        return findings
    }

    /// What to do when `/api/cluster` answered `status` (`nil`: no answer) instead of a view:
    /// a token only helps a 401 or 403.
    static func clusterAdvice(status: Int?) -> String {
        switch status {
        case 401, 403: "give a token with the read role (--token or $QUORUM_TOKEN) so doctor can check replication"
        case nil: "the node answered /healthz but not this: look at its log; run doctor again"
        default: "check that the URL is a Quorum node's API, not a proxy's or another service's, and that the node runs "
            + "the same version as this CLI"
        }
    }

    /// One leader everyone agrees on, and the leader's view of each member. A member doctor
    /// itself could not reach (`unreachable`, by id) counts as down even while the leader still
    /// calls it reachable (a stopped process keeps its connections open for a while).
    static func leadership(_ nodes: [NodeObservation], unreachable: Set<String> = []) -> [DoctorFinding] {
        let views = nodes.compactMap { node in node.cluster.map { (node.id, $0) } }
        guard !views.isEmpty else { return [] }
        let leaders = Set(views.map { "\($0.1.leader ?? "none") in term \($0.1.term)" })
        guard let leaderID = views.lazy.compactMap({ $0.1.leader }).first else {
            return [.failure("cluster", "no node knows a leader (\(views.count) answered)",
                             advice: "a majority of voters must be up and reach each other; start the stopped ones (docs/node.md)")]
        }
        var findings: [DoctorFinding] = []
        if leaders.count > 1 {
            let seen = views.map { "\($0.0): \($0.1.leader ?? "none") (term \($0.1.term))" }.joined(separator: ", ")
            findings.append(.warning("cluster", "nodes disagree on the leader: \(seen)",
                                     advice: "normal for a moment during an election; run doctor again, and if it persists look for a partition"))
        } else {
            findings.append(.ok("cluster", "leader \(leaderID), term \(views[0].1.term), agreed by \(views.count) nodes"))
        }
        // The leader's own view holds the match indexes.
        guard let view = views.first(where: { $0.0 == leaderID })?.1 ?? views.first(where: { $0.1.leader == leaderID })?.1 else {
            return findings
        }
        let voters = view.nodes.filter { $0.role != "learner" }
        let reachableVoters = voters.filter { ($0.reachable || $0.id == leaderID) && !unreachable.contains($0.id) }.count
        let majority = voters.count / 2 + 1
        for member in view.nodes where member.id != leaderID {
            let lag = view.commitIndex > member.matchIndex ? view.commitIndex - member.matchIndex : 0
            if !member.reachable || unreachable.contains(member.id) {
                findings.append(.warning("replication", "\(member.id) is cut off (from the leader, or from doctor)",
                                         advice: "bring \(member.id) back; until then it gets no log"))
            } else if lag > lagWarningEntries {
                findings.append(.warning("replication", "\(member.id) is \(lag) entries behind the leader's commit index \(view.commitIndex)",
                                         advice: "a slow disk or network on \(member.id), or a node catching up after a restart; check again shortly"))
            }
        }
        if reachableVoters < majority {
            findings.append(.failure("quorum", "only \(reachableVoters) of \(voters.count) voters reachable from the leader; \(majority) needed",
                                     advice: "writes stop without a majority: bring voters back first"))
        } else if reachableVoters == majority && voters.count > 1 {
            findings.append(.warning("quorum", "\(reachableVoters) of \(voters.count) voters reachable: one more failure stops writes",
                                     advice: "bring the missing voters back before any maintenance"))
        } else {
            findings.append(.ok("quorum", "\(reachableVoters) of \(voters.count) voters reachable (\(majority) needed)"))
        }
        return findings
    }

    static func clocks(_ nodes: [NodeObservation]) -> [DoctorFinding] {
        let offsets = nodes.compactMap { node in node.clockOffsetSeconds.map { (node.id, $0) } }
        guard !offsets.isEmpty else { return [] }
        let far = offsets.filter { abs($0.1) > clockWarningSeconds }
        guard far.isEmpty else {
            return far.map { id, offset in
                .warning("clock \(id)", String(format: "%+.0f s from this machine's clock", offset),
                         advice: "run NTP (chrony or systemd-timesyncd) on every node; the leader bounds what it stamps by its peers' clocks")
            }
        }
        let spread = (offsets.map(\.1).max() ?? 0) - (offsets.map(\.1).min() ?? 0)
        return [.ok("clocks", String(format: "%d nodes within ±%.0f s of this machine (1 s resolution; spread %.0f s)",
                                     offsets.count, clockWarningSeconds, spread))]
    }

    /// Nodes at the same applied index must have the same digest.
    static func digests(_ nodes: [NodeObservation]) -> [DoctorFinding] {
        let digests = nodes.compactMap { node in node.digest.map { (id: node.id, index: $0.appliedIndex, digest: $0.digest) } }
        guard digests.count > 1 else { return [] }
        let byIndex = Dictionary(grouping: digests, by: \.index)
        var findings: [DoctorFinding] = []
        var compared = 0
        for (index, group) in byIndex.sorted(by: { $0.key < $1.key }) where group.count > 1 {
            compared += group.count
            if Set(group.map(\.digest)).count > 1 {
                let seen = group.map { "\($0.id) \($0.digest)" }.joined(separator: ", ")
                findings.append(.failure("replicas", "state digests differ at applied index \(index): \(seen)",
                                         advice: "a replica diverged: stop the odd one out, keep its data directory for a report, "
                                            + "and rebuild it from its peers (docs/storage.md)"))
            }
        }
        if findings.isEmpty {
            if compared == 0 {
                findings.append(.ok("replicas", "no two nodes were at the same applied index (a busy cluster); digests not compared"))
            } else {
                findings.append(.ok("replicas", "\(compared) nodes at equal applied indexes have equal state digests"))
            }
        }
        return findings
    }
}
