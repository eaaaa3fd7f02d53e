import Foundation
import DeterministicRandom

/// A nemesis: one kind of fault `quorum chaos` can inject.
public enum NemesisKind: String, CaseIterable, Hashable, Sendable {
    /// SIGKILL a node; restart it (same data directory) at the end of the window.
    case kill
    /// SIGSTOP a node; SIGCONT it at the end of the window (a pause: its peers see silence).
    case stop
    /// Cut every link both ways between a minority and the rest (sometimes the leader alone).
    case partition
    /// Cut a node's outgoing links only: it hears everyone, nobody hears it.
    case oneWay = "one-way"
    /// Cut every link between nodes that are not neighbours on a seeded ring (a line for 3 nodes):
    /// every node still sees a majority counting itself, but no majority sees one another.
    case bridge
    /// Skew one node's wall clock (the ChaosWallClock preload): a jump ahead or back, or a fast clock; real time again at the end.
    case clock
    /// SIGKILL every node and start them all again at once.
    case restartAll = "restart-all"
    /// SIGKILL a follower and delete its data directory; start it empty at the end of the window
    /// (the documented repair: the leader brings it back with a new incarnation on its own).
    case wipe

    /// Parses `kill,stop,partition`; an unknown name throws naming it and the known ones.
    public static func parseList(_ text: String) throws(ChaosError) -> [NemesisKind] {
        var kinds: [NemesisKind] = []
        for name in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !name.isEmpty {
            guard let kind = NemesisKind(rawValue: name) else {
                throw ChaosError.invalid("--nemesis: unknown nemesis '\(name)'; known: "
                                         + NemesisKind.allCases.map(\.rawValue).joined(separator: ", "))
            }
            if !kinds.contains(kind) { kinds.append(kind) }
        }
        return kinds
    }
}

/// One planned fault: what, to whom, when it starts and how long it lasts.
public struct PlannedFault: Hashable, Sendable {
    /// The nemesis.
    public var kind: NemesisKind
    /// The nodes it hits (indexes into the node list; for a partition, the minority side; for a
    /// bridge, every node in ring order).
    public var targets: [Int]
    /// Whether the target is "whoever leads when the fault starts" rather than `targets`.
    public var targetsLeader: Bool
    /// Seconds after the workload started.
    public var start: Double
    /// Seconds it lasts before the nemesis heals it.
    public var length: Double

    /// A fault.
    public init(kind: NemesisKind, targets: [Int], targetsLeader: Bool, start: Double, length: Double) {
        self.kind = kind
        self.targets = targets
        self.targetsLeader = targetsLeader
        self.start = start
        self.length = length
    }

    /// For the report: `partition of [n2] (leader) at 12.0s for 5.0s`.
    public func describe(nodeIDs: [String]) -> String {
        let names = targets.map { $0 < nodeIDs.count ? nodeIDs[$0] : "?" }
        let who = targetsLeader ? "the leader" : "[\(names.joined(separator: ","))]"
        return "\(kind.rawValue) of \(who) at \(format(start))s for \(format(length))s"
    }

    private func format(_ seconds: Double) -> String { String(Double(Int(seconds * 10)) / 10) }
}

/// The seeded nemesis schedule: faults one at a time (the enabled nemeses in turn, a seeded
/// order each round), each followed by a calm period, so at most
/// one minority is faulty at any moment (a cluster of N survives (N-1)/2 faulty members). With
/// `unsafe`, kills, stops and partitions may take a majority (quorum loss, healed at the window's end).
public enum FaultPlan {
    /// The faults for a run of `duration` seconds over `nodes` nodes using `kinds`.
    public static func make(seed: UInt64, nodes: Int, duration: Double, kinds: [NemesisKind], unsafe: Bool) -> [PlannedFault] {
        guard !kinds.isEmpty, nodes > 0 else { return [] }
        var random = SplitMix64(seed: seed ^ 0x6e65_6d65_7369_7321)
        let minority = max(1, (nodes - 1) / 2)
        let most = unsafe ? nodes / 2 + 1 : minority
        var faults: [PlannedFault] = []
        var time = 3.0 + Double(random.below(20)) / 10
        var bag: [NemesisKind] = []
        while true {
            // Every enabled nemesis in turn, in a seeded order per round: a short run still
            // exercises each of them.
            if bag.isEmpty {
                bag = kinds
                for index in bag.indices.reversed() where index > 0 { bag.swapAt(index, random.below(index + 1)) }
            }
            let kind = bag.removeFirst()
            let length = kind == .restartAll ? 0.5 : 3.0 + Double(random.below(40)) / 10
            guard time + length < duration - 2 else { break }
            let targetsLeader = kind != .restartAll && kind != .wipe && kind != .bridge && random.chance(40)
            var targets: [Int] = []
            switch kind {
            case .restartAll:
                targets = Array(0..<nodes)
            case .bridge:
                // The ring order: every node, shuffled.
                targets = Array(0..<nodes)
                for index in targets.indices.reversed() where index > 0 { targets.swapAt(index, random.below(index + 1)) }
            case .oneWay, .wipe, .clock:
                targets = [random.below(nodes)]
            case .kill, .stop, .partition:
                let count = 1 + random.below(most)
                var pool = Array(0..<nodes)
                for _ in 0..<count {
                    targets.append(pool.remove(at: random.below(pool.count)))
                }
                targets.sort()
            }
            if targetsLeader { targets = Array(targets.prefix(max(0, targets.count - 1))) }
            faults.append(PlannedFault(kind: kind, targets: targets, targetsLeader: targetsLeader, start: time, length: length))
            time += length + 2.0 + Double(random.below(30)) / 10
        }
        return faults
    }

    /// The node pairs a bridge cuts (both ways): those not neighbours on `ring` — for 5 nodes a
    /// ring, each node keeping its two neighbours; for 3 a line, the two ends cut from each other
    /// and the middle node the bridge (a 3-ring would cut nothing).
    public static func bridgeCuts(ring: [String]) -> [(String, String)] {
        var cuts: [(String, String)] = []
        for i in ring.indices {
            for j in ring.indices where j > i {
                let distance = j - i
                let neighbours = distance == 1 || (ring.count > 3 && distance == ring.count - 1)
                if !neighbours { cuts.append((ring[i], ring[j])) }
            }
        }
        return cuts
    }
}
