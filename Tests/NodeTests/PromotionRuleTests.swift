import Node
import RaftCore
import Testing

@Suite("When a learner may be promoted (Raft thesis §4.2.1)")
struct PromotionRuleTests {
    @Test("caught up when the match index is within the slack of the commit index", arguments: [
        (match: UInt64(0), commit: UInt64(0), slack: UInt64(64), expected: true),
        (match: 0, commit: 10, slack: 64, expected: false),
        (match: 936, commit: 1_000, slack: 64, expected: true),
        (match: 935, commit: 1_000, slack: 64, expected: false),
        (match: 1_000, commit: 1_000, slack: 0, expected: true),
        (match: 999, commit: 1_000, slack: 0, expected: false),
        (match: 5, commit: 3, slack: UInt64.max, expected: true),
    ])
    func rule(match: UInt64, commit: UInt64, slack: UInt64, expected: Bool) {
        #expect(PromotionRule.isCaughtUp(match: Raft.LogIndex(match), commit: Raft.LogIndex(commit), slack: slack) == expected)
    }
}
