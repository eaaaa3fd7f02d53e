import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Plays a ``FaultPlan`` against a ``LocalCluster``: applies each fault at its time, heals it at
/// the end of its window, and records both in the history (`f` = `nemesis`, `process` = -1).
struct Nemesis: Sendable {
    let cluster: LocalCluster
    let http: ChaosHTTP
    let recorder: HistoryRecorder
    let unsafe: Bool
    let pidFile: String

    /// Runs `plan` until the workload ends at `end` (the recorder's clock; no fault starts
    /// after it); returns the descriptions of the faults applied, in order, with their windows.
    ///
    /// A fault can start later than planned — a `wipe` window lasts until the node is repaired
    /// — and a fault started after the clients stopped measures nothing but an idle cluster: in
    /// a `wipe` run with slow repairs, faults went on for 150 s after the workload, and their
    /// "write gaps" of 27–35 s were such windows (docs/chaos.md, the `wipe` findings).
    func run(_ plan: [PlannedFault], until end: Double = .infinity) async -> [(description: String, start: Double, end: Double)] {
        var applied: [(description: String, start: Double, end: Double)] = []
        for fault in plan {
            let wait = fault.start - recorder.now()
            if wait > 0 { try? await Task.sleep(for: .milliseconds(Int(wait * 1000))) }
            if Task.isCancelled || recorder.now() >= end { break }
            let victims = await victims(of: fault)
            let description = "\(fault.kind.rawValue) [\(victims.joined(separator: ","))]"
                + (fault.targetsLeader ? " (leader)" : "")
                + (fault.kind == .clock ? " " + FakeClock.skew(forFaultAt: fault.start).description : "")
            let op = recorder.invoke(process: -1, "nemesis", node: victims.joined(separator: ","), detail: "start " + description)
            let started = recorder.now()
            let incarnations = fault.kind == .wipe ? await leaderView().incarnations : [:]
            await apply(fault.kind, victims, at: fault.start)
            recorder.complete(op, .ok, process: -1, "nemesis", node: victims.joined(separator: ","), detail: "applied " + description)
            try? await Task.sleep(for: .milliseconds(Int(fault.length * 1000)))
            let healOp = recorder.invoke(process: -1, "nemesis", node: victims.joined(separator: ","), detail: "heal " + description)
            await heal(fault.kind, victims, incarnationsBefore: incarnations)
            recorder.complete(healOp, .ok, process: -1, "nemesis", node: victims.joined(separator: ","), detail: "healed " + description)
            applied.append((description: description, start: started, end: recorder.now()))
        }
        return applied
    }

    /// The nodes a fault hits: its planned targets, plus the current leader when it targets the
    /// leader, never more than a minority unless `unsafe`.
    private func victims(of fault: PlannedFault) async -> [String] {
        let ids = cluster.ids
        var chosen = fault.targets.filter { $0 < ids.count }.map { ids[$0] }
        if fault.targetsLeader, let leader = await currentLeader() {
            chosen.removeAll { $0 == leader }
            chosen.insert(leader, at: 0)
        }
        if fault.kind == .wipe, let leader = await currentLeader(), chosen == [leader] {
            // Only a follower is wiped: the next node after the leader instead.
            chosen = [ids[((ids.firstIndex(of: leader) ?? 0) + 1) % ids.count]]
        }
        if chosen.isEmpty {
            // Aimed at the leader while none was known: hit a node the schedule picks instead.
            chosen = [ids[Int(fault.start * 10) % ids.count]]
        }
        let limit = fault.kind == .restartAll || fault.kind == .bridge ? ids.count : unsafe ? ids.count / 2 + 1 : max(1, (ids.count - 1) / 2)
        return Array(chosen.prefix(limit))
    }

    /// The leader's view of the members: each one's recorded incarnation, role and match index,
    /// and the leader's commit index (empty when no leader answers).
    private func leaderView() async -> (incarnations: [String: String], members: [String: (role: String, match: Int)], commit: Int) {
        guard let leader = await currentLeader(),
              let view = await http.send(.GET, "\(cluster.apiURLs[leader] ?? "")/api/cluster", timeout: .seconds(1)).object,
              let nodes = view["nodes"] as? [[String: Any]] else { return ([:], [:], Int.max) }
        var incarnations: [String: String] = [:]
        var members: [String: (role: String, match: Int)] = [:]
        for node in nodes {
            guard let id = node["id"] as? String else { continue }
            incarnations[id] = node["incarnation"] as? String
            members[id] = (node["role"] as? String ?? "?", node["match_index"] as? Int ?? 0)
        }
        return (incarnations, members, view["commit_index"] as? Int ?? Int.max)
    }

