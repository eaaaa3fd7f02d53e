import NodeMetrics
import RaftCore
import Testing
import Transport

/// NodeMetrics cannot see RaftCore's and Transport's drop reasons, so it lists their labels to
/// export every series from 0; these lists must stay equal to the enums.
@Suite("Drop reason labels")
struct DropReasonLabelsTests {
    @Test("quorum_raft_dropped_messages_total exports exactly Raft.DropReason's reasons")
    func raftReasons() {
        #expect(Set(MetricNames.raftDropReasons) == Set(Raft.DropReason.allCases.map(\.rawValue)))
        #expect(MetricNames.raftDropReasons.count == Raft.DropReason.allCases.count)
    }

    @Test("quorum_transport_dropped_frames_total exports exactly Transport.FrameDropReason's reasons")
    func transportReasons() {
        #expect(Set(MetricNames.transportDropReasons) == Set(Transport.FrameDropReason.allCases.map(\.rawValue)))
        #expect(MetricNames.transportDropReasons.count == Transport.FrameDropReason.allCases.count)
    }

    @Test("every reason is a series at 0 in a fresh exposition")
    func exportedFromZero() {
        let text = QuorumMetrics().exposition()
        for reason in MetricNames.raftDropReasons {
            #expect(text.contains("quorum_raft_dropped_messages_total{reason=\"\(reason)\"} 0"), "\(reason)")
        }
        for reason in MetricNames.transportDropReasons {
            #expect(text.contains("quorum_transport_dropped_frames_total{reason=\"\(reason)\"} 0"), "\(reason)")
        }
    }
}
