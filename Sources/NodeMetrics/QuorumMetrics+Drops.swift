import Prometheus
import Synchronization

/// `quorum_raft_dropped_messages_total{reason}` and `quorum_transport_dropped_frames_total{reason}`:
/// one counter per reason, the known reasons exported from 0 so a drop shows as a rate, not as a
/// series appearing out of nothing. Reasons come from closed enums in RaftCore and Transport, so
/// the number of series stays bounded.
final class DropCounters: Sendable {
    private let registry: PrometheusCollectorRegistry
    private let name: String
    private let counters: Mutex<[String: Counter]>

    init(registry: PrometheusCollectorRegistry, name: String, reasons: [String]) {
        self.registry = registry
        self.name = name
        var counters: [String: Counter] = [:]
        for reason in reasons {
            counters[reason] = registry.makeCounter(descriptor: QuorumMetrics.descriptor(name), labels: [("reason", reason)])
        }
        self.counters = Mutex(counters)
    }

    func add(_ count: Int, reason: String) {
        guard count > 0 else { return }
        let counter = counters.withLock { counters in
            if let counter = counters[reason] { return counter }
            let counter = registry.makeCounter(descriptor: QuorumMetrics.descriptor(name), labels: [("reason", reason)])
            counters[reason] = counter
            return counter
        }
        counter.increment(by: Int64(count))
    }
}

extension QuorumMetrics {
    /// Counts one peer Raft message dropped by validation in
    /// `quorum_raft_dropped_messages_total{reason}` (`reason` is a `Raft.DropReason` raw value).
    public func raftMessageDropped(reason: String) {
        raftDrops.add(1, reason: reason)
    }

    /// Adds `count` frames the peer transport could not send or deliver to
    /// `quorum_transport_dropped_frames_total{reason}` (`reason` is a `Transport.FrameDropReason`
    /// raw value).
    public func transportFramesDropped(_ count: Int, reason: String) {
        transportDrops.add(count, reason: reason)
    }
}

/// Which TLS credentials a reload without restart replaced: `target` of `quorum_tls_reloads_total`.
public enum TLSReloadTarget: String, Sendable, CaseIterable {
    /// The peer transport's `[tls] ca`, `cert`, `key`.
    case peer
    /// The HTTP API's `[api] tls_cert`, `tls_key`.
    case api
}

extension QuorumMetrics {
    /// Counts one reload of `target`'s TLS files in `quorum_tls_reloads_total{target,outcome}`:
    /// `ok` when the new files were swapped in, `error` when they were refused (the node keeps
    /// the previous credentials; a rising `error` count means a broken file is waiting on disk).
    public func tlsReloaded(_ target: TLSReloadTarget, succeeded: Bool) {
        tlsReloads.withLock { $0[Self.tlsReloadKey(target, succeeded)] }?.increment()
    }

    static func tlsReloadKey(_ target: TLSReloadTarget, _ succeeded: Bool) -> String {
        "\(target.rawValue)/\(succeeded ? "ok" : "error")"
    }

    /// Every `quorum_tls_reloads_total` series, exported from 0 (the label sets are closed).
    static func makeTLSReloadCounters(_ registry: PrometheusCollectorRegistry) -> [String: Counter] {
        var counters: [String: Counter] = [:]
        for target in TLSReloadTarget.allCases {
            for succeeded in [true, false] {
                counters[tlsReloadKey(target, succeeded)] = registry.makeCounter(
                    descriptor: descriptor(MetricNames.tlsReloads),
                    labels: [("target", target.rawValue), ("outcome", succeeded ? "ok" : "error")])
            }
        }
        return counters
    }
}
