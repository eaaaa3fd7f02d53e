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

    /// Runs `plan`; returns the descriptions of the faults applied, in order, with their windows.
    func run(_ plan: [PlannedFault]) async -> [(description: String, start: Double, end: Double)] {
        var applied: [(description: String, start: Double, end: Double)] = []
        for fault in plan {
            let wait = fault.start - recorder.now()
            if wait > 0 { try? await Task.sleep(for: .milliseconds(Int(wait * 1000))) }
            if Task.isCancelled { break }
            let victims = await victims(of: fault)
            let description = "\(fault.kind.rawValue) [\(victims.joined(separator: ","))]"
                + (fault.targetsLeader ? " (leader)" : "")
            let op = recorder.invoke(process: -1, "nemesis", node: victims.joined(separator: ","), detail: "start " + description)
            let started = recorder.now()
            await apply(fault.kind, victims)
            recorder.complete(op, .ok, process: -1, "nemesis", node: victims.joined(separator: ","), detail: "applied " + description)
            try? await Task.sleep(for: .milliseconds(Int(fault.length * 1000)))
            let healOp = recorder.invoke(process: -1, "nemesis", node: victims.joined(separator: ","), detail: "heal " + description)
            await heal(fault.kind, victims)
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
        if chosen.isEmpty {
            // Aimed at the leader while none was known: hit a node the schedule picks instead.
            chosen = [ids[Int(fault.start * 10) % ids.count]]
        }
        let limit = fault.kind == .restartAll ? ids.count : unsafe ? ids.count / 2 + 1 : max(1, (ids.count - 1) / 2)
        return Array(chosen.prefix(limit))
    }

    private func currentLeader() async -> String? {
        for id in cluster.ids where cluster.isRunning(id) {
            let outcome = await http.send(.GET, "\(cluster.apiURLs[id] ?? "")/api/cluster", timeout: .seconds(1))
            if let leader = outcome.object?["leader"] as? String { return leader }
        }
        return nil
    }

    private func apply(_ kind: NemesisKind, _ victims: [String]) async {
        switch kind {
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
        case .restartAll:
            for id in cluster.ids { await cluster.kill(id) }
            restart(cluster.ids)
        }
    }

    private func heal(_ kind: NemesisKind, _ victims: [String]) async {
        switch kind {
        case .kill: restart(victims)
        case .stop: for id in victims { cluster.signal(id, SIGCONT) }
        case .partition, .oneWay: cluster.healLinks()
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
        for id in cluster.ids { cluster.signal(id, SIGCONT) }
        restart(cluster.ids.filter { !cluster.isRunning($0) })
    }
}
