import RaftCore

extension Simulation {
    /// A directed link between two nodes.
    public struct Link: Hashable, Sendable, CustomStringConvertible {
        /// The sending node.
        public var from: Raft.NodeID
        /// The receiving node.
        public var to: Raft.NodeID
        /// The link from `from` to `to`.
        public init(from: Raft.NodeID, to: Raft.NodeID) {
            self.from = from
            self.to = to
        }
        /// `n1→n2`.
        public var description: String { "\(from)→\(to)" }
    }

    /// How unreliable the network is while faults are on.
    public struct NetworkFaults: Sendable, Hashable {
        /// The probability that a message is lost.
        public var lossRate: Double
        /// The probability that a message is delivered twice (each copy with its own delay).
        public var duplicationRate: Double
        /// The shortest delivery delay.
        public var minimumDelay: Time
        /// The longest delivery delay; messages with different delays overtake each other.
        public var maximumDelay: Time

        /// Creates a fault profile.
        public init(lossRate: Double, duplicationRate: Double, minimumDelay: Time, maximumDelay: Time) {
            precondition(minimumDelay <= maximumDelay, "NetworkFaults: minimumDelay \(minimumDelay) > maximumDelay \(maximumDelay)")
            self.lossRate = lossRate
            self.duplicationRate = duplicationRate
            self.minimumDelay = minimumDelay
            self.maximumDelay = maximumDelay
        }

        /// A reliable network with small, varying delays (messages may still be reordered).
        public static let healthy = NetworkFaults(lossRate: 0, duplicationRate: 0, minimumDelay: 5, maximumDelay: 20)
    }

    /// The simulated network: which links are cut and how long each message takes.
    ///
    /// It does not hold messages; the cluster schedules each delivery it returns in its event
    /// queue and asks `isOpen` again on delivery, so a partition that starts while a message is
    /// in flight drops it.
    public struct SimulatedNetwork: Sendable {
        /// The current delivery behaviour.
        public var faults: NetworkFaults
        /// Directed links that currently drop everything.
        public private(set) var cutLinks: Set<Link> = []

        /// A network with no cut links.
        public init(faults: NetworkFaults = .healthy) {
            self.faults = faults
        }

        /// Whether a message can currently travel from `from` to `to`.
        public func isOpen(from: Raft.NodeID, to: Raft.NodeID) -> Bool {
            from == to || !cutLinks.contains(Link(from: from, to: to))
        }

        /// The delays after which copies of one message sent now arrive: empty when it is lost
        /// or its link is cut, two entries when it is duplicated.
        public func deliveryDelays(from: Raft.NodeID, to: Raft.NodeID, random: inout SeededRandom) -> [Time] {
            guard isOpen(from: from, to: to) else { return [] }
            if random.chance(faults.lossRate) { return [] }
            let copies = random.chance(faults.duplicationRate) ? 2 : 1
            return (0..<copies).map { _ in random.uniform(in: faults.minimumDelay...faults.maximumDelay) }
        }

        /// Cuts the one-way link `from → to` (the reverse direction keeps working).
        public mutating func cut(from: Raft.NodeID, to: Raft.NodeID) {
            cutLinks.insert(Link(from: from, to: to))
        }

        /// Cuts both directions between `a` and `b`.
        public mutating func cutBothWays(_ a: Raft.NodeID, _ b: Raft.NodeID) {
            cut(from: a, to: b)
            cut(from: b, to: a)
        }

        /// Cuts `node` off from every other node, both ways.
        public mutating func isolate(_ node: Raft.NodeID, from nodes: [Raft.NodeID]) {
            for other in nodes where other != node { cutBothWays(node, other) }
        }

        /// Splits the cluster: nodes in different groups cannot talk, both ways.
        public mutating func partition(_ groups: [[Raft.NodeID]]) {
            for (offset, group) in groups.enumerated() {
                for other in groups[(offset + 1)...] {
                    for a in group { for b in other { cutBothWays(a, b) } }
                }
            }
        }

        /// Restores one directed link.
        public mutating func restore(_ link: Link) {
            cutLinks.remove(link)
        }

        /// Restores every link.
        public mutating func heal() {
            cutLinks.removeAll()
        }
    }
}