    /// Waits until the leader lists `id` as a follower again with a new recorded incarnation
    /// (not `oldIncarnation`) and a match index within 10 entries of its commit index, or
    /// `timeout` passes (recorded either way).
    private func waitRepaired(_ id: String, oldIncarnation: String?, timeout: Duration) async {
        let started = recorder.now()
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let view = await leaderView()
            if let member = view.members[id], member.role == "follower", let incarnation = view.incarnations[id],
               incarnation != oldIncarnation, member.match + 10 >= view.commit {
                _ = recorder.invoke(process: -1, "nemesis", node: id,
                                    detail: "\(id) repaired after wipe in \(String(format: "%.1f", recorder.now() - started))s")
                return
            }
            try? await Task.sleep(for: .milliseconds(200))
        }
        _ = recorder.invoke(process: -1, "nemesis", node: id, detail: "\(id) not repaired \(timeout) after wipe")
    }

    private func currentLeader() async -> String? {
        for id in cluster.ids where cluster.isRunning(id) {
            let outcome = await http.send(.GET, "\(cluster.apiURLs[id] ?? "")/api/cluster", timeout: .seconds(1))
            if let leader = outcome.object?["leader"] as? String { return leader }
        }
        return nil
    }

    private func apply(_ kind: NemesisKind, _ victims: [String], at start: Double) async {
        switch kind {
        case .clock:
            for id in victims { cluster.setClock(id, FakeClock.skew(forFaultAt: start).spec) }
        case .kill:
            for id in victims { await cluster.kill(id) }
        case .stop:
            for id in victims { cluster.signal(id, SIGSTOP) }
        case .partition:
            let rest = cluster.ids.filter { !victims.contains($0) }
            for a in victims {
                for b in rest {
                    cluster.link(a, b)?.cut()
                    cluster.link(b, a)?.cut()
                }
            }
        case .oneWay:
            for a in victims {
                for b in cluster.ids where b != a { cluster.link(a, b)?.cut() }
            }
        case .bridge:
            for (a, b) in FaultPlan.bridgeCuts(ring: victims) {
                cluster.link(a, b)?.cut()
                cluster.link(b, a)?.cut()
            }
        case .restartAll:
            for id in cluster.ids { await cluster.kill(id) }
            restart(cluster.ids)
        case .wipe:
            for id in victims {
                await cluster.kill(id)
                cluster.wipe(id)
            }
        }
    }

    private func heal(_ kind: NemesisKind, _ victims: [String], incarnationsBefore: [String: String]) async {
        switch kind {
        case .kill: restart(victims)
        case .wipe:
            restart(victims)
            // A wiped node stays faulty until the leader has it back as a voter with its new
            // incarnation recorded and caught up: only then may the next fault start.
            for id in victims { await waitRepaired(id, oldIncarnation: incarnationsBefore[id], timeout: .seconds(30)) }
        case .stop: for id in victims { cluster.signal(id, SIGCONT) }
        case .partition, .oneWay, .bridge: cluster.healLinks()
        case .clock: cluster.resetClocks()
        case .restartAll: restart(cluster.ids)
        }
    }

    private func restart(_ ids: [String]) {
        for id in ids {
            do {
                try cluster.start(id)
            } catch {
                _ = recorder.invoke(process: -1, "nemesis", node: id, detail: "could not restart \(id): \(error)")
            }
        }
        try? cluster.pidList().write(toFile: pidFile, atomically: true, encoding: .utf8)
    }

    /// Undoes everything: links restored, stopped nodes continued, exited nodes started.
    func healAll() {
        cluster.healLinks()
        cluster.resetClocks()
        for id in cluster.ids { cluster.signal(id, SIGCONT) }
        restart(cluster.ids.filter { !cluster.isRunning($0) })
    }
}
