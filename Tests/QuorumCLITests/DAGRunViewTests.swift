import Foundation
import HTTPAPI
@testable import quorum
import Testing

/// `quorum dags ID`: the task table, and why each queued task waits.
@Suite("quorum dags ID view")
struct DAGRunViewTests {
    @Test("a queued task no node can take gets a 'waiting: TASK: REASON' line under the table; the others none")
    func waitingLines() throws {
        let json = #"""
        {"id":"d1","name":"etl","state":"running","job_id":null,"created_at":"2026-12-01T09:00:00.000Z","finished_at":null,
         "tasks":[{"id":"train","state":"queued","depends_on":[],"attempt":0,"started_at":null,"finished_at":null,"run_id":"d1.train",
                   "tries":0,"lost_attempts":0,"reason":"no node with gpu=true"},
                  {"id":"load","state":"pending","depends_on":["train"],"attempt":0,"started_at":null,"finished_at":null,"run_id":"d1.load",
                   "tries":0,"lost_attempts":0}]}
        """#
        let run = try JSONDecoder().decode(DAGRunResource.self, from: Data(json.utf8))
        let text = ResourceViews.dagRun(run)
        #expect(text.hasSuffix("\nwaiting: train: no node with gpu=true"), "\(text)")
        #expect(!text.contains("waiting: load"))
    }
}
