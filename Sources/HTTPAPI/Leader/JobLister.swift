import SchedulerCore

/// `GET /api/jobs` over a ``SchedulerState``: the state machine filters by state and one
/// label; further labels are applied here, reading on until the page is full.
public enum JobLister {
    /// One page of jobs matching `query`, newest first.
    public static func list(_ query: JobListQuery, in state: SchedulerState) throws(APIError) -> ListPage<JobResource> {
        var cursor = try self.cursor(query.cursor)
        let limit = max(1, query.limit)
        let first = query.labels.first.map { KeyValue($0.key, $0.value) }
        let rest = query.labels.dropFirst().map { KeyValue($0.key, $0.value) }
        var items: [Job] = []
        while true {
            let page = state.listJobs(filter: JobFilter(state: query.state, label: first), limit: limit, cursor: cursor)
            for (index, job) in page.items.enumerated() where rest.allSatisfy({ job.spec.labels.contains($0) }) {
                items.append(job)
                if items.count == limit {
                    let more = index < page.items.count - 1 || page.nextCursor != nil
                    return ListPage(items: items.map { ResourceMapper.job($0, in: state) },
                                    nextCursor: more ? String(job.createdSeq) : nil)
                }
            }
            guard let next = page.nextCursor else {
                return ListPage(items: items.map { ResourceMapper.job($0, in: state) }, nextCursor: nil)
            }
            cursor = next
        }
    }

    /// Checks a cursor: the state machine's cursors are decimal sequence numbers.
    public static func cursor(_ text: String?) throws(APIError) -> String? {
        guard let text else { return nil }
        guard !text.isEmpty, text.utf8.count <= 19, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), UInt64(text) != nil else {
            throw .invalid(field: "cursor", "not a cursor from this API; pass next_cursor of the previous page")
        }
        return text
    }
}
