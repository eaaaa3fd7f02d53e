import RaftCore

extension Simulation {
    /// What happened in one step, kept for failure reports (formatted only when printed).
    public enum StepRecord: Sendable, CustomStringConvertible {
        /// A message arrived and was handled.
        case delivered(Raft.Message)
        /// A message was dropped on arrival (cut link or crashed recipient).
        case dropped(Raft.Message, reason: String)
        /// A node's role or leader changed.
        case leadership(Raft.NodeID, Raft.LeaderState)
        /// A node's disk synced; its durable log now ends at the index.
        case synced(Raft.NodeID, hardState: Raft.HardState?, lastIndex: Raft.LogIndex)
        /// A node applied entries through an index.
        case applied(Raft.NodeID, through: Raft.LogIndex, lastTerm: Raft.Term)
        /// A client proposal was accepted at an index, or refused.
        case proposed(Raft.NodeID, value: UInt64, result: String)
        /// A write was acknowledged to its client.
        case acknowledged(Raft.NodeID, value: UInt64, index: Raft.LogIndex)
        /// A read was asked, confirmed or served.
        case read(Raft.NodeID, String)
        /// A fault or a healing action.
        case fault(String)
        /// A node crashed, losing its unsynced writes.
        case crashed(Raft.NodeID, lostWrites: Int, reason: String)
        /// A node restarted from its durable state.
        case restarted(Raft.NodeID, hardState: Raft.HardState, lastIndex: Raft.LogIndex)
        /// A snapshot was taken or installed.
        case snapshot(Raft.NodeID, String)

        /// One line for the report.
        public var description: String {
            switch self {
            case .delivered(let message): "deliver \(Self.describe(message))"
            case .dropped(let message, let reason): "drop (\(reason)) \(Self.describe(message))"
            case .leadership(let node, let state): "\(node) is now \(state)"
            case .synced(let node, let hardState, let lastIndex):
                "\(node) fsync: log through \(lastIndex)" + (hardState.map { " hard state \($0.term) vote=\($0.vote?.rawValue ?? "-") commit=\($0.commit)" } ?? "")
            case .applied(let node, let through, let lastTerm): "\(node) applied through \(through) (\(lastTerm))"
            case .proposed(let node, let value, let result): "client proposes v\(value) at \(node): \(result)"
            case .acknowledged(let node, let value, let index): "\(node) acknowledges v\(value) at \(index)"
            case .read(let node, let what): "read at \(node): \(what)"
            case .fault(let what): "FAULT \(what)"
            case .crashed(let node, let lost, let reason): "CRASH \(node) \(reason) (lost \(lost) unsynced writes)"
            case .restarted(let node, let hardState, let lastIndex):
                "RESTART \(node) from \(hardState.term) vote=\(hardState.vote?.rawValue ?? "-") commit=\(hardState.commit) log through \(lastIndex)"
            case .snapshot(let node, let what): "\(node) snapshot \(what)"
            }
        }

        static func describe(_ message: Raft.Message) -> String {
            let head = "\(message.from)->\(message.to) \(message.term)"
            switch message.body {
            case .voteRequest(let request):
                return "\(head) \(request.isPreVote ? "PreVote" : "RequestVote") last=\(request.lastLogIndex)/\(request.lastLogTerm)"
            case .voteResponse(let response):
                return "\(head) \(response.isPreVote ? "PreVote" : "Vote") \(response.granted ? "granted" : "rejected")"
            case .append(let append):
                let range = append.entries.isEmpty ? "none"
                    : "\(append.entries[0].index)...\(append.entries[append.entries.count - 1].index) terms \(Set(append.entries.map(\.term.rawValue)).sorted())"
                return "\(head) Append prev=\(append.prevLogIndex)/\(append.prevLogTerm) entries=\(range) commit=\(append.leaderCommit)"
            case .appendResponse(let response):
                switch response {
                case .success(let match): return "\(head) AppendOK match=\(match)"
                case .rejected(let index, let hintIndex, let hintTerm): return "\(head) AppendReject at \(index) hint=\(hintIndex)/\(hintTerm)"
                }
            case .heartbeat(let heartbeat): return "\(head) Heartbeat commit=\(heartbeat.commit) read#\(heartbeat.readSequence)"
            case .heartbeatResponse(let response): return "\(head) HeartbeatOK read#\(response.readSequence)"
            case .installSnapshot(let chunk):
                return "\(head) InstallSnapshot \(chunk.metadata.index)/\(chunk.metadata.term) offset=\(chunk.offset)\(chunk.isLast ? " last" : "")"
            case .snapshotResponse(let response): return "\(head) SnapshotProgress \(response.index) bytes=\(response.receivedBytes)"
            case .readIndexRequest(let context): return "\(head) ReadIndex? \(context)"
            case .readIndexResponse(let context, let index): return "\(head) ReadIndex \(context) = \(index?.description ?? "refused")"
            case .timeoutNow: return "\(head) TimeoutNow"
            }
        }
    }
}
